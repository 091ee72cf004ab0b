# METADATA
# title: Regression
# description: |
#   A model does not get worse than the version it replaces: the same model on
#   the base branch (input.base) and its parent of the same model. The metrics,
#   their direction and tolerance live in data.modelgate.config.regression.
package modelgate.regression

import data.modelgate.lib

cfg := lib.config.regression

# METADATA
# title: Regression against the base branch
# description: |
#   Compared with the same model on the base branch, no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_base contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	some name, rule in cfg.metrics
	old := input.base.spec.metrics[name]
	new := input.manifest.spec.metrics[name]
	worse(rule, old, new)
	msg := sprintf("%s regressed against the base branch: %v -> %v (%s)", [name, old, new, tolerance_text(rule)])
}

# METADATA
# title: Regression against the parent
# description: |
#   Compared with a parent model (of the same model name when
#   regression.parents is "same_model", any parent when "all"), no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_parent contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	some parent, facts in input.graph.parent_manifests
	compared(parent)
	some name, rule in cfg.metrics
	old := facts.metrics[name]
	new := input.manifest.spec.metrics[name]
	worse(rule, old, new)
	msg := sprintf("%s regressed against parent %s: %v -> %v (%s)", [name, parent, old, new, tolerance_text(rule)])
}

compared(_) if cfg.parents == "all"

compared(parent) if {
	cfg.parents == "same_model"
	lib.name_of(parent) == lib.name
}

worse(rule, old, new) if {
	rule.direction == "decrease_is_bad"
	old - new > allowance(rule, old)
}

worse(rule, old, new) if {
	rule.direction == "increase_is_bad"
	new - old > allowance(rule, old)
}

allowance(rule, old) := rule.tolerance * abs(old) if rule.relative

allowance(rule, _) := rule.tolerance if not rule.relative

tolerance_text(rule) := sprintf("tolerance %v%%", [rule.tolerance * 100]) if rule.relative

tolerance_text(rule) := sprintf("tolerance %v", [rule.tolerance]) if not rule.relative
