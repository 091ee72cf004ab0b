package modelgate.authz

# An organization's own rule, added to the default ones.
deny contains {"msg": "no deployments on Fridays"} if {
	input.command.name in {"canary", "promote"}
	input.friday
}
