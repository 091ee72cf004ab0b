# Tests of the bundle as a whole. The package sits outside data.modelgate so
# that it can walk every modelgate package without depending on itself.
package modelgate_bundle_test

import data.modelgate.fixtures as fx

# Packages and documents of data.modelgate that hold no manifest rules.
not_manifest_rules := {"authz", "config", "context", "fixtures", "lib"}

# findings gathers every deny, violation and warn message of the bundle.
findings contains [pkg, name, msg] if {
	some pkg, rules in data.modelgate
	not pkg in not_manifest_rules
	some name, messages in rules
	regex.match(`^(deny|violation|warn)(_[a-z0-9_]+)?$`, name)
	some msg in messages
}

external_note := [
	"lineage", "warn_external_parent",
	{"msg": "parent bert_base is external: no manifest in this repository declares it", "path": "spec.lineage"},
]

test_compliant_high_risk_model_only_notes_its_external_parent if {
	result := findings with input as fx.good.manifest with data.modelgate.context as fx.good
	result == {external_note}
}

test_minimal_risk_model_needs_no_rollout_dpia_or_fairness if {
	ctx := fx.with_manifest([
		{"op": "replace", "path": "/spec/governance/risk_tier", "value": "minimal"},
		{"op": "remove", "path": "/spec/rollout"},
		{"op": "remove", "path": "/spec/governance/dpia"},
		{"op": "remove", "path": "/spec/governance/fairness"},
	])
	result := findings with input as ctx.manifest with data.modelgate.context as ctx
	result == {external_note}
}
