package modelgate.authz_test

import data.modelgate.authz
import data.modelgate.fixtures as fx

# request builds a ChatOps command from a maintainer on an approved pull
# request of the fixture model (high risk), currently at 5 % traffic.
request(name, patches) := json.patch(
	{
		"command": {"name": name, "args": [], "model": "fraud-detector", "environment": "production"},
		"commenter": {"login": "bob", "permission": "maintain"},
		"manifest": fx.manifest,
		"pull_request": {"number": 7, "author": "alice", "labels": [], "approvals": 2, "draft": false, "head_sha": "abc123"},
		"rollout": {"stage": 0, "traffic_percent": 5},
	},
	patches,
)

test_promote_with_two_approvals_allowed if {
	count(authz.deny) == 0 with input as request("/promote", [])
}

test_status_needs_read_only if {
	count(authz.deny) == 0 with input as request("status", [{"op": "replace", "path": "/commenter/permission", "value": "read"}])
}

test_permission_too_low if {
	result := authz.deny with input as request("/canary", [{"op": "replace", "path": "/commenter/permission", "value": "triage"}])
	result == {"/canary needs write permission; @bob has triage"}
}

test_unknown_permission_counts_as_none if {
	result := authz.deny with input as request("rollback", [{"op": "remove", "path": "/commenter/permission"}])
	result == {"/rollback needs write permission; @bob has none"}
}

test_lock_needs_maintain if {
	result := authz.deny with input as request("lock", [{"op": "replace", "path": "/commenter/permission", "value": "write"}])
	result == {"/lock needs maintain permission; @bob has write"}
}

test_unknown_command if {
	result := authz.deny with input as request("deploy-everything", [])
	result == {"/deploy-everything is not a command this policy knows"}
}

test_draft_pull_request_cannot_deploy if {
	result := authz.deny with input as request("canary", [{"op": "replace", "path": "/pull_request/draft", "value": true}])
	result == {"/canary: the pull request is a draft; mark it ready for review first"}
	count(authz.deny) == 0 with input as request("rollback", [{"op": "replace", "path": "/pull_request/draft", "value": true}])
}

test_high_risk_needs_two_approvals_before_leaving_5_percent if {
	one := [{"op": "replace", "path": "/pull_request/approvals", "value": 1}]
	result := authz.deny with input as request("promote", one)
	result == {"/promote: a high-risk model needs 2 approvals before it leaves 5 % of the traffic; this pull request has 1"}
	canary := json.patch(request("canary", one), [{"op": "replace", "path": "/rollout", "value": null}])
	count(authz.deny) == 0 with input as canary
}

test_first_stage_above_the_gate_needs_approvals_at_canary if {
	plan := [
		{"op": "replace", "path": "/pull_request/approvals", "value": 0},
		{"op": "replace", "path": "/rollout", "value": null},
		{"op": "replace", "path": "/manifest/spec/rollout/stages", "value": [{"traffic": 20}, {"traffic": 100}]},
	]
	count(authz.deny) == 1 with input as request("canary", plan)
}

test_unknown_approvals_count_as_none if {
	unknown := [{"op": "replace", "path": "/pull_request/approvals", "value": null}]
	result := authz.deny with input as request("promote", unknown)
	result == {"/promote: a high-risk model needs 2 approvals before it leaves 5 % of the traffic; this pull request has 0"}
}

test_gate_from_data if {
	one := [{"op": "replace", "path": "/pull_request/approvals", "value": 1}]
	count(authz.deny) == 0 with input as request("promote", one) with data.modelgate.config.authz.high_risk_approvals as 1
}

test_only_admin_takes_high_risk_to_100_percent if {
	at_25 := [{"op": "replace", "path": "/rollout", "value": {"stage": 1, "traffic_percent": 25}}]
	result := authz.deny with input as request("promote", at_25)
	result == {"/promote: only admin may take a high-risk model to 100 % of the traffic; @bob has maintain"}
	admin := array.concat(at_25, [{"op": "replace", "path": "/commenter/permission", "value": "admin"}])
	count(authz.deny) == 0 with input as request("promote", admin)
}

test_bot_supplied_target_wins if {
	target := [{"op": "replace", "path": "/rollout", "value": {"stage": 0, "traffic_percent": 5, "target_traffic_percent": 100}}]
	count(authz.deny) == 1 with input as request("promote", target)
}

test_limited_risk_model_promotes_freely if {
	limited := [
		{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "limited"},
		{"op": "replace", "path": "/pull_request/approvals", "value": 0},
		{"op": "replace", "path": "/rollout", "value": {"stage": 1, "traffic_percent": 25}},
	]
	count(authz.deny) == 0 with input as request("promote", limited)
}

test_prohibited_and_retired_models_cannot_deploy if {
	banned := authz.deny with input as request("canary", [{"op": "replace", "path": "/manifest/spec/governance/risk_tier", "value": "unacceptable"}])
	banned == {"/canary: risk tier unacceptable is prohibited; this model cannot be deployed"}
	retired := authz.deny with input as request("canary", [{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "retired"}])
	retired == {"/canary: the model is retired and cannot be deployed"}
	count(authz.deny) == 0 with input as request("rollback", [{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "retired"}])
}

test_no_manifest if {
	result := authz.deny with input as request("canary", [{"op": "replace", "path": "/manifest", "value": null}])
	result == {"/canary: no model manifest for fraud-detector at the pull request head"}
}
