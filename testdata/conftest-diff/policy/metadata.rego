# METADATA
# title: Risk policies
# description: Annotated rules; conftest ignores the severity they declare.
package team.risk

import rego.v1

# METADATA
# title: Personal data needs a DPIA
# description: A model that processes personal data names its DPIA.
# custom:
#   severity: warning
deny contains msg if {
	input.spec.governance.pii == true
	not input.spec.governance.dpia
	msg := sprintf("%s processes personal data without a DPIA", [input.metadata.name])
}

# METADATA
# title: Risk tier
# custom:
#   severity: info
deny_tier contains {"msg": msg, "severity": "info"} if {
	not input.spec.governance.risk_tier in {"minimal", "limited", "high"}
	msg := sprintf("risk tier %v is unknown", [input.spec.governance.risk_tier])
}

exception contains ["tier"] if input.metadata.labels.tier == "exempt"
