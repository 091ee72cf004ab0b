# Conftest-style policies in package main, written the way conftest users
# write them: bare and suffixed rules, string and object messages.
package main

import rego.v1

frameworks := {f | some f in data.allowed.frameworks}

# A bare deny with a string message.
deny contains msg if {
	not frameworks[input.spec.framework]
	msg := sprintf("framework %v is not allowed (allowed: %s)", [input.spec.framework, concat(", ", sort(data.allowed.frameworks))])
}

# A suffixed deny with an object message.
deny_missing_owner contains {"msg": msg, "path": "metadata.owner"} if {
	not input.metadata.owner
	msg := sprintf("%s@%s has no owner", [input.metadata.name, input.metadata.version])
}

# A violation with extra metadata in its message object.
violation contains {"msg": msg, "details": {"f1": f1, "min": data.thresholds.f1}} if {
	f1 := input.spec.metrics.f1
	f1 < data.thresholds.f1
	msg := sprintf("f1 %v is below %v", [f1, data.thresholds.f1])
}

# A bare warn, one message per metric over its limit.
warn contains msg if {
	some name, limit in data.thresholds.max
	value := input.spec.metrics[name]
	value > limit
	msg := sprintf("%s %v is over %v", [name, value, limit])
}

# A suffixed warn that iterates over a list.
warn_stages contains msg if {
	some i, stage in input.spec.rollout.stages
	stage.traffic > 50
	i == 0
	msg := sprintf("first stage sends %v %% of the traffic", [stage.traffic])
}

# Iterating over input itself: every top-level key.
deny_unknown_field contains msg if {
	some key, _ in input
	not key in {"apiVersion", "kind", "metadata", "spec"}
	msg := sprintf("unknown top-level field %s", [key])
}
