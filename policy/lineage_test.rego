package modelgate.lineage_test

import data.modelgate.fixtures as fx
import data.modelgate.lineage

problem(kind, msg) := fx.with_context([{"op": "add", "path": "/graph/problems/-", "value": {"kind": kind, "message": msg, "path": "spec.lineage"}}])

test_clean_lineage if {
	every rule in [
		lineage.deny_cycle, lineage.deny_unknown_parent, lineage.deny_mismatch,
		lineage.deny_missing_lineage, lineage.deny_checksum,
	] {
		count(rule) == 0
	} with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_cycle_and_self_parent_denied if {
	ctx := problem("cycle", "lineage cycle: a@1 -> b@1 -> a@1")
	cycle := lineage.deny_cycle with input as ctx.manifest with data.modelgate.context as ctx
	cycle == {{"msg": "lineage cycle: a@1 -> b@1 -> a@1", "path": "spec.lineage"}}
	ctx2 := problem("self_parent", "a@1 is its own parent")
	self := lineage.deny_cycle with input as ctx2.manifest with data.modelgate.context as ctx2
	fx.messages(self) == {"a@1 is its own parent"}
}

test_unknown_parent_denied if {
	ctx := problem("unknown_version", "parent fraud-detector@9.9.9: no manifest declares this version")
	result := lineage.deny_unknown_parent with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"parent fraud-detector@9.9.9: no manifest declares this version"}
}

test_mismatch_denied if {
	ctx := problem("model_id_mismatch", "lineage model_id fraud differs from metadata.name fraud-detector")
	result := lineage.deny_mismatch with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.lineage"}
}

test_problem_without_path_points_at_lineage if {
	inp := fx.with_context([{"op": "add", "path": "/graph/problems/-", "value": {"kind": "version_mismatch", "message": "version differs"}}])
	result := lineage.deny_mismatch with input as inp.manifest with data.modelgate.context as inp
	result == {{"msg": "version differs", "path": "spec.lineage"}}
}

test_other_problem_kinds_left_to_the_content_checks if {
	inp := problem("malformed_checksum", "reported by the lineage package")
	count(lineage.deny_checksum) == 0 with input as inp.manifest with data.modelgate.context as inp
}

test_missing_lineage if {
	ctx := fx.with_context([{"op": "replace", "path": "/lineage", "value": null}])
	result := lineage.deny_missing_lineage with input as ctx.manifest with data.modelgate.context as ctx
	result == {{"msg": "the model declares no lineage: set spec.lineage", "path": "spec.lineage"}}
	ctx2 := fx.with_context([{"op": "replace", "path": "/lineage", "value": null}])
	count(lineage.deny_missing_lineage) == 0 with input as ctx2.manifest with data.modelgate.context as ctx2
		with data.modelgate.config.lineage.required as false
}

test_lineage_absent_from_the_context if {
	ctx := fx.with_context([{"op": "remove", "path": "/lineage"}])
	result := lineage.deny_missing_lineage with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.lineage"}
}

test_no_checksums if {
	ctx := fx.with_context([{"op": "remove", "path": "/lineage/training_data"}])
	result := lineage.deny_checksum with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"the lineage pins no training data: training_data.checksums is empty"}
}

test_one_checksum_per_data_version if {
	ctx := fx.with_context([{"op": "remove", "path": "/lineage/training_data/checksums/1"}])
	result := lineage.deny_checksum with input as ctx.manifest with data.modelgate.context as ctx
	result == {{
		"msg": "training_data has 2 versions but 1 checksums: one checksum per data version",
		"path": "spec.lineage.training_data.checksums",
	}}
}

test_malformed_checksums if {
	ctx := fx.with_context([
		{"op": "replace", "path": "/lineage/training_data/checksums/0", "value": "md5:abc"},
		{"op": "replace", "path": "/lineage/training_data/checksums/1", "value": concat("", ["sha256:", upper(substring(fx.digest, 7, 64))])},
	])
	result := lineage.deny_checksum with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.lineage.training_data.checksums[0]", "spec.lineage.training_data.checksums[1]"}
}

test_sha512_checksum_accepted if {
	sha512 := concat("", ["sha512:", substring(fx.digest, 7, 64), substring(fx.digest, 7, 64)])
	ctx := fx.with_context([
		{"op": "replace", "path": "/lineage/training_data/checksums/0", "value": sha512},
	])
	count(lineage.deny_checksum) == 0 with input as ctx.manifest with data.modelgate.context as ctx
}

test_external_parent_noted_unless_allowed if {
	result := lineage.warn_external_parent with input as fx.good.manifest with data.modelgate.context as fx.good
	fx.messages(result) == {"parent bert_base is external: no manifest in this repository declares it"}
	count(lineage.warn_external_parent) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good with data.modelgate.config.lineage.allowed_external as ["bert_*"]
}
