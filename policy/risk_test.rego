package modelgate.risk_test

import data.modelgate.fixtures as fx
import data.modelgate.risk

tier(t) := fx.with_manifest([{"op": "replace", "path": "/spec/governance/risk_tier", "value": t}])

test_compliant_high_risk_model if {
	every rule in [
		risk.deny_denied_tier, risk.deny_dpia_missing,
		risk.deny_fairness_missing, risk.deny_no_canary, risk.deny_approvals,
	] {
		count(rule) == 0
	} with input as fx.good
}

test_unacceptable_tier_denied if {
	result := risk.deny_denied_tier with input as tier("Unacceptable")
	result == {{"msg": "risk tier unacceptable is prohibited: this model may not be built or deployed", "path": "spec.governance.risk_tier"}}
}

test_high_risk_pii_needs_dpia if {
	result := risk.deny_dpia_missing with input as fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}])
	result == {{"msg": "risk tier high with personal data (pii: true) needs a DPIA: set spec.governance.dpia", "path": "spec.governance.dpia"}}
}

test_dpia_not_needed_without_pii_or_below_high if {
	no_pii := fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}, {"op": "replace", "path": "/spec/governance/pii", "value": false}])
	count(risk.deny_dpia_missing) == 0 with input as no_pii
	limited := fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}, {"op": "replace", "path": "/spec/governance/risk_tier", "value": "limited"}])
	count(risk.deny_dpia_missing) == 0 with input as limited
}

test_high_risk_needs_fairness_evidence if {
	result := risk.deny_fairness_missing with input as fx.with_manifest([{"op": "replace", "path": "/spec/governance/fairness", "value": {}}])
	fx.paths(result) == {"spec.governance.fairness"}
}

test_high_risk_needs_a_rollout_plan if {
	result := risk.deny_no_canary with input as fx.with_manifest([{"op": "remove", "path": "/spec/rollout"}])
	result == {{"msg": "risk tier high needs a rollout plan with a canary stage: set spec.rollout.stages", "path": "spec.rollout"}}
}

test_high_risk_needs_a_canary_stage if {
	result := risk.deny_no_canary with input as fx.with_manifest([{"op": "replace", "path": "/spec/rollout/stages", "value": [{"traffic": 50}, {"traffic": 100}]}])
	result == {{"msg": "risk tier high needs a canary stage: no stage of spec.rollout.stages sends between 0 and 10 % of the traffic", "path": "spec.rollout.stages"}}
}

test_unchanged_production_model_needs_no_plan if {
	production := fx.with_input([
		{"op": "remove", "path": "/manifest/spec/rollout"},
		{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "production"},
		{"op": "replace", "path": "/change", "value": "unchanged"},
	])
	count(risk.deny_no_canary) == 0 with input as production
	changed := json.patch(production, [{"op": "replace", "path": "/change", "value": "modified"}])
	count(risk.deny_no_canary) == 1 with input as changed
}

test_canary_limit_from_data if {
	count(risk.deny_no_canary) == 1 with input as fx.good with data.modelgate.config.risk.canary_max_traffic as 1
}

test_high_risk_needs_two_approvals if {
	result := risk.deny_approvals with input as fx.with_input([{"op": "replace", "path": "/pull_request/approvals", "value": 1}])
	result == {{"msg": "risk tier high needs 2 approvals, this pull request has 1", "path": "spec.governance.risk_tier"}}
}

test_approvals_only_for_models_a_pull_request_changes if {
	unchanged := fx.with_input([{"op": "replace", "path": "/pull_request/approvals", "value": 0}, {"op": "replace", "path": "/change", "value": "unchanged"}])
	count(risk.deny_approvals) == 0 with input as unchanged
	local_run := fx.with_input([{"op": "replace", "path": "/pull_request", "value": null}])
	count(risk.deny_approvals) == 0 with input as local_run
	unknown := fx.with_input([{"op": "replace", "path": "/pull_request/approvals", "value": null}])
	count(risk.deny_approvals) == 0 with input as unknown
}

test_approvals_by_tier_from_data if {
	count(risk.deny_approvals) == 0 with input as tier("limited")
	count(risk.deny_approvals) == 1 with input as tier("limited") with data.modelgate.config.risk.approvals as {"limited": 3}
}

stages(value) := fx.with_manifest([{"op": "replace", "path": "/spec/rollout/stages", "value": value}])

test_rollout_stages_that_are_not_a_list if {
	for_later := risk.deny_no_canary with input as stages("later")
	fx.paths(for_later) == {"spec.rollout"}
	by_name := risk.deny_no_canary with input as stages({"canary": {"traffic": 5}})
	fx.paths(by_name) == {"spec.rollout"}
}

test_canary_limit_of_the_wrong_type if {
	fx.messages(risk.deny_no_canary) == {"risk tier high needs a canary stage: no stage of spec.rollout.stages sends between 0 and null % of the traffic"} with input as fx.good
		with data.modelgate.config.risk.canary_max_traffic as null
}

test_canary_for_tiers_from_data if {
	limited := json.patch(stages([{"traffic": 50}]), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "Limited"}])
	count(risk.deny_no_canary) == 0 with input as limited
	fx.messages(risk.deny_no_canary) == {"risk tier limited needs a canary stage: no stage of spec.rollout.stages sends between 0 and 10 % of the traffic"} with input as limited
		with data.modelgate.config.risk.canary_tiers as ["limited"]
}

test_exempt_stage_changed_needs_a_plan if {
	production := json.patch(stages([{"traffic": 50}]), [
		{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "production"},
		{"op": "replace", "path": "/change", "value": "modified"},
	])
	count(risk.deny_no_canary) == 1 with input as production
	unchanged := json.patch(production, [{"op": "replace", "path": "/change", "value": "unchanged"}])
	count(risk.deny_no_canary) == 0 with input as unchanged
	no_stage := json.patch(stages([{"traffic": 50}]), [{"op": "remove", "path": "/manifest/spec/lifecycle/stage"}])
	count(risk.deny_no_canary) == 1 with input as no_stage
}

test_tier_duties_from_data if {
	minimal := json.patch(fx.good, [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "minimal"}])
	fx.paths(risk.deny_denied_tier) == {"spec.governance.risk_tier"} with input as minimal with data.modelgate.config.risk.denied_tiers as ["minimal"]
	count(risk.deny_denied_tier) == 0 with input as minimal with data.modelgate.config.risk.denied_tiers as []
	no_fairness := json.patch(minimal, [{"op": "remove", "path": "/manifest/spec/governance/fairness"}])
	count(risk.deny_fairness_missing) == 0 with input as no_fairness
	count(risk.deny_fairness_missing) == 1 with input as no_fairness with data.modelgate.config.risk.fairness_tiers as ["minimal"]
	no_tier := json.patch(fx.good, [{"op": "remove", "path": "/manifest/spec/governance/risk_tier"}])
	count(risk.deny_denied_tier) == 0 with input as no_tier
	count(risk.deny_no_canary) == 0 with input as no_tier
}

test_changed_only_when_added_or_modified if {
	every change in ["added", "modified"] {
		count(risk.deny_approvals) == 1 with input as json.patch(fx.good, [{"op": "replace", "path": "/change", "value": change}, {"op": "replace", "path": "/pull_request/approvals", "value": 1}])
	}
	every change in ["unchanged", "deleted", null, ["added"]] {
		count(risk.deny_approvals) == 0 with input as json.patch(fx.good, [{"op": "replace", "path": "/change", "value": change}, {"op": "replace", "path": "/pull_request/approvals", "value": 1}])
	}
}
