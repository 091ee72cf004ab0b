package modelgate.regression_test

import data.modelgate.fixtures as fx
import data.modelgate.regression

with_base(patches) := json.patch(fx.with_context([{"op": "replace", "path": "/base", "value": fx.manifest}]), patches)

test_no_regression if {
	ctx := with_base([])
	count(regression.deny_against_base) == 0 with input as ctx.manifest with data.modelgate.context as ctx
	count(regression.deny_against_parent) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_f1_drop_beyond_tolerance_against_base if {
	ctx := with_base([{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": 0.93}])
	result := regression.deny_against_base with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "f1 regressed against the base branch: 0.95 -> 0.93 (tolerance 0.01)", "path": "spec.metrics.f1"}}
}

test_f1_drop_at_tolerance_accepted if {
	ctx := with_base([{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": 0.94}])
	count(regression.deny_against_base) == 0 with input as ctx.manifest with data.modelgate.context as ctx
}

test_latency_increase_relative if {
	ok := with_base([{"op": "replace", "path": "/manifest/spec/metrics/latency_p99_ms", "value": 49}])
	count(regression.deny_against_base) == 0 with input as ok.manifest with data.modelgate.context as ok
	slow := with_base([{"op": "replace", "path": "/manifest/spec/metrics/latency_p99_ms", "value": 50}])
	result := regression.deny_against_base with input as slow.manifest with data.modelgate.context as slow
	result == {{"msg": "latency_p99_ms regressed against the base branch: 45 -> 50 (tolerance 10%)", "path": "spec.metrics.latency_p99_ms"}}
}

test_improvements_are_not_regressions if {
	better := with_base([
		{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": 0.99},
		{"op": "replace", "path": "/manifest/spec/metrics/latency_p99_ms", "value": 10},
	])
	count(regression.deny_against_base) == 0 with input as better.manifest with data.modelgate.context as better
}

test_no_base_no_comparison if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/metrics/f1", "value": 0.1}])
	count(regression.deny_against_base) == 0 with input as ctx.manifest with data.modelgate.context as ctx
}

test_regression_against_parent if {
	inp := fx.with_manifest([{"op": "replace", "path": "/spec/metrics/latency_p99_ms", "value": 60}])
	result := regression.deny_against_parent with input as inp.manifest with data.modelgate.context as inp
	result == {{"msg": "latency_p99_ms regressed against parent fraud-detector@3.1.0: 44 -> 60 (tolerance 10%)", "path": "spec.metrics.latency_p99_ms"}}
}

test_parent_of_another_model_only_when_configured if {
	inp := fx.with_context([
		{"op": "add", "path": "/graph/parent_manifests/bert-large@1.0.0", "value": {"license": "apache-2.0", "stage": "production", "metrics": {"f1": 0.99}}},
	])
	count(regression.deny_against_parent) == 0 with input as inp.manifest with data.modelgate.context as inp
	count(regression.deny_against_parent) == 1 with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.parents as "all"
}

test_tolerance_from_data if {
	inp := with_base([{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": 0.94}])
	count(regression.deny_against_base) == 1 with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.metrics.f1.tolerance as 0.001
}

test_negative_tolerance_flags_an_unchanged_metric if {
	inp := with_base([])
	result := regression.deny_against_base with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.metrics.f1.tolerance as -0.01
	result == {{"msg": "f1 regressed against the base branch: 0.95 -> 0.95 (tolerance -0.01)", "path": "spec.metrics.f1"}}
}

test_unknown_direction_is_not_compared if {
	inp := with_base([{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": 0.1}])
	count(regression.deny_against_base) == 0 with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.metrics.f1.direction as "sideways"
}

test_metrics_that_are_not_numbers_are_not_compared if {
	inp := with_base([{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": "0.1"}])
	count(regression.deny_against_base) == 0 with input as inp.manifest with data.modelgate.context as inp
	sets := with_base([
		{"op": "replace", "path": "/manifest/spec/metrics/f1", "value": ["a"]},
		{"op": "replace", "path": "/base/spec/metrics/f1", "value": ["a", "b"]},
	])
	count(regression.deny_against_base) == 0 with input as sets.manifest with data.modelgate.context as sets
}

test_relative_tolerance_against_parent_of_any_model if {
	inp := fx.with_context([
		{"op": "add", "path": "/graph/parent_manifests/bert-large@1.0.0", "value": {"license": "apache-2.0", "stage": "production", "metrics": {"latency_p99_ms": 20, "f1": 0.9}}},
	])
	result := regression.deny_against_parent with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.parents as "all"
	result == {{"msg": "latency_p99_ms regressed against parent bert-large@1.0.0: 20 -> 45 (tolerance 10%)", "path": "spec.metrics.latency_p99_ms"}}
}

test_no_parent_comparison_when_parents_is_none if {
	inp := fx.with_manifest([{"op": "replace", "path": "/spec/metrics/latency_p99_ms", "value": 60}])
	count(regression.deny_against_parent) == 0 with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.regression.parents as "none"
}

test_metric_decreasing_when_increase_is_bad if {
	inp := with_base([{"op": "replace", "path": "/manifest/spec/metrics/latency_p99_ms", "value": 1}])
	count(regression.deny_against_base) == 0 with input as inp.manifest with data.modelgate.context as inp
	absolute := with_base([{"op": "replace", "path": "/manifest/spec/metrics/latency_p99_ms", "value": 46}])
	count(regression.deny_against_base) == 1 with input as absolute.manifest with data.modelgate.context as absolute
		with data.modelgate.config.regression.metrics.latency_p99_ms as {"direction": "increase_is_bad", "tolerance": 0.5}
}
