package main

warn contains "traced" if {
	print("checking", input.metadata.name)
	input.kind == "Model"
}
