package main

deny contains msg if {
	msg := sprintf("%v", [opa.runtime().env.GITHUB_TOKEN])
}
