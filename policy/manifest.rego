# METADATA
# title: Manifest completeness
# description: Required fields, a complete model card and a reachable owner.
package modelgate.manifest

import data.modelgate.config
import data.modelgate.lib

# METADATA
# title: Required field missing
# description: |
#   Every field listed in data.modelgate.config.required_fields must be set
#   to a non-empty value.
deny_missing_field contains {"msg": msg, "path": path} if {
	some path, keys in required_keys
	object.get(input, keys, null) in [null, "", [], {}]
	msg := sprintf("required field %s is missing", [path])
}

# required_keys splits each required field into its keys: {"spec.task":
# ["spec", "task"]}. It reads data alone, so the engine computes it once,
# not per manifest.
required_keys := {path: split(path, ".") | some path in config.required_fields}

# METADATA
# title: Model card incomplete
# description: |
#   The model card sections listed in data.modelgate.config.model_card.sections
#   (intended use, limitations) must be written out: text of at least
#   model_card.min_chars characters under spec.governance.
deny_model_card contains {"msg": msg, "path": path} if {
	governance := lib.governance
	some section in config.model_card.sections
	text := object.get(governance, section, "")
	count(trim_space(text)) < config.model_card.min_chars
	path := concat(".", ["spec.governance", section])
	msg := sprintf("model card: %s needs at least %d characters of text, found %d", [path, config.model_card.min_chars, count(trim_space(text))])
}

deny_model_card contains {"msg": msg, "path": path} if {
	governance := lib.governance
	some section in config.model_card.sections
	text := object.get(governance, section, "")
	type_name(text) != "string"
	path := concat(".", ["spec.governance", section])
	msg := sprintf("model card: %s must be text, found %s", [path, type_name(text)])
}

# METADATA
# title: Owner contact invalid
# description: |
#   metadata.owner must reach a person or a team: an e-mail address or a
#   GitHub team (@org/team), as data.modelgate.config.owner.pattern says. When
#   owner.allowed_domains is not empty, e-mail addresses must belong to one
#   of those domains.
deny_owner_contact contains {"msg": msg, "path": "metadata.owner"} if {
	owner := input.metadata.owner
	not owner in [null, "", [], {}]
	not regex.match(config.owner.pattern, owner)
	msg := sprintf("metadata.owner %v is not a contact: use an e-mail address or a GitHub team such as @org/team", [owner])
}

deny_owner_contact contains {"msg": msg, "path": "metadata.owner"} if {
	count(config.owner.allowed_domains) > 0
	owner := input.metadata.owner
	[_, domain] := split(lower(owner), "@")
	domain != ""
	not domain in {lower(d) | some d in config.owner.allowed_domains}
	msg := sprintf("metadata.owner %s: the domain %s is not one of %s", [owner, domain, concat(", ", config.owner.allowed_domains)])
}
