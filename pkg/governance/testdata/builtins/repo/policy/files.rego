package main

# Paths are relative to this file's directory, as in conftest.
deny contains sprintf("owner %s is not on the list", [input.metadata.owner]) if {
	owners := parse_config_file("../conf/owners.yaml")
	not input.metadata.owner in owners.allowed
}

warn contains sprintf("%d configurations: %s", [count(all), concat(",", [c.path | some c in all])]) if {
	all := parse_combined_config_files(["../conf/owners.yaml", "../conf/teams.json", "../conf/multi.yaml"])
}

warn contains sprintf("inline team %s", [cfg.team]) if {
	cfg := parse_config("yaml", "team: risk\nyes_is: yes\n")
	cfg.yes_is == "yes"
}

warn contains sprintf("json %v", [cfg.n]) if {
	cfg := parse_config("json", `{"n": 1.5}`)
}

# These fail: each is a policy error on the document.
deny_outside contains "read" if {
	input.metadata.labels.outside == "true"
	parse_config_file("../../outside.yaml")
}

deny_link contains "read" if {
	input.metadata.labels.link == "true"
	parse_config_file("../conf/link.yaml")
}

deny_missing contains "read" if {
	input.metadata.labels.missing == "true"
	parse_config_file("../conf/nope.yaml")
}

deny_parser contains "read" if {
	input.metadata.labels.toml == "true"
	parse_config("toml", "a = 1")
}
