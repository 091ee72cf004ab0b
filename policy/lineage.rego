# METADATA
# title: Lineage
# description: |
#   Where a model comes from: its parents exist, the graph has no cycle, the
#   lineage matches the manifest and the training data is pinned by checksums.
#   Graph facts come from data.modelgate.context.graph.problems; the training
#   data checks read data.modelgate.context.lineage (problems of kind
#   length_mismatch and malformed_checksum are left to them, so that nothing
#   is reported twice).
package modelgate.lineage

import data.modelgate.config
import data.modelgate.context

# METADATA
# title: Lineage cycle
# description: A model may not descend from itself, directly or through its ancestors.
deny_cycle contains {"msg": p.message, "path": object.get(p, "path", "spec.lineage")} if {
	some p in context.graph.problems
	p.kind in {"cycle", "self_parent"}
}

# METADATA
# title: Parent model missing
# description: |
#   A parent named name@version must be a version some manifest of the
#   repository declares.
deny_unknown_parent contains {"msg": p.message, "path": object.get(p, "path", "spec.lineage")} if {
	some p in context.graph.problems
	p.kind == "unknown_version"
}

# METADATA
# title: Lineage does not match the manifest
# description: The lineage's model_id and version must be the manifest's name and version.
deny_mismatch contains {"msg": p.message, "path": object.get(p, "path", "spec.lineage")} if {
	some p in context.graph.problems
	p.kind in {"model_id_mismatch", "version_mismatch"}
}

# METADATA
# title: Lineage missing
# description: |
#   Every model declares its lineage (spec.lineage) when
#   data.modelgate.config.lineage.required is true.
deny_missing_lineage contains {"msg": "the model declares no lineage: set spec.lineage", "path": "spec.lineage"} if {
	config.lineage.required
	not has_lineage
}

# has_lineage holds when the context carries a lineage object. (A negated
# call on an undefined reference would be undefined, not true.)
has_lineage if is_object(context.lineage)

# METADATA
# title: Training data checksums
# description: |
#   The training data is pinned: one checksum per data version, each matching
#   data.modelgate.config.lineage.checksum_pattern (sha256:<64 hex> or
#   sha512:<128 hex> by default).
deny_checksum contains {"msg": msg, "path": "spec.lineage.training_data.checksums"} if {
	has_lineage
	not context.lineage.training_data.checksums[0]
	msg := "the lineage pins no training data: training_data.checksums is empty"
}

deny_checksum contains {"msg": msg, "path": "spec.lineage.training_data.checksums"} if {
	training := context.lineage.training_data
	count(object.get(training, "versions", [])) != count(object.get(training, "checksums", []))
	msg := sprintf("training_data has %d versions but %d checksums: one checksum per data version", [count(object.get(training, "versions", [])), count(object.get(training, "checksums", []))])
}

deny_checksum contains {"msg": msg, "path": sprintf("spec.lineage.training_data.checksums[%d]", [i])} if {
	some i, sum in context.lineage.training_data.checksums
	not regex.match(config.lineage.checksum_pattern, sum)
	msg := sprintf("training_data.checksums[%d] %v does not match %s", [i, sum, config.lineage.checksum_pattern])
}

# METADATA
# title: External parent
# description: |
#   A parent no manifest of the repository declares (a public base model,
#   say). Names matching a glob of data.modelgate.config.lineage.allowed_external
#   are not reported.
# custom:
#   severity: info
warn_external_parent contains {"msg": msg, "path": "spec.lineage"} if {
	some parent in context.graph.external
	not allowed_external(parent)
	msg := sprintf("parent %s is external: no manifest in this repository declares it", [parent])
}

allowed_external(name) if {
	some pattern in config.lineage.allowed_external
	glob.match(pattern, [], name)
}
