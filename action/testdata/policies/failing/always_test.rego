package failing_test

test_fails if {
	1 == 2
}
