package main

warn contains "printed" if {
	print("kind is", input.kind)
	input.kind == "Model"
}
