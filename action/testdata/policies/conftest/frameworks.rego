package main

# A conftest policy written against the manifest file, unchanged.
deny contains msg if {
	input.spec.framework == "sklearn"
	msg := sprintf("%s: sklearn models are not accepted", [input.metadata.name])
}

warn contains {"msg": msg, "path": "spec.task"} if {
	not input.spec.task in data.allowed_tasks
	msg := sprintf("task %s is not one of %v", [input.spec.task, data.allowed_tasks])
}
