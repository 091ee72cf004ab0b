# METADATA
# title: Helpers shared by the default bundle
# description: |
#   Shortcuts into the policy input, computed once per document. The bundle
#   avoids functions and builtins on the path a compliant manifest takes:
#   thousands of manifests are evaluated per run. Even a computed value costs
#   a rule lookup at every use, so the bundle's own rules read plain fields
#   (input.manifest.metadata.version) and constants (the empty values) in
#   place; the shortcuts remain for policies that want them. A rule that
#   reads data alone (no input, clock or print) is computed once per run,
#   not per manifest: the bundle turns its configuration into such tables
#   (thresholds per tier, sets of tiers) so that the rules look values up
#   rather than compute them, and reads a helper once per rule, not once
#   per item it iterates.
package modelgate.lib

name := input.manifest.metadata.name

version := input.manifest.metadata.version

# name_at prefixes the versions of this model: "fraud-detector@".
name_at := concat("", [name, "@"])

# tier is the risk tier in lower case; undefined when the manifest has none.
tier := lower(input.manifest.spec.governance.risk_tier)

license := lower(input.manifest.spec.governance.license)

stage := input.manifest.spec.lifecycle.stage

governance := object.get(input.manifest, ["spec", "governance"], {})

# changed holds when the pull request adds or modifies this manifest.
changed if input.change == "added"

changed if input.change == "modified"

# now_ns is input.now, or the evaluation time when the input has none.
now_ns := time.parse_rfc3339_ns(input.now) if {
	input.now
} else := time.now_ns()

# empty lists the values that say nothing.
empty := [null, "", [], {}]
