package modelgate.metrics_test

import data.modelgate.fixtures as fx
import data.modelgate.metrics

metric(name, value) := fx.with_manifest([{"op": "replace", "path": concat("/", ["/spec/metrics", name]), "value": value}])

test_metrics_within_high_risk_thresholds if {
	every rule in [metrics.deny_below_min, metrics.deny_above_max, metrics.warn_missing] {
		count(rule) == 0
	} with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_f1_below_tier_minimum if {
	ctx := metric("f1", 0.85)
	result := metrics.deny_below_min with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "f1 0.85 is below the minimum 0.9 for risk tier high", "path": "spec.metrics.f1"}}
}

test_lower_tier_uses_its_own_thresholds if {
	inp := json.patch(metric("f1", 0.85), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "limited"}])
	count(metrics.deny_below_min) == 0 with input as inp.manifest with data.modelgate.context as inp
}

test_unlisted_tier_uses_default_thresholds if {
	inp := json.patch(metric("f1", 0.65), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "minimal"}])
	result := metrics.deny_below_min with input as inp.manifest with data.modelgate.context as inp
	fx.messages(result) == {"f1 0.65 is below the minimum 0.7 for risk tier default"}
}

test_maxima if {
	every name, value in {"latency_p99_ms": 101, "memory_mb": 5000, "cost_per_call_usd": 0.01} {
		ctx := metric(name, value)
		result := metrics.deny_above_max with input as ctx.manifest with data.modelgate.context as ctx
		fx.paths(result) == {concat(".", ["spec.metrics", name])}
	}
}

test_latency_message if {
	ctx := metric("latency_p99_ms", 150)
	result := metrics.deny_above_max with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"latency_p99_ms 150 is above the maximum 100 for risk tier high"}
}

test_thresholds_from_data if {
	count(metrics.deny_above_max) == 1 with input as fx.good.manifest with data.modelgate.context as fx.good
		with data.modelgate.config.thresholds.high.latency_p99_ms as {"max": 40}
}

test_missing_metric_warned if {
	inp := fx.with_manifest([{"op": "remove", "path": "/spec/metrics/cost_per_call_usd"}])
	result := metrics.warn_missing with input as inp.manifest with data.modelgate.context as inp
	result == {{"msg": "metric cost_per_call_usd is not reported: risk tier high has a threshold for it", "path": "spec.metrics.cost_per_call_usd"}}
}

tier(name, patches) := json.patch(fx.with_manifest(patches), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": name}])

test_tier_without_thresholds_uses_defaults if {
	ctx := tier("extreme", [{"op": "replace", "path": "/spec/metrics/f1", "value": 0.65}])
	result := metrics.deny_below_min with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"f1 0.65 is below the minimum 0.7 for risk tier default"}
}

test_missing_tier_uses_defaults if {
	inp := json.patch(fx.with_manifest([{"op": "replace", "path": "/spec/metrics/f1", "value": 0.65}]), [{"op": "remove", "path": "/manifest/spec/governance/risk_tier"}])
	fx.messages(metrics.deny_below_min) == {"f1 0.65 is below the minimum 0.7 for risk tier default"} with input as inp.manifest with data.modelgate.context as inp
}

test_tier_thresholds_not_an_object_mean_the_defaults if {
	inp := tier("odd", [{"op": "replace", "path": "/spec/metrics/f1", "value": 0.65}])
	result := metrics.deny_below_min with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.thresholds.odd as 5
	fx.messages(result) == {"f1 0.65 is below the minimum 0.7 for risk tier odd"}
	count(metrics.deny_below_min) == 1 with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.thresholds.odd as false
	fx.messages(metrics.deny_below_min) == {"f1 0.65 is below the minimum 0.7 for risk tier default"} with input as inp.manifest with data.modelgate.context as inp
		with data.modelgate.config.thresholds.odd as false
}

test_tier_threshold_merges_with_the_default_of_the_same_metric if {
	high := tier("limited", [{"op": "replace", "path": "/spec/metrics/f1", "value": 0.995}])
	fx.messages(metrics.deny_above_max) == {"f1 0.995 is above the maximum 0.99 for risk tier limited"} with input as high.manifest with data.modelgate.context as high
		with data.modelgate.config.thresholds.limited as {"f1": {"max": 0.99}}
	low := tier("limited", [{"op": "replace", "path": "/spec/metrics/f1", "value": 0.65}])
	fx.messages(metrics.deny_below_min) == {"f1 0.65 is below the minimum 0.7 for risk tier limited"} with input as low.manifest with data.modelgate.context as low
		with data.modelgate.config.thresholds.limited as {"f1": {"max": 0.99}}
}

test_default_tier_thresholds_without_defaults if {
	inp := tier("extreme", [{"op": "replace", "path": "/spec/metrics/f1", "value": 0.1}])
	every rule in [metrics.deny_below_min, metrics.deny_above_max, metrics.warn_missing] {
		count(rule) == 0
	} with input as inp.manifest with data.modelgate.context as inp with data.modelgate.config.thresholds as {"high": {"f1": {"min": 0.9}}}
}

test_metric_of_the_wrong_type if {
	inp := fx.with_manifest([{"op": "replace", "path": "/spec/metrics/f1", "value": "high"}])
	count(metrics.deny_below_min) == 0 with input as inp.manifest with data.modelgate.context as inp
	count(metrics.warn_missing) == 0 with input as inp.manifest with data.modelgate.context as inp
	nulled := fx.with_manifest([{"op": "replace", "path": "/spec/metrics/f1", "value": null}])
	fx.paths(metrics.warn_missing) == {"spec.metrics.f1"} with input as nulled.manifest with data.modelgate.context as nulled
}

test_metrics_not_an_object if {
	inp := fx.with_manifest([{"op": "replace", "path": "/spec/metrics", "value": [0.1]}])
	every rule in [metrics.deny_below_min, metrics.deny_above_max, metrics.warn_missing] {
		count(rule) == 0
	} with input as inp.manifest with data.modelgate.context as inp
	missing := fx.with_manifest([{"op": "remove", "path": "/spec/metrics"}])
	count(metrics.warn_missing) == 4 with input as missing.manifest with data.modelgate.context as missing
}
