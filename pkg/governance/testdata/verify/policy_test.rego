package main_test

import data.main

test_big_denied if {
	main.deny == {"big"} with input as {"size": 11}
}

test_small_allowed_but_wrong if {
	print("deny is", main.deny)
	main.deny == {"big"} with input as {"size": 1}
}

conflict := 1 if input.size

conflict := 2 if input.size

test_error if {
	conflict == 1 with input as {"size": 1}
}

todo_test_later if {
	false
}

test_small_allowed if {
	main.deny == set() with input as {"size": 1}
}
