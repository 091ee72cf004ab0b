# METADATA
# title: Lifecycle
# description: |
#   Stages move forward only (data.modelgate.config.lifecycle.stages), retired
#   models are frozen, retirement dates are kept and parents are alive.
package modelgate.lifecycle

import data.modelgate.config
import data.modelgate.context
import data.modelgate.lib

stages := config.lifecycle.stages

# order numbers the stages: {"development": 0, ...}.
order := {s: i | some i, s in stages}

# known holds the stages as a set: a lookup costs less than `in` over the
# list, and it reads data alone, so the engine computes it once.
known := {s | some s in stages}

# METADATA
# title: Lifecycle stage unknown
# description: spec.lifecycle.stage is one of data.modelgate.config.lifecycle.stages.
deny_unknown_stage contains {"msg": msg, "path": "spec.lifecycle.stage"} if {
	stage := input.spec.lifecycle.stage
	not known[stage]
	msg := sprintf("lifecycle stage %v is not one of %s", [stage, concat(", ", stages)])
}

# METADATA
# title: Lifecycle stage moved backwards
# description: Compared with the base branch, the stage only moves forward.
deny_backwards contains {"msg": msg, "path": "spec.lifecycle.stage"} if {
	old := context.base.spec.lifecycle.stage
	new := input.spec.lifecycle.stage
	order[new] < order[old]
	msg := sprintf("lifecycle stage moved backwards: %s -> %s; stages only move forward (%s)", [old, new, concat(" -> ", stages)])
}

# METADATA
# title: Retired model changed
# description: A model retired on the base branch cannot change; add a new version instead.
deny_retired_changed contains {"msg": msg, "path": "spec.lifecycle.stage"} if {
	context.change == "modified"
	context.base.spec.lifecycle.stage == "retired"
	msg := sprintf("%s@%s is retired: its manifest cannot change; publish a new version instead", [input.metadata.name, input.metadata.version])
}

# METADATA
# title: Retired model deployed
# description: A retired model has no rollout plan, since it cannot be deployed.
deny_retired_deployed contains {"msg": msg, "path": "spec.rollout"} if {
	input.spec.lifecycle.stage == "retired"
	is_object(input.spec.rollout)
	msg := sprintf("%s@%s is retired and cannot be deployed: remove spec.rollout", [input.metadata.name, input.metadata.version])
}

# METADATA
# title: Retirement date passed
# description: |
#   A model past its spec.lifecycle.retire_after date must be retired (stage
#   retired) or given a later date.
deny_retire_after contains {"msg": msg, "path": "spec.lifecycle.retire_after"} if {
	date := input.spec.lifecycle.retire_after
	input.spec.lifecycle.stage != "retired"
	retire_ns < lib.now_ns
	msg := sprintf("retire_after %v has passed: set spec.lifecycle.stage to retired or extend the date", [date])
}

# METADATA
# title: Retirement date invalid
# description: spec.lifecycle.retire_after is a date (2027-06-30) or an RFC 3339 time.
deny_retire_after contains {"msg": msg, "path": "spec.lifecycle.retire_after"} if {
	date := input.spec.lifecycle.retire_after
	not retire_ns
	msg := sprintf("retire_after %v is not a date such as 2027-06-30", [date])
}

# retire_ns is retire_after in ns: a date (2027-06-30) or an RFC 3339 time.
# A text with a T never parses as a date alone, so the date is tried first.
retire_ns := time.parse_ns("2006-01-02", date) if {
	date := input.spec.lifecycle.retire_after
} else := time.parse_rfc3339_ns(date) if {
	date := input.spec.lifecycle.retire_after
	contains(date, "T")
}

# METADATA
# title: Parent retired
# description: |
#   A model may not be built on a parent whose stage is in
#   data.modelgate.config.lifecycle.blocked_parent_stages (retired).
deny_parent_retired contains {"msg": msg, "path": "spec.lineage"} if {
	some parent, facts in context.graph.parent_manifests
	facts.stage in config.lifecycle.blocked_parent_stages
	msg := sprintf("parent %s is %s: build on a live version", [parent, facts.stage])
}

# METADATA
# title: Parent deprecated
# description: |
#   A parent whose stage is in data.modelgate.config.lifecycle.warned_parent_stages
#   (deprecated) will go away: plan to move to a newer one.
warn_parent_deprecated contains {"msg": msg, "path": "spec.lineage"} if {
	some parent, facts in context.graph.parent_manifests
	facts.stage in config.lifecycle.warned_parent_stages
	msg := sprintf("parent %s is %s: plan to move to a newer version", [parent, facts.stage])
}

# METADATA
# title: Published version changed its artifact
# description: |
#   A version keeps its artifact: when the base branch has the same version
#   with another digest, publish a new version instead.
deny_version_mutated contains {"msg": msg, "path": "spec.artifact.digest"} if {
	context.base.metadata.version == input.metadata.version
	old := context.base.spec.artifact.digest
	new := input.spec.artifact.digest
	old != new
	msg := sprintf("version %s was published with artifact %s; a new artifact needs a new version", [input.metadata.version, old])
}

# METADATA
# title: Version went down
# description: Compared with the base branch, the semantic version does not decrease.
deny_version_decreased contains {"msg": msg, "path": "metadata.version"} if {
	old := context.base.metadata.version
	semver.is_valid(old)
	semver.is_valid(input.metadata.version)
	semver.compare(input.metadata.version, old) < 0
	msg := sprintf("version %s is lower than %s on the base branch", [input.metadata.version, old])
}
