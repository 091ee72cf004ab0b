package chatops

// helpText answers /help.
const helpText = "**modelgate commands** (first line of a pull-request comment; write access needed)\n\n" +
	"| command | what it does |\n|---|---|\n" +
	"| `/canary [--dry-run] [model...]` | start a canary rollout of the models this PR changes |\n" +
	"| `/promote [model]` | move the rollout to its next stage now |\n" +
	"| `/rollback [model] [\"reason\"]` | send all traffic back to the baseline |\n" +
	"| `/abort` | stop the rollout where it is |\n" +
	"| `/pause` | stop advancing on its own |\n" +
	"| `/resume` | advance again after `/pause` |\n" +
	"| `/status` | show this PR's rollouts and the locked environments |\n" +
	"| `/lock [environment] [\"reason\"]` | refuse `/canary` and `/promote` in an environment |\n" +
	"| `/unlock [environment]` | lift the lock |\n" +
	"| `/help` | this list |\n\n" +
	"The governance policies may ask for more than write access (approvals, labels)."
