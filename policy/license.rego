# METADATA
# title: Licensing
# description: SPDX licence allowlist and compatibility with the parent models.
package modelgate.license

import data.modelgate.config
import data.modelgate.context
import data.modelgate.lib

# METADATA
# title: Licence not allowed
# description: |
#   spec.governance.license must be one of the SPDX identifiers in
#   data.modelgate.config.licenses.allowed (compared without case).
deny_not_allowed contains {"msg": msg, "path": "spec.governance.license"} if {
	license := lib.license
	not license in config.licenses.allowed
	not license in {lower(l) | some l in config.licenses.allowed}
	msg := sprintf("licence %s is not on the allowlist: %s", [input.spec.governance.license, concat(", ", sort({lower(l) | some l in config.licenses.allowed}))])
}

# METADATA
# title: Licence incompatible with a parent
# description: |
#   A model derived from a parent must carry a licence the parent's licence
#   permits for derivatives: data.modelgate.config.licenses.derivatives maps a
#   parent licence to the licences allowed downstream ("*" for any).
deny_incompatible_parent contains {"msg": msg, "path": "spec.governance.license"} if {
	some parent, facts in context.graph.parent_manifests
	parent_license := lower(facts.license)
	permitted := config.licenses.derivatives[parent_license]
	not "*" in permitted
	not lib.license in permitted
	msg := sprintf("licence %s is incompatible with parent %s (licence %s): a derivative may use %s", [lib.license, parent, parent_license, concat(", ", permitted)])
}

# METADATA
# title: Parent licence unknown
# description: |
#   The compatibility of a parent's licence cannot be checked: the parent
#   declares no licence, or one data.modelgate.config.licenses.derivatives
#   does not list.
warn_parent_license_unknown contains {"msg": msg, "path": "spec.lineage"} if {
	some parent, facts in context.graph.parent_manifests
	object.get(facts, "license", null) in [null, "", [], {}]
	msg := sprintf("parent %s declares no licence: compatibility cannot be checked", [parent])
}

warn_parent_license_unknown contains {"msg": msg, "path": "spec.lineage"} if {
	some parent, facts in context.graph.parent_manifests
	parent_license := lower(facts.license)
	parent_license != ""
	not config.licenses.derivatives[parent_license]
	msg := sprintf("parent %s has licence %s, which data.modelgate.config.licenses.derivatives does not list: compatibility cannot be checked", [parent, parent_license])
}
