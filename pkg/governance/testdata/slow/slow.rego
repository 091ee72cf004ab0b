package main

# Counts to a billion: far longer than any time limit.
deny_slow contains msg if {
	n := count([i | some i in numbers.range(1, 1000000000); i > 0])
	msg := sprintf("counted %d", [n])
}

deny_fast contains "fast rule still reports" if {
	input.kind == "Model"
}
