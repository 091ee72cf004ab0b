# METADATA
# title: Helpers shared by the default bundle
# description: Shortcuts into the policy input and the bundle's data. No rules to evaluate.
package modelgate.lib

config := data.modelgate.config

manifest := input.manifest

name := input.manifest.metadata.name

version := input.manifest.metadata.version

# tier is the risk tier in lower case; undefined when the manifest has none.
tier := lower(input.manifest.spec.governance.risk_tier)

license := lower(input.manifest.spec.governance.license)

stage := input.manifest.spec.lifecycle.stage

# changed holds when the pull request adds or modifies this manifest.
changed if input.change in {"added", "modified"}

# field returns the manifest value at a dotted path, or null.
field(path) := object.get(input.manifest, split(path, "."), null)

# blank holds for values that say nothing: null, "", [], {}.
blank(v) if v == null

blank(v) if v == ""

blank(v) if count(v) == 0

# stage_index is the position of a lifecycle stage in config.lifecycle.stages.
stage_index(s) := i if {
	some i, x in data.modelgate.config.lifecycle.stages
	x == s
}

# timestamp parses a date ("2027-06-30") or an RFC 3339 time to ns.
timestamp(s) := time.parse_rfc3339_ns(s) if contains(s, "T")

timestamp(s) := time.parse_ns("2006-01-02", s) if not contains(s, "T")

# now_ns is input.now, or the evaluation time when the input has none.
now_ns := time.parse_rfc3339_ns(input.now) if {
	input.now
} else := time.now_ns()

# name_of returns the model name of "name@version" (or of a bare name).
name_of(ref) := split(ref, "@")[0]
