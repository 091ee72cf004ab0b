# METADATA
# title: Metric thresholds
# description: |
#   Offline metrics meet the thresholds of the model's risk tier:
#   data.modelgate.config.thresholds.<tier> over thresholds.default, each
#   metric with a min and/or a max.
package modelgate.metrics

import data.modelgate.config
import data.modelgate.lib

# tier_name is the key of the model's thresholds: its tier, or "default"
# when the tier has none.
tier_name := lib.tier if {
	config.thresholds[lib.tier]
} else := "default"

# tier_limits are the thresholds of each tier, merged over the defaults (a
# tier whose thresholds are not an object gets the defaults). They read
# data alone, so the engine computes them once, not per manifest.
tier_limits := {tier: merged_limits(own) | some tier, own in config.thresholds}

merged_limits(own) := object.union(config.thresholds.default, own) if is_object(own)

merged_limits(own) := config.thresholds.default if not is_object(own)

# tier_mins and tier_maxs keep, per tier, the metrics with a min or a max:
# the rules below visit only those.
tier_mins := {tier: {name: limit.min | some name, limit in limits} | some tier, limits in tier_limits}

tier_maxs := {tier: {name: limit.max | some name, limit in limits} | some tier, limits in tier_limits}

# limits are the thresholds of the model's tier, merged over the defaults.
limits := tier_limits[tier_name]

metrics := object.get(input, ["spec", "metrics"], {})

# METADATA
# title: Metric below its minimum
# description: A metric with a min threshold (F1, say) is at least that value.
deny_below_min contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	reported := metrics
	some name, bound in tier_mins[tier_name]
	value := reported[name]
	value < bound
	is_number(value)
	msg := sprintf("%s %v is below the minimum %v for risk tier %s", [name, value, bound, tier_name])
}

# METADATA
# title: Metric above its maximum
# description: A metric with a max threshold (latency p99, memory, cost per call) is at most that value.
deny_above_max contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	reported := metrics
	some name, bound in tier_maxs[tier_name]
	value := reported[name]
	value > bound
	is_number(value)
	msg := sprintf("%s %v is above the maximum %v for risk tier %s", [name, value, bound, tier_name])
}

# METADATA
# title: Metric missing
# description: Every metric that has a threshold for the model's tier is reported under spec.metrics.
warn_missing contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	reported := metrics
	some name, _ in limits
	object.get(reported, name, null) == null
	msg := sprintf("metric %s is not reported: risk tier %s has a threshold for it", [name, tier_name])
}
