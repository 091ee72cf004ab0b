# METADATA
# title: Models policy
# description: Package-level annotation; not a rule title.
package modelgate.acme

# METADATA
# title: Latency budget
# description: |
#   The p99 latency must stay within the budget of data.limits.latency_ms.
# custom:
#   severity: warning
deny_latency contains {"msg": msg, "path": "spec.metrics.latency_p99_ms"} if {
	input.spec.metrics.latency_p99_ms > data.limits.latency_ms
	msg := sprintf("latency_p99_ms %v exceeds %v", [input.spec.metrics.latency_p99_ms, data.limits.latency_ms])
}

# METADATA
# title: Stages
deny contains {"msg": "first stage must be small", "path": ["spec", "rollout", "stages", 0, "traffic"], "rule": "ROLL-1"} if {
	input.spec.rollout.stages[0].traffic > 10
}

deny contains {"msg": "missing card", "path": "spec.governance.intended_use", "severity": "info"} if {
	not input.spec.governance.intended_use
}

warn contains "unknown path" if {
	input.kind == "Model"
}

deny_now contains msg if {
	time.now_ns() > time.parse_rfc3339_ns("2030-01-01T00:00:00Z")
	msg := "the clock is past 2030"
}
