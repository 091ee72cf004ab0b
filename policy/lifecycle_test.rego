package modelgate.lifecycle_test

import data.modelgate.fixtures as fx
import data.modelgate.lifecycle

stage(s) := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/stage", "value": s}])

# based is a context whose base-branch manifest is the fixture with patches.
based(base_patches, patches) := json.patch(
	fx.with_context([{"op": "replace", "path": "/base", "value": json.patch(fx.manifest, base_patches)}, {"op": "replace", "path": "/change", "value": "modified"}]),
	patches,
)

test_healthy_lifecycle if {
	ctx := based([], [])
	every rule in [
		lifecycle.deny_unknown_stage, lifecycle.deny_backwards, lifecycle.deny_retired_changed,
		lifecycle.deny_retired_deployed, lifecycle.deny_retire_after, lifecycle.deny_parent_retired,
		lifecycle.warn_parent_deprecated, lifecycle.deny_version_mutated, lifecycle.deny_version_decreased,
	] {
		count(rule) == 0
	} with input as ctx.manifest with data.modelgate.context as ctx
}

test_unknown_stage if {
	ctx := stage("beta")
	result := lifecycle.deny_unknown_stage with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "lifecycle stage beta is not one of development, staging, production, deprecated, retired", "path": "spec.lifecycle.stage"}}
}

test_stage_moves_forward_only if {
	forward := based([], [{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "production"}])
	count(lifecycle.deny_backwards) == 0 with input as forward.manifest with data.modelgate.context as forward
	back := based([{"op": "replace", "path": "/spec/lifecycle/stage", "value": "production"}], [])
	result := lifecycle.deny_backwards with input as back.manifest with data.modelgate.context as back
	fx.messages(result) == {"lifecycle stage moved backwards: production -> staging; stages only move forward (development -> staging -> production -> deprecated -> retired)"}
}

test_retired_model_cannot_change if {
	retired := [{"op": "replace", "path": "/spec/lifecycle/stage", "value": "retired"}]
	ctx := based(retired, [])
	result := lifecycle.deny_retired_changed with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "fraud-detector@3.2.0 is retired: its manifest cannot change; publish a new version instead", "path": "spec.lifecycle.stage"}}
	unchanged := based(retired, [{"op": "replace", "path": "/change", "value": "unchanged"}])
	count(lifecycle.deny_retired_changed) == 0 with input as unchanged.manifest with data.modelgate.context as unchanged
}

test_retired_model_cannot_be_deployed if {
	ctx := stage("retired")
	result := lifecycle.deny_retired_deployed with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.rollout"}
	no_plan := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/stage", "value": "retired"}, {"op": "remove", "path": "/spec/rollout"}])
	count(lifecycle.deny_retired_deployed) == 0 with input as no_plan.manifest with data.modelgate.context as no_plan
}

test_retire_after_in_the_past if {
	past := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/retire_after", "value": "2026-01-31"}])
	result := lifecycle.deny_retire_after with input as past.manifest with data.modelgate.context as past
	result == {{"msg": "retire_after 2026-01-31 has passed: set spec.lifecycle.stage to retired or extend the date", "path": "spec.lifecycle.retire_after"}}
	rfc3339 := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/retire_after", "value": "2026-01-31T00:00:00Z"}])
	count(lifecycle.deny_retire_after) == 1 with input as rfc3339.manifest with data.modelgate.context as rfc3339
	retired := json.patch(past, [{"op": "replace", "path": "/manifest/spec/lifecycle/stage", "value": "retired"}, {"op": "remove", "path": "/manifest/spec/rollout"}])
	count(lifecycle.deny_retire_after) == 0 with input as retired.manifest with data.modelgate.context as retired
}

test_retire_after_invalid if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/retire_after", "value": "next year"}])
	result := lifecycle.deny_retire_after with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"retire_after next year is not a date such as 2027-06-30"}
}

test_retired_or_deprecated_parent if {
	retired := fx.with_context([{"op": "replace", "path": "/graph/parent_manifests/fraud-detector@3.1.0/stage", "value": "retired"}])
	result := lifecycle.deny_parent_retired with input as retired.manifest with data.modelgate.context as retired
	result == {{"msg": "parent fraud-detector@3.1.0 is retired: build on a live version", "path": "spec.lineage"}}
	deprecated := fx.with_context([{"op": "replace", "path": "/graph/parent_manifests/fraud-detector@3.1.0/stage", "value": "deprecated"}])
	count(lifecycle.deny_parent_retired) == 0 with input as deprecated.manifest with data.modelgate.context as deprecated
	fx.messages(lifecycle.warn_parent_deprecated) == {"parent fraud-detector@3.1.0 is deprecated: plan to move to a newer version"} with input as deprecated.manifest with data.modelgate.context as deprecated
}

test_published_version_keeps_its_artifact if {
	other := concat("", ["sha256:", strings.replace_n({"a": "c"}, substring(fx.digest, 7, 64))])
	ctx := based([{"op": "replace", "path": "/spec/artifact/digest", "value": other}], [])
	result := lifecycle.deny_version_mutated with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.artifact.digest"}
	new_version := based(
		[{"op": "replace", "path": "/spec/artifact/digest", "value": other}, {"op": "replace", "path": "/metadata/version", "value": "3.1.0"}],
		[],
	)
	count(lifecycle.deny_version_mutated) == 0 with input as new_version.manifest with data.modelgate.context as new_version
}

test_version_does_not_decrease if {
	ctx := based([{"op": "replace", "path": "/metadata/version", "value": "3.10.0"}], [])
	result := lifecycle.deny_version_decreased with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "version 3.2.0 is lower than 3.10.0 on the base branch", "path": "metadata.version"}}
}

retire_after(value) := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/retire_after", "value": value}])

test_retire_after_forms if {
	ctx := retire_after("2031-05-06T07:08:09+02:00")
	count(lifecycle.deny_retire_after) == 0 with input as ctx.manifest with data.modelgate.context as ctx
	ctx2 := retire_after("2027-06-30T25:00:00Z")
	fx.messages(lifecycle.deny_retire_after) == {"retire_after 2027-06-30T25:00:00Z is not a date such as 2027-06-30"} with input as ctx2.manifest with data.modelgate.context as ctx2
	ctx3 := retire_after("2027-06-30Tnoon")
	fx.messages(lifecycle.deny_retire_after) == {"retire_after 2027-06-30Tnoon is not a date such as 2027-06-30"} with input as ctx3.manifest with data.modelgate.context as ctx3
	ctx4 := retire_after(20270630)
	fx.messages(lifecycle.deny_retire_after) == {"retire_after 20270630 is not a date such as 2027-06-30"} with input as ctx4.manifest with data.modelgate.context as ctx4
	ctx5 := retire_after("2020-01-01T00:00:00Z")
	fx.messages(lifecycle.deny_retire_after) == {"retire_after 2020-01-01T00:00:00Z has passed: set spec.lifecycle.stage to retired or extend the date"} with input as ctx5.manifest with data.modelgate.context as ctx5
}

test_stage_of_the_wrong_type if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/lifecycle/stage", "value": 3}])
	fx.messages(lifecycle.deny_unknown_stage) == {"lifecycle stage 3 is not one of development, staging, production, deprecated, retired"} with input as ctx.manifest with data.modelgate.context as ctx
	ctx2 := fx.with_manifest([{"op": "remove", "path": "/spec/lifecycle/stage"}])
	count(lifecycle.deny_unknown_stage) == 0 with input as ctx2.manifest with data.modelgate.context as ctx2
}
