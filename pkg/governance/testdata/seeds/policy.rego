package main

# Read data alone: computed once per engine.
limit := data.cfg.limit

doubled := limit * 2

missing := data.cfg.nothing

# Read input, the clock, print or conflict: computed per document.
f1 := input.spec.metrics.f1

clock := time.now_ns()

printed := x if {
	x := data.cfg.limit
	print("limit", x)
}

conflicting := 1 if data.cfg.limit

conflicting := 2 if data.cfg.limit

nested := f1 + limit

# One definition reads input: the rule's value does too.
default gate := "closed"

gate := "open" if input.kind == "Model"

level := 1 if data.cfg.limit > 100

level := 2 if input.kind == "Model"

fallback := 1 if {
	data.cfg.limit > 100
} else := input.kind

uses_gate := concat("-", [gate, "x"])

deny contains msg if {
	input.spec.metrics.latency_p99_ms > doubled
	msg := sprintf("latency above %v", [doubled])
}

deny contains msg if {
	raised := doubled with data.cfg.limit as 100
	input.spec.metrics.latency_p99_ms > raised
	msg := sprintf("with: latency above %v", [raised])
}

warn contains "no value" if not missing

violation contains "conflict" if conflicting

warn_gate contains sprintf("gate %s, level %v, fallback %s", [uses_gate_value, level, fallback]) if {
	uses_gate_value := gate
	uses_gate == "open-x"
}
