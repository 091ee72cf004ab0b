package main

import rego.v1

# A named exception, as conftest's examples write it.
exception contains rules if {
	input.metadata.labels.exempt == "owner"
	rules := ["missing_owner"]
}

# [""] silences the bare rules: deny, violation and warn.
exception contains rules if {
	input.metadata.labels.exempt == "all"
	rules := [""]
}

# Several names in one exception.
exception contains rules if {
	input.metadata.labels.exempt == "stages-and-fields"
	rules := ["stages", "unknown_field"]
}
