# METADATA
# title: ChatOps authorization
# description: |
#   Which ChatOps commands the bot may run. Each deny message refuses the
#   command and is posted as the reason. Input:
#   {command: {name, args, model, environment}, commenter: {login, permission},
#   manifest, pull_request: {number, author, labels, approvals, draft, head_sha},
#   rollout: {stage, traffic_percent} or null}. The bot also enforces write
#   access; these rules add the governance duties of data.modelgate.config.authz.
package modelgate.authz

cfg := data.modelgate.config.authz

command := trim_prefix(input.command.name, "/")

permission := object.get(input.commenter, "permission", "none")

login := object.get(input.commenter, "login", "someone")

# rank orders permissions (data.modelgate.config.authz.permissions); an
# unknown permission ranks as none.
rank(p) := i if {
	some i, x in cfg.permissions
	x == p
} else := 0

deploying if command in cfg.deploy_commands

tier := lower(input.manifest.spec.governance.risk_tier)

high_risk if tier in cfg.high_risk_tiers

# approvals counts the approving reviewers; unknown (null) counts as none.
approvals := input.pull_request.approvals if {
	is_number(input.pull_request.approvals)
} else := 0

# current_traffic is the share the rollout serves now (0 before /canary).
current_traffic := input.rollout.traffic_percent if {
	is_number(input.rollout.traffic_percent)
} else := 0

# target_traffic is where the command takes the model: the first stage for
# /canary, the next stage above the current traffic for /promote. A bot that
# knows better passes rollout.target_traffic_percent.
target_traffic := input.rollout.target_traffic_percent if {
	is_number(input.rollout.target_traffic_percent)
} else := min(traffics) if {
	command == "canary"
	count(traffics) > 0
} else := min({t | some t in traffics; t > current_traffic}) if {
	command == "promote"
}

traffics := {s.traffic | some s in input.manifest.spec.rollout.stages; is_number(s.traffic)}

# METADATA
# title: Unknown command
deny contains msg if {
	not cfg.commands[command]
	msg := sprintf("/%s is not a command this policy knows", [command])
}

# METADATA
# title: Permission too low
# description: Each command needs the repository permission of data.modelgate.config.authz.commands.
deny contains msg if {
	needed := cfg.commands[command]
	rank(permission) < rank(needed)
	msg := sprintf("/%s needs %s permission; @%s has %s", [command, needed, login, permission])
}

# METADATA
# title: Draft pull request
deny contains msg if {
	deploying
	input.pull_request.draft == true
	msg := sprintf("/%s: the pull request is a draft; mark it ready for review first", [command])
}

# METADATA
# title: No manifest
deny contains msg if {
	deploying
	input.manifest == null
	msg := sprintf("/%s: no model manifest for %v at the pull request head", [command, object.get(input.command, "model", "this model")])
}

# METADATA
# title: Prohibited risk tier
deny contains msg if {
	deploying
	tier in data.modelgate.config.risk.denied_tiers
	msg := sprintf("/%s: risk tier %s is prohibited; this model cannot be deployed", [command, tier])
}

# METADATA
# title: Retired model
deny contains msg if {
	deploying
	input.manifest.spec.lifecycle.stage == "retired"
	msg := sprintf("/%s: the model is retired and cannot be deployed", [command])
}

# METADATA
# title: High-risk approval gate
# description: |
#   A high-risk model needs high_risk_approvals approvals before it serves
#   more than approval_gate_traffic percent of the traffic.
deny contains msg if {
	deploying
	high_risk
	target_traffic > cfg.approval_gate_traffic
	approvals < cfg.high_risk_approvals
	msg := sprintf("/%s: a high-risk model needs %d approvals before it leaves %v %% of the traffic; this pull request has %d", [command, cfg.high_risk_approvals, cfg.approval_gate_traffic, approvals])
}

# METADATA
# title: Full traffic needs a higher permission
# description: Only full_traffic_permission (admin) may take a high-risk model to 100 % of the traffic.
deny contains msg if {
	deploying
	high_risk
	target_traffic >= 100
	rank(permission) < rank(cfg.full_traffic_permission)
	msg := sprintf("/%s: only %s may take a high-risk model to 100 %% of the traffic; @%s has %s", [command, cfg.full_traffic_permission, login, permission])
}
