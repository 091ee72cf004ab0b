package main_test

import data.main

test_sklearn_denied if {
	count(main.deny) == 1 with input as {"metadata": {"name": "m"}, "spec": {"framework": "sklearn"}}
}
