# METADATA
# title: Risk tiers
# description: |
#   EU AI Act risk classes: what each tier demands before a model ships.
#   The tiers each duty applies to are listed in data.modelgate.config.risk.
package modelgate.risk

import data.modelgate.config
import data.modelgate.lib

# METADATA
# title: Risk tier not allowed
# description: |
#   Models in a denied tier (data.modelgate.config.risk.denied_tiers: the EU
#   AI Act's unacceptable risk) may not be registered at all.
deny_denied_tier contains {"msg": msg, "path": "spec.governance.risk_tier"} if {
	lib.tier in config.risk.denied_tiers
	msg := sprintf("risk tier %s is prohibited: this model may not be built or deployed", [lib.tier])
}

# METADATA
# title: DPIA missing
# description: |
#   A model that processes personal data (spec.governance.pii: true) in a tier
#   of data.modelgate.config.risk.dpia_tiers needs a data protection impact
#   assessment: spec.governance.dpia names it.
deny_dpia_missing contains {"msg": msg, "path": "spec.governance.dpia"} if {
	lib.tier in config.risk.dpia_tiers
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
	lib.tier in config.risk.fairness_tiers
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
deny_no_canary contains {"msg": msg, "path": "spec.rollout"} if {
	lib.tier in config.risk.canary_tiers
	needs_plan
	not has_stages
	msg := sprintf("risk tier %s needs a rollout plan with a canary stage: set spec.rollout.stages", [lib.tier])
}

deny_no_canary contains {"msg": msg, "path": "spec.rollout.stages"} if {
	lib.tier in config.risk.canary_tiers
	needs_plan
	has_stages
	not has_canary
	msg := sprintf("risk tier %s needs a canary stage: no stage of spec.rollout.stages sends between 0 and %v %% of the traffic", [lib.tier, config.risk.canary_max_traffic])
}

# needs_plan holds for models still to be rolled out, or changed.
needs_plan if not input.manifest.spec.lifecycle.stage in config.risk.canary_exempt_stages

needs_plan if lib.changed

# has_stages holds when the manifest has a list of rollout stages.
has_stages if is_array(input.manifest.spec.rollout.stages)

has_canary if {
	some stage in input.manifest.spec.rollout.stages
	stage.traffic > 0
	stage.traffic <= config.risk.canary_max_traffic
}

# METADATA
# title: Approvals missing
# description: |
#   A pull request that adds or changes a model needs, per risk tier, the
#   number of approving reviewers of data.modelgate.config.risk.approvals.
#   Runs outside a pull request (input.pull_request null), or where the
#   number of approvals is unknown (null), are not judged.
deny_approvals contains {"msg": msg, "path": "spec.governance.risk_tier"} if {
	lib.changed
	needed := config.risk.approvals[lib.tier]
	approvals := input.pull_request.approvals
	is_number(approvals)
	approvals < needed
	msg := sprintf("risk tier %s needs %d approvals, this pull request has %d", [lib.tier, needed, approvals])
}
