package main

level := "a" if input.kind == "Model"

level := "b" if input.kind == "Model"

deny contains msg if {
	level == "a"
	msg := "unreachable"
}

warn contains "other rules still report" if {
	input.kind == "Model"
}
