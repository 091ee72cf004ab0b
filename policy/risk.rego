# METADATA
# title: Risk tiers
# description: |
#   EU AI Act risk classes: what each tier demands before a model ships.
#   The tiers each duty applies to are listed in data.modelgate.config.risk.
package modelgate.risk

import data.modelgate.config
import data.modelgate.context
import data.modelgate.lib

# denied, dpia, fairness and canary hold the tiers each duty applies to, as
# sets: looking a tier up costs less than `in` over a list, and they read
# data alone, so the engine computes them once, not per manifest.
denied := {tier | some tier in config.risk.denied_tiers}

dpia := {tier | some tier in config.risk.dpia_tiers}

fairness := {tier | some tier in config.risk.fairness_tiers}

canary := {tier | some tier in config.risk.canary_tiers}

exempt_stages := {stage | some stage in config.risk.canary_exempt_stages}

# METADATA
# title: Risk tier not allowed
# description: |
#   Models in a denied tier (data.modelgate.config.risk.denied_tiers: the EU
#   AI Act's unacceptable risk) may not be registered at all.
deny_denied_tier contains {"msg": msg, "path": "spec.governance.risk_tier"} if {
	denied[lib.tier]
	msg := sprintf("risk tier %s is prohibited: this model may not be built or deployed", [lib.tier])
}

# METADATA
# title: DPIA missing
# description: |
#   A model that processes personal data (spec.governance.pii: true) in a tier
#   of data.modelgate.config.risk.dpia_tiers needs a data protection impact
#   assessment: spec.governance.dpia names it.
deny_dpia_missing contains {"msg": msg, "path": "spec.governance.dpia"} if {
	dpia[lib.tier]
	lib.governance.pii == true
	object.get(lib.governance, "dpia", null) in [null, "", [], {}]
	msg := sprintf("risk tier %s with personal data (pii: true) needs a DPIA: set spec.governance.dpia", [lib.tier])
}

# METADATA
# title: Fairness evidence missing
# description: |
#   Models in a tier of data.modelgate.config.risk.fairness_tiers must point
#   at fairness evidence: spec.governance.fairness (a report path, or an
#   object of per-group metrics).
deny_fairness_missing contains {"msg": msg, "path": "spec.governance.fairness"} if {
	fairness[lib.tier]
	object.get(lib.governance, "fairness", null) in [null, "", [], {}]
	msg := sprintf("risk tier %s needs fairness evidence: set spec.governance.fairness", [lib.tier])
}

# METADATA
# title: Canary stage missing
# description: |
#   Models in a tier of data.modelgate.config.risk.canary_tiers must roll out
#   through a canary: spec.rollout.stages needs a stage of at most
#   canary_max_traffic percent of the traffic. Models already past their
#   rollout (a stage of canary_exempt_stages) are exempt unless the pull
#   request changes them.
deny_no_canary contains problem if {
	canary[lib.tier]
	needs_plan
	not canary_planned
	problem := canary_problem
}

# canary_planned holds when the manifest lists rollout stages with a canary.
canary_planned if {
	has_stages
	has_canary
}

# canary_problem is what deny_no_canary reports: no stages, or no canary.
canary_problem := {"msg": msg, "path": "spec.rollout"} if {
	not has_stages
	msg := sprintf("risk tier %s needs a rollout plan with a canary stage: set spec.rollout.stages", [lib.tier])
} else := {"msg": msg, "path": "spec.rollout.stages"} if {
	msg := sprintf("risk tier %s needs a canary stage: no stage of spec.rollout.stages sends between 0 and %v %% of the traffic", [lib.tier, config.risk.canary_max_traffic])
}

# needs_plan holds for models still to be rolled out, or changed.
needs_plan if not exempt_stages[input.spec.lifecycle.stage]

needs_plan if lib.changed

# has_stages holds when the manifest has a list of rollout stages.
has_stages if is_array(input.spec.rollout.stages)

has_canary if {
	some stage in input.spec.rollout.stages
	stage.traffic > 0
	stage.traffic <= config.risk.canary_max_traffic
}

# METADATA
# title: Approvals missing
# description: |
#   A pull request that adds or changes a model needs, per risk tier, the
#   number of approving reviewers of data.modelgate.config.risk.approvals.
#   Runs outside a pull request (data.modelgate.context.pull_request null),
#   or where the number of approvals is unknown (null), are not judged.
deny_approvals contains {"msg": msg, "path": "spec.governance.risk_tier"} if {
	lib.changed
	needed := config.risk.approvals[lib.tier]
	approvals := context.pull_request.approvals
	is_number(approvals)
	approvals < needed
	msg := sprintf("risk tier %s needs %d approvals, this pull request has %d", [lib.tier, needed, approvals])
}
