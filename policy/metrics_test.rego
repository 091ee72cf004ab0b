package modelgate.metrics_test

import data.modelgate.fixtures as fx
import data.modelgate.metrics

metric(name, value) := fx.with_manifest([{"op": "replace", "path": concat("/", ["/spec/metrics", name]), "value": value}])

test_metrics_within_high_risk_thresholds if {
	every rule in [metrics.deny_below_min, metrics.deny_above_max, metrics.warn_missing] {
		count(rule) == 0
	} with input as fx.good
}

test_f1_below_tier_minimum if {
	result := metrics.deny_below_min with input as metric("f1", 0.85)
	result == {{"msg": "f1 0.85 is below the minimum 0.9 for risk tier high", "path": "spec.metrics.f1"}}
}

test_lower_tier_uses_its_own_thresholds if {
	inp := json.patch(metric("f1", 0.85), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "limited"}])
	count(metrics.deny_below_min) == 0 with input as inp
}

test_unlisted_tier_uses_default_thresholds if {
	inp := json.patch(metric("f1", 0.65), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "minimal"}])
	result := metrics.deny_below_min with input as inp
	fx.messages(result) == {"f1 0.65 is below the minimum 0.7 for risk tier default"}
}

test_maxima if {
	every name, value in {"latency_p99_ms": 101, "memory_mb": 5000, "cost_per_call_usd": 0.01} {
		result := metrics.deny_above_max with input as metric(name, value)
		fx.paths(result) == {concat(".", ["spec.metrics", name])}
	}
}

test_latency_message if {
	result := metrics.deny_above_max with input as metric("latency_p99_ms", 150)
	fx.messages(result) == {"latency_p99_ms 150 is above the maximum 100 for risk tier high"}
}

test_thresholds_from_data if {
	count(metrics.deny_above_max) == 1 with input as fx.good
		with data.modelgate.config.thresholds.high.latency_p99_ms as {"max": 40}
}

test_missing_metric_warned if {
	inp := fx.with_manifest([{"op": "remove", "path": "/spec/metrics/cost_per_call_usd"}])
	result := metrics.warn_missing with input as inp
	result == {{"msg": "metric cost_per_call_usd is not reported: risk tier high has a threshold for it", "path": "spec.metrics.cost_per_call_usd"}}
}
