package main

import data.modelgate.context

# The manifest's own fields, whatever they are named.
deny contains sprintf("top-level field %s", [k]) if {
	some k, _ in input
	not k in {"apiVersion", "kind", "metadata", "spec"}
}

warn contains sprintf("the manifest's now is %v, modelgate's %s", [input.now, context.now]) if input.now

# A rule that reads the context alone: evaluated per document, never once
# for all of them.
change := context.change

warn contains sprintf("change %s of %s", [change, context.file])

warn contains sprintf("conftest file %s in %s", [data.conftest.file.name, data.conftest.file.dir])

warn contains sprintf("data.modelgate holds %s", [concat(",", sort(keys))]) if {
	keys := {k | some k, _ in data.modelgate}
}
