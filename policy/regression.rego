# METADATA
# title: Regression
# description: |
#   A model does not get worse than the version it replaces: the same model on
#   the base branch (data.modelgate.context.base) and its parent of the same
#   model. The metrics, their direction and tolerance live in
#   data.modelgate.config.regression: a relative tolerance is a fraction of
#   the old value.
package modelgate.regression

import data.modelgate.config
import data.modelgate.context
import data.modelgate.lib

# sign turns a change into a worsening: positive is worse.
sign := {"increase_is_bad": 1, "decrease_is_bad": -1}

# absolute and relative map the compared metrics, by kind of tolerance, to
# their sign. Like bad_moves below, they read data alone: the engine
# computes them once, not per manifest.
absolute := {name: sign[rule.direction] | some name, rule in config.regression.metrics; not rule.relative}

relative := {name: sign[rule.direction] | some name, rule in config.regression.metrics; rule.relative}

# bad_moves[name] holds the outcomes of new < old under which the metric can
# have regressed: with a tolerance of zero or more, only a move the bad way
# can, so that a metric that improved costs no arithmetic and no call.
bad_moves := {name: moves(rule) | some name, rule in config.regression.metrics}

moves(rule) := {true: true} if {
	rule.direction == "decrease_is_bad"
	is_number(rule.tolerance)
	rule.tolerance >= 0
} else := {false: true} if {
	rule.direction == "increase_is_bad"
	is_number(rule.tolerance)
	rule.tolerance >= 0
} else := {true: true, false: true}

# METADATA
# title: Regression against the base branch
# description: |
#   Compared with the same model on the base branch, no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_base contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	base := context.base.spec.metrics
	current := input.spec.metrics
	some name, moves in bad_moves
	old := base[name]
	new := current[name]
	moves[new < old]
	regressed(name, new, old)
	msg := sprintf("%s regressed against the base branch: %v -> %v (%s)", [name, old, new, tolerance_text(config.regression.metrics[name])])
}

# METADATA
# title: Regression against the parent
# description: |
#   Compared with a parent model (of the same model name when
#   regression.parents is "same_model", any parent when "all"), no metric of
#   regression.metrics moved the bad way by more than its tolerance.
deny_against_parent contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	config.regression.parents == "same_model"
	current := input.spec.metrics
	some parent, facts in context.graph.parent_manifests
	startswith(parent, lib.name_at)
	some name, moves in bad_moves
	old := facts.metrics[name]
	new := current[name]
	moves[new < old]
	regressed(name, new, old)
	msg := sprintf("%s regressed against parent %s: %v -> %v (%s)", [name, parent, old, new, tolerance_text(config.regression.metrics[name])])
}

deny_against_parent contains {"msg": msg, "path": concat(".", ["spec.metrics", name])} if {
	config.regression.parents == "all"
	current := input.spec.metrics
	some parent, facts in context.graph.parent_manifests
	some name, moves in bad_moves
	old := facts.metrics[name]
	new := current[name]
	moves[new < old]
	regressed(name, new, old)
	msg := sprintf("%s regressed against parent %s: %v -> %v (%s)", [name, parent, old, new, tolerance_text(config.regression.metrics[name])])
}

# regressed holds when a metric moved the bad way (new - old) by more than
# its tolerance: an absolute one, or a fraction of the old value.
regressed(name, new, old) if absolute[name] * (new - old) > config.regression.metrics[name].tolerance

regressed(name, new, old) if relative[name] * (new - old) > config.regression.metrics[name].tolerance * abs(old)

tolerance_text(rule) := sprintf("tolerance %v%%", [rule.tolerance * 100]) if rule.relative

tolerance_text(rule) := sprintf("tolerance %v", [rule.tolerance]) if not rule.relative
