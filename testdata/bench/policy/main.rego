# The policy both engines run in the governance benchmark: the same checks a
# conftest user would write against the manifest file itself (required
# fields, model card, licence allowlist, risk tier, thresholds by tier, a
# canary stage, digest format). It reads only the manifest's own fields, so
# conftest and modelgate do the same work on the same files.
package main

import rego.v1

required := ["owner", "name", "version"]

allowed_licenses := {"apache-2.0", "mit", "bsd-3-clause"}

thresholds := {
	"minimal": {"f1": 0.6, "latency_p99_ms": 500},
	"limited": {"f1": 0.7, "latency_p99_ms": 200},
	"high": {"f1": 0.85, "latency_p99_ms": 100},
}

deny contains msg if {
	some field in required
	not input.metadata[field]
	msg := sprintf("metadata.%s is required", [field])
}

deny contains msg if {
	count(object.get(input.spec.governance, "intended_use", "")) < 10
	msg := "model card: intended_use is missing"
}

deny contains msg if {
	not lower(input.spec.governance.license) in allowed_licenses
	msg := sprintf("license %s is not allowed", [input.spec.governance.license])
}

deny contains msg if {
	input.spec.governance.risk_tier == "unacceptable"
	msg := "unacceptable risk"
}

deny contains msg if {
	limit := thresholds[input.spec.governance.risk_tier]
	input.spec.metrics.f1 < limit.f1
	msg := sprintf("f1 %v below %v", [input.spec.metrics.f1, limit.f1])
}

deny contains msg if {
	limit := thresholds[input.spec.governance.risk_tier]
	input.spec.metrics.latency_p99_ms > limit.latency_p99_ms
	msg := sprintf("latency %v above %v", [input.spec.metrics.latency_p99_ms, limit.latency_p99_ms])
}

deny contains msg if {
	input.spec.governance.risk_tier == "high"
	not canary
	msg := "high risk needs a canary stage"
}

canary if {
	some stage in input.spec.rollout.stages
	stage.traffic <= 10
}

deny contains msg if {
	not regex.match(`^sha256:[a-f0-9]{64}$`, input.spec.artifact.digest)
	msg := "artifact digest is not sha256"
}

warn contains msg if {
	input.spec.lifecycle.stage == "development"
	msg := "still in development"
}
