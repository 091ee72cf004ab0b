package canary

import (
	"time"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// Observer hears the engine's decisions, for its metrics (pkg/instrument).
type Observer interface {
	// StageStarted: a stage's deployment was created (task
	// deploy:canary or deploy:promote).
	StageStarted(task string)
	// Ended: a rollout ended in state (promoted, rolled_back, aborted,
	// failed) for reason (see EndReason).
	Ended(state, reason string)
	// Judged: a look was judged, lag after its planned time.
	Judged(look *Look, lag time.Duration)
}

// The reasons a rollout ends, as EndReason names them.
const (
	EndPassed   = "stages_passed"     // every stage passed
	EndAnalysis = "analysis"          // the judge failed the canary
	EndCommand  = "command"           // /rollback or /abort
	EndReleased = "released"          // the bot released it: its pull request closed, or a newer /canary
	EndDeploy   = "deployment_failed" // the deploy workflow or GitHub refused a stage
)

// EndReason classifies the event that ended a rollout, and who sent it.
func EndReason(ev rollout.Event, actor string) string {
	switch ev.(type) {
	case rollout.AnalysisResult:
		return EndAnalysis
	case rollout.DeploymentFailed:
		return EndDeploy
	case rollout.Rollback, rollout.Abort:
		if actor == Bot {
			return EndReleased
		}
		return EndCommand
	}
	return EndPassed
}

// nobody is the Observer of an engine without metrics.
type nobody struct{}

func (nobody) StageStarted(string)         {}
func (nobody) Ended(string, string)        {}
func (nobody) Judged(*Look, time.Duration) {}

// Observe returns o, or an Observer that hears nothing when o is nil.
func Observe(o Observer) Observer {
	if o == nil {
		return nobody{}
	}
	return o
}
