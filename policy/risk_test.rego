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
	} with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_unacceptable_tier_denied if {
	ctx := tier("Unacceptable")
	result := risk.deny_denied_tier with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "risk tier unacceptable is prohibited: this model may not be built or deployed", "path": "spec.governance.risk_tier"}}
}

test_high_risk_pii_needs_dpia if {
	ctx := fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}])
	result := risk.deny_dpia_missing with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "risk tier high with personal data (pii: true) needs a DPIA: set spec.governance.dpia", "path": "spec.governance.dpia"}}
}

test_dpia_not_needed_without_pii_or_below_high if {
	no_pii := fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}, {"op": "replace", "path": "/spec/governance/pii", "value": false}])
	count(risk.deny_dpia_missing) == 0 with input as no_pii.manifest with data.modelgate.context as no_pii
	limited := fx.with_manifest([{"op": "remove", "path": "/spec/governance/dpia"}, {"op": "replace", "path": "/spec/governance/risk_tier", "value": "limited"}])
	count(risk.deny_dpia_missing) == 0 with input as limited.manifest with data.modelgate.context as limited
}

test_high_risk_needs_fairness_evidence if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/governance/fairness", "value": {}}])
	result := risk.deny_fairness_missing with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.governance.fairness"}
}

test_high_risk_needs_a_rollout_plan if {
	ctx := fx.with_manifest([{"op": "remove", "path": "/spec/rollout"}])
	result := risk.deny_no_canary with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "risk tier high needs a rollout plan with a canary stage: set spec.rollout.stages", "path": "spec.rollout"}}
}

test_high_risk_needs_a_canary_stage if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/rollout/stages", "value": [{"traffic": 50}, {"traffic": 100}]}])
	result := risk.deny_no_canary with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "risk tier high needs a canary stage: no stage of spec.rollout.stages sends between 0 and 10 % of the traffic", "path": "spec.rollout.stages"}}
}

test_unchanged_production_model_needs_no_plan if {
	production := fx.with_context([
		{"op": "remove", "path": "/manifest/spec/rollout"},
		{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "production"},
		{"op": "replace", "path": "/change", "value": "unchanged"},
	])
	count(risk.deny_no_canary) == 0 with input as production.manifest with data.modelgate.context as production
	changed := json.patch(production, [{"op": "replace", "path": "/change", "value": "modified"}])
	count(risk.deny_no_canary) == 1 with input as changed.manifest with data.modelgate.context as changed
}

test_canary_limit_from_data if {
	count(risk.deny_no_canary) == 1 with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.risk.canary_max_traffic as 1
}

test_high_risk_needs_two_approvals if {
	ctx := fx.with_context([{"op": "replace", "path": "/pull_request/approvals", "value": 1}])
	result := risk.deny_approvals with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "risk tier high needs 2 approvals, this pull request has 1", "path": "spec.governance.risk_tier"}}
}

test_approvals_only_for_models_a_pull_request_changes if {
	unchanged := fx.with_context([{"op": "replace", "path": "/pull_request/approvals", "value": 0}, {"op": "replace", "path": "/change", "value": "unchanged"}])
	count(risk.deny_approvals) == 0 with input as unchanged.manifest with data.modelgate.context as unchanged
	local_run := fx.with_context([{"op": "replace", "path": "/pull_request", "value": null}])
	count(risk.deny_approvals) == 0 with input as local_run.manifest with data.modelgate.context as local_run
	unknown := fx.with_context([{"op": "replace", "path": "/pull_request/approvals", "value": null}])
	count(risk.deny_approvals) == 0 with input as unknown.manifest with data.modelgate.context as unknown
}

test_approvals_by_tier_from_data if {
	ctx := tier("limited")
	count(risk.deny_approvals) == 0 with input as ctx.manifest with data.modelgate.context as ctx
	ctx2 := tier("limited")
	count(risk.deny_approvals) == 1 with input as ctx2.manifest with data.modelgate.context as ctx2 with data.modelgate.config.risk.approvals as {"limited": 3}
}

stages(value) := fx.with_manifest([{"op": "replace", "path": "/spec/rollout/stages", "value": value}])

test_rollout_stages_that_are_not_a_list if {
	ctx := stages("later")
	for_later := risk.deny_no_canary with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(for_later) == {"spec.rollout"}
	ctx2 := stages({"canary": {"traffic": 5}})
	by_name := risk.deny_no_canary with input as ctx2.manifest with data.modelgate.context as ctx2
	fx.paths(by_name) == {"spec.rollout"}
}

test_canary_limit_of_the_wrong_type if {
	fx.messages(risk.deny_no_canary) == {"risk tier high needs a canary stage: no stage of spec.rollout.stages sends between 0 and null % of the traffic"} with input as fx.good.manifest with data.modelgate.context as fx.good
		with data.modelgate.config.risk.canary_max_traffic as null
}

test_canary_for_tiers_from_data if {
	limited := json.patch(stages([{"traffic": 50}]), [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "Limited"}])
	count(risk.deny_no_canary) == 0 with input as limited.manifest with data.modelgate.context as limited
	fx.messages(risk.deny_no_canary) == {"risk tier limited needs a canary stage: no stage of spec.rollout.stages sends between 0 and 10 % of the traffic"} with input as limited.manifest with data.modelgate.context as limited
		with data.modelgate.config.risk.canary_tiers as ["limited"]
}

test_exempt_stage_changed_needs_a_plan if {
	production := json.patch(stages([{"traffic": 50}]), [
		{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "production"},
		{"op": "replace", "path": "/change", "value": "modified"},
	])
	count(risk.deny_no_canary) == 1 with input as production.manifest with data.modelgate.context as production
	unchanged := json.patch(production, [{"op": "replace", "path": "/change", "value": "unchanged"}])
	count(risk.deny_no_canary) == 0 with input as unchanged.manifest with data.modelgate.context as unchanged
	no_stage := json.patch(stages([{"traffic": 50}]), [{"op": "remove", "path": "/manifest/spec/lifecycle/stage"}])
	count(risk.deny_no_canary) == 1 with input as no_stage.manifest with data.modelgate.context as no_stage
}

test_tier_duties_from_data if {
	minimal := json.patch(fx.good, [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "minimal"}])
	fx.paths(risk.deny_denied_tier) == {"spec.governance.risk_tier"} with input as minimal.manifest with data.modelgate.context as minimal with data.modelgate.config.risk.denied_tiers as ["minimal"]
	count(risk.deny_denied_tier) == 0 with input as minimal.manifest with data.modelgate.context as minimal with data.modelgate.config.risk.denied_tiers as []
	no_fairness := json.patch(minimal, [{"op": "remove", "path": "/manifest/spec/governance/fairness"}])
	count(risk.deny_fairness_missing) == 0 with input as no_fairness.manifest with data.modelgate.context as no_fairness
	count(risk.deny_fairness_missing) == 1 with input as no_fairness.manifest with data.modelgate.context as no_fairness with data.modelgate.config.risk.fairness_tiers as ["minimal"]
	no_tier := json.patch(fx.good, [{"op": "remove", "path": "/manifest/spec/governance/risk_tier"}])
	count(risk.deny_denied_tier) == 0 with input as no_tier.manifest with data.modelgate.context as no_tier
	count(risk.deny_no_canary) == 0 with input as no_tier.manifest with data.modelgate.context as no_tier
}

test_changed_only_when_added_or_modified if {
	every change in ["added", "modified"] {
		ctx := json.patch(fx.good, [{"op": "replace", "path": "/change", "value": change}, {"op": "replace", "path": "/pull_request/approvals", "value": 1}])
		count(risk.deny_approvals) == 1 with input as ctx.manifest with data.modelgate.context as ctx
	}
	every change in ["unchanged", "deleted", null, ["added"]] {
		ctx2 := json.patch(fx.good, [{"op": "replace", "path": "/change", "value": change}, {"op": "replace", "path": "/pull_request/approvals", "value": 1}])
		count(risk.deny_approvals) == 0 with input as ctx2.manifest with data.modelgate.context as ctx2
	}
}
