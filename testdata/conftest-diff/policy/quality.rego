package team.quality

import rego.v1

# Labels with dotted keys, as Kubernetes writes them.
warn contains msg if {
	some key, value in input.metadata.labels
	contains(key, ".")
	msg := sprintf("label %s=%v", [key, value])
}

# data.conftest.file: the file's name and directory.
warn_file contains msg if {
	input.metadata.labels.where == "show"
	msg := sprintf("checked %s in %s", [data.conftest.file.name, data.conftest.file.dir])
}

warn_file contains msg if {
	data.conftest.file.name != "model.yaml"
	msg := sprintf("manifest named %s", [data.conftest.file.name])
}

# A boolean a YAML 1.1 reader and a YAML 1.2 reader see differently.
deny_approved contains msg if {
	input.metadata.labels.approved == false
	msg := "the model is not approved"
}
