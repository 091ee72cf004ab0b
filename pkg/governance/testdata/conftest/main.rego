package main

# An old-style (Rego v0) conftest policy, unchanged.

deny[msg] {
	input.spec.framework == "sklearn"
	msg := sprintf("framework %s is not allowed", [input.spec.framework])
}

warn[msg] {
	not input.metadata.labels.team
	msg := "metadata.labels.team is missing"
}

deny_owner[msg] {
	not input.metadata.owner
	msg := {"msg": "metadata.owner is required", "path": "metadata.owner"}
}

violation[{"msg": msg, "path": "spec.metrics.f1", "details": {"f1": f1}}] {
	f1 := input.spec.metrics.f1
	f1 < 0.5
	msg := "f1 below 0.5"
}

warn_excepted[msg] {
	msg := "always warns unless excepted"
}

exception[rules] {
	input.metadata.labels.exempt == "true"
	rules := ["excepted"]
}

exception[rules] {
	input.metadata.labels.bare == "true"
	rules := [""]
}

exception[rule] {
	input.metadata.labels.plain == "true"
	rule := "excepted"
}
