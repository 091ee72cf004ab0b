# METADATA
# title: Metric thresholds
# description: |
#   Offline metrics meet the thresholds of the model's risk tier:
#   data.modelgate.config.thresholds.<tier> over thresholds.default, each
#   metric with a min and/or a max.
package modelgate.metrics

import data.modelgate.config
import data.modelgate.lib

# limits are the thresholds of the model's tier, merged over the defaults.
limits := object.union(config.thresholds.default, config.thresholds[lib.tier]) if {
	config.thresholds[lib.tier]
} else := config.thresholds.default

tier_name := lib.tier if {
	config.thresholds[lib.tier]
} else := "default"

metrics := object.get(input.manifest, ["spec", "metrics"], {})

# METADATA
# title: Metric below its minimum
# description: A metric with a min threshold (F1, say) is at least that value.
deny_below_min contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	some name, limit in limits
	value := metrics[name]
	value < limit.min
	is_number(value)
	msg := sprintf("%s %v is below the minimum %v for risk tier %s", [name, value, limit.min, tier_name])
}

# METADATA
# title: Metric above its maximum
# description: A metric with a max threshold (latency p99, memory, cost per call) is at most that value.
deny_above_max contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	some name, limit in limits
	value := metrics[name]
	value > limit.max
	is_number(value)
	msg := sprintf("%s %v is above the maximum %v for risk tier %s", [name, value, limit.max, tier_name])
}

# METADATA
# title: Metric missing
# description: Every metric that has a threshold for the model's tier is reported under spec.metrics.
warn_missing contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	some name, _ in limits
	object.get(metrics, name, null) == null
	msg := sprintf("metric %s is not reported: risk tier %s has a threshold for it", [name, tier_name])
}
