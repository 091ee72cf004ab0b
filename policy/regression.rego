# METADATA
# title: Regression
# description: |
#   A model does not get worse than the version it replaces: the same model on
#   the base branch (input.base) and its parent of the same model. The metrics,
#   their direction and tolerance live in data.modelgate.config.regression: a
#   relative tolerance is a fraction of the old value.
package modelgate.regression

import data.modelgate.config
import data.modelgate.lib

# sign turns a change into a worsening: positive is worse.
sign := {"increase_is_bad": 1, "decrease_is_bad": -1}

# METADATA
# title: Regression against the base branch
# description: |
#   Compared with the same model on the base branch, no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_base contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	base := input.base.spec.metrics
	some name, rule in config.regression.metrics
	old := base[name]
	new := input.manifest.spec.metrics[name]
	worse(rule, new - old, old)
	msg := sprintf("%s regressed against the base branch: %v -> %v (%s)", [name, old, new, tolerance_text(rule)])
}

# METADATA
# title: Regression against the parent
# description: |
#   Compared with a parent model (of the same model name when
#   regression.parents is "same_model", any parent when "all"), no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_parent contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	config.regression.parents == "all"
	some parent, facts in input.graph.parent_manifests
	some name, rule in config.regression.metrics
	old := facts.metrics[name]
	new := input.manifest.spec.metrics[name]
	worse(rule, new - old, old)
	msg := sprintf("%s regressed against parent %s: %v -> %v (%s)", [name, parent, old, new, tolerance_text(rule)])
}

deny_against_parent contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	config.regression.parents == "same_model"
	some parent, facts in input.graph.parent_manifests
	startswith(parent, lib.name_at)
	some name, rule in config.regression.metrics
	old := facts.metrics[name]
	new := input.manifest.spec.metrics[name]
	worse(rule, new - old, old)
	msg := sprintf("%s regressed against parent %s: %v -> %v (%s)", [name, parent, old, new, tolerance_text(rule)])
}

tolerance_text(rule) := sprintf("tolerance %v%%", [rule.tolerance * 100]) if rule.relative

tolerance_text(rule) := sprintf("tolerance %v", [rule.tolerance]) if not rule.relative

# worse holds when a change of a metric (new - old) moved it the bad way by
# more than the rule's tolerance.
worse(rule, change, old) if {
	rule.relative
	sign[rule.direction] * change > rule.tolerance * abs(old)
}

worse(rule, change, _) if {
	not rule.relative
	sign[rule.direction] * change > rule.tolerance
}
