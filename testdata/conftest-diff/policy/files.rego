package team.files

import rego.v1

# conftest's builtins: a file next to the policies, several files at once,
# and a text parsed in place.
owners := parse_config_file("../conf/owners.yaml")

deny contains msg if {
	owner := input.metadata.owner
	not owner in owners.allowed
	msg := sprintf("owner %v is not on the list in conf/owners.yaml", [owner])
}

warn contains msg if {
	input.metadata.labels.combined == "show"
	configs := parse_combined_config_files(["../conf/owners.yaml", "../conf/teams.json"])
	msg := sprintf("%d configurations: %s", [count(configs), concat(", ", [c.path | some c in configs])])
}

violation contains msg if {
	cfg := parse_config("json", `{"blocked": ["tensorflow"]}`)
	input.spec.framework in cfg.blocked
	msg := sprintf("framework %s is blocked", [input.spec.framework])
}
