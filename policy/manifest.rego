# METADATA
# title: Manifest completeness
# description: Required fields, a complete model card and a reachable owner.
package modelgate.manifest

import data.modelgate.lib

# METADATA
# title: Required field missing
# description: |
#   Every field listed in data.modelgate.config.required_fields must be set
#   to a non-empty value.
deny_missing_field contains {"msg": msg, "path": path} if {
	some path in lib.config.required_fields
	lib.blank(lib.field(path))
	msg := sprintf("required field %s is missing", [path])
}

# METADATA
# title: Model card incomplete
# description: |
#   The model card sections listed in data.modelgate.config.model_card.sections
#   (intended use, limitations) must be written out: text of at least
#   model_card.min_chars characters under spec.governance.
deny_model_card contains {"msg": msg, "path": path} if {
	some section in lib.config.model_card.sections
	path := concat(".", ["spec.governance", section])
	text := object.get(input.manifest, ["spec", "governance", section], "")
	is_string(text)
	count(trim_space(text)) < lib.config.model_card.min_chars
	msg := sprintf("model card: %s needs at least %d characters of text, found %d", [path, lib.config.model_card.min_chars, count(trim_space(text))])
}

deny_model_card contains {"msg": msg, "path": path} if {
	some section in lib.config.model_card.sections
	path := concat(".", ["spec.governance", section])
	text := object.get(input.manifest, ["spec", "governance", section], "")
	not is_string(text)
	msg := sprintf("model card: %s must be text, found %s", [path, type_name(text)])
}

# METADATA
# title: Owner contact invalid
# description: |
#   metadata.owner must reach a person or a team: an e-mail address or a
#   GitHub team (@org/team). When data.modelgate.config.owner.allowed_domains
#   is not empty, e-mail addresses must belong to one of those domains.
deny_owner_contact contains {"msg": msg, "path": "metadata.owner"} if {
	owner := input.manifest.metadata.owner
	not lib.blank(owner)
	not contact(owner)
	msg := sprintf("metadata.owner %v is not a contact: use an e-mail address or a GitHub team such as @org/team", [owner])
}

deny_owner_contact contains {"msg": msg, "path": "metadata.owner"} if {
	owner := input.manifest.metadata.owner
	email(owner)
	count(lib.config.owner.allowed_domains) > 0
	domain := lower(split(owner, "@")[1])
	not domain in {lower(d) | some d in lib.config.owner.allowed_domains}
	msg := sprintf("metadata.owner %s: the domain %s is not one of %s", [owner, domain, concat(", ", lib.config.owner.allowed_domains)])
}

contact(owner) if email(owner)

contact(owner) if regex.match(`^@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$`, owner)

email(owner) if regex.match(`^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`, owner)
