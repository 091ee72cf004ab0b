package modelgate.manifest_test

import data.modelgate.fixtures as fx
import data.modelgate.manifest

test_required_fields_present if {
	count(manifest.deny_missing_field) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_missing_and_empty_fields_denied if {
	ctx := fx.with_manifest([
		{"op": "remove", "path": "/metadata/owner"},
		{"op": "replace", "path": "/spec/task", "value": ""},
		{"op": "remove", "path": "/spec/artifact"},
	])
	result := manifest.deny_missing_field with input as ctx.manifest with data.modelgate.context as ctx
	result == {
		{"msg": "required field metadata.owner is missing", "path": "metadata.owner"},
		{"msg": "required field spec.task is missing", "path": "spec.task"},
		{"msg": "required field spec.artifact.uri is missing", "path": "spec.artifact.uri"},
		{"msg": "required field spec.artifact.digest is missing", "path": "spec.artifact.digest"},
	}
}

test_required_fields_come_from_data if {
	result := manifest.deny_missing_field with input as fx.good.manifest with data.modelgate.context as fx.good
		with data.modelgate.config.required_fields as ["spec.governance.model_card_url"]
	result == {{"msg": "required field spec.governance.model_card_url is missing", "path": "spec.governance.model_card_url"}}
}

test_model_card_complete if {
	count(manifest.deny_model_card) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_model_card_sections_missing_or_short if {
	ctx := fx.with_manifest([
		{"op": "remove", "path": "/spec/governance/intended_use"},
		{"op": "replace", "path": "/spec/governance/limitations", "value": "  TBD  "},
	])
	result := manifest.deny_model_card with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.governance.intended_use", "spec.governance.limitations"}
	"model card: spec.governance.limitations needs at least 20 characters of text, found 3" in fx.messages(result)
}

test_model_card_section_not_text if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/governance/limitations", "value": ["a", "b"]}])
	result := manifest.deny_model_card with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "model card: spec.governance.limitations must be text, found array", "path": "spec.governance.limitations"}}
}

test_model_card_min_chars_from_data if {
	count(manifest.deny_model_card) == 2 with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.model_card.min_chars as 500
}

test_owner_email_and_team_accepted if {
	every owner in ["risk-ml@example.com", "@acme/risk-ml", "first.last+ml@mail.example.co.uk"] {
		ctx := fx.with_manifest([{"op": "replace", "path": "/metadata/owner", "value": owner}])
		count(manifest.deny_owner_contact) == 0 with input as ctx.manifest with data.modelgate.context as ctx
	}
}

test_owner_not_a_contact if {
	every owner in ["risk team", "risk@", "@acme", 42] {
		ctx := fx.with_manifest([{"op": "replace", "path": "/metadata/owner", "value": owner}])
		result := manifest.deny_owner_contact with input as ctx.manifest with data.modelgate.context as ctx
		fx.paths(result) == {"metadata.owner"}
	}
}

test_owner_domain_allowlist if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/metadata/owner", "value": "someone@gmail.com"}])
	result := manifest.deny_owner_contact with input as ctx.manifest with data.modelgate.context as ctx
		with data.modelgate.config.owner.allowed_domains as ["example.com"]
	result == {{"msg": "metadata.owner someone@gmail.com: the domain gmail.com is not one of example.com", "path": "metadata.owner"}}
	count(manifest.deny_owner_contact) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.owner.allowed_domains as ["Example.com"]
}

test_required_fields_odd_shapes if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/governance/license", "value": {}}])
	fx.paths(manifest.deny_missing_field) == {"spec.governance.license"} with input as ctx.manifest with data.modelgate.context as ctx
	ctx2 := fx.with_manifest([{"op": "replace", "path": "/spec/artifact", "value": "s3://x"}])
	fx.paths(manifest.deny_missing_field) == {"spec.artifact.uri", "spec.artifact.digest"} with input as ctx2.manifest with data.modelgate.context as ctx2
	count(manifest.deny_missing_field) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.required_fields as [42, "metadata.name"]
	fx.paths(manifest.deny_missing_field) == {"spec.x"} with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.required_fields as ["spec.x", "spec.x"]
}

test_model_card_whitespace_and_types if {
	blank := fx.with_manifest([{"op": "replace", "path": "/spec/governance/limitations", "value": "   \n  "}])
	fx.messages(manifest.deny_model_card) == {"model card: spec.governance.limitations needs at least 20 characters of text, found 0"} with input as blank.manifest with data.modelgate.context as blank
	listed := fx.with_manifest([{"op": "replace", "path": "/spec/governance/limitations", "value": ["a"]}])
	fx.messages(manifest.deny_model_card) == {"model card: spec.governance.limitations must be text, found array"} with input as listed.manifest with data.modelgate.context as listed
	nothing := fx.with_manifest([{"op": "replace", "path": "/spec/governance/limitations", "value": null}])
	fx.messages(manifest.deny_model_card) == {"model card: spec.governance.limitations must be text, found null"} with input as nothing.manifest with data.modelgate.context as nothing
}
