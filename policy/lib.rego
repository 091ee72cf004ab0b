# METADATA
# title: Helpers shared by the default bundle
# description: |
#   Shortcuts into the manifest (input) and modelgate's context
#   (data.modelgate.context), computed once per document. The bundle
#   avoids functions and builtins on the path a compliant manifest takes:
#   thousands of manifests are evaluated per run. Even a computed value costs
#   a rule lookup at every use, so the bundle's own rules read plain fields
#   (input.metadata.version) and constants (the empty values) in
#   place; the shortcuts remain for policies that want them. A rule that
#   reads data alone (no input, clock or print) is computed once per run,
#   not per manifest: the bundle turns its configuration into such tables
#   (thresholds per tier, sets of tiers) so that the rules look values up
#   rather than compute them, and reads a helper once per rule, not once
#   per item it iterates.
package modelgate.lib

import data.modelgate.context

name := input.metadata.name

version := input.metadata.version

# name_at prefixes the versions of this model: "fraud-detector@".
name_at := concat("", [name, "@"])

# tier is the risk tier in lower case; undefined when the manifest has none.
tier := lower(input.spec.governance.risk_tier)

license := lower(input.spec.governance.license)

stage := input.spec.lifecycle.stage

governance := object.get(input, ["spec", "governance"], {})

# changed holds when the pull request adds or modifies this manifest.
changed if context.change == "added"

changed if context.change == "modified"

# now_ns is the context's now, or the evaluation time without a context.
now_ns := time.parse_rfc3339_ns(context.now) if {
	context.now
} else := time.now_ns()

# empty lists the values that say nothing.
empty := [null, "", [], {}]
