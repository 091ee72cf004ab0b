package rollout

import "time"

// Event is something that happened to a rollout: a deployment status from
// the user's workflow, a judge outcome, or a ChatOps command.
type Event interface{ event() }

// DeploymentSucceeded: the deploy workflow reported success for the
// current stage's deployment.
type DeploymentSucceeded struct{}

// DeploymentFailed: the deploy workflow reported failure or error.
type DeploymentFailed struct{ Reason string }

// The judge's decisions (the values of judge.Decision).
const (
	DecisionPass         = "pass"
	DecisionFail         = "fail"
	DecisionInconclusive = "inconclusive"
)

// AnalysisResult is the judge's outcome at one look of the window.
type AnalysisResult struct {
	// Decision is pass, fail or inconclusive.
	Decision string
	Reason   string
	// Look is the look this answers, as given by ScheduleAnalysis.
	Look int
	// Critical says a critical metric failed: the rollout rolls back at
	// once, at any look. Other failures roll back at the window's end.
	Critical bool
}

// AnalysisUnavailable: the metrics provider could not answer the look, or
// answered it without enough samples to judge (NoData).
type AnalysisUnavailable struct {
	Look   int
	Reason string
	// NoData says the provider answered, with too few samples.
	NoData bool
}

// TrafficMismatch: at this look, the canary's share of the requests is far
// from the stage's traffic (the deploy workflow reported success but
// shifted nothing, or everything): the rollout pauses instead of judging a
// canary that is not really serving the stage's share.
type TrafficMismatch struct {
	Look   int
	Reason string
}

// Promote is /promote. Passing says the judge passed the current window
// at its latest look: a stage still analysing may then advance at once.
type Promote struct{ Passing bool }

// Rollback is /rollback [reason].
type Rollback struct{ Reason string }

// Abort is /abort.
type Abort struct{}

// Pause is /pause.
type Pause struct{}

// Resume is /resume.
type Resume struct{}

func (DeploymentSucceeded) event() {}
func (DeploymentFailed) event()    {}
func (AnalysisResult) event()      {}
func (AnalysisUnavailable) event() {}
func (TrafficMismatch) event()     {}
func (Promote) event()             {}
func (Rollback) event()            {}
func (Abort) event()               {}
func (Pause) event()               {}
func (Resume) event()              {}

// Action is something the engine must do after a transition, in order.
type Action interface{ action() }

// The tasks of the deployments the bot creates (DESIGN.md, "Deployments").
const (
	TaskCanary   = "deploy:canary"
	TaskPromote  = "deploy:promote"
	TaskRollback = "deploy:rollback"
)

// CreateDeployment asks for a new GitHub Deployment. Stage counts from 0.
// For a rollback, Version is the baseline and TrafficPercent 100: all
// traffic goes back to it.
type CreateDeployment struct {
	Task           string
	Stage          int
	TrafficPercent float64
	Version        string
}

// The deployment states the bot reports itself.
const (
	StatusInProgress = "in_progress"
	StatusSuccess    = "success"
	StatusFailure    = "failure"
)

// SetDeploymentStatus reports a verdict on the current stage's deployment.
type SetDeploymentStatus struct{ State, Description string }

// ScheduleAnalysis asks for the judge to run look Look at time At.
type ScheduleAnalysis struct {
	At   time.Time
	Look int
}

// UpdateComment asks for the rollout's status comment to be re-rendered.
type UpdateComment struct{}

// PostComment asks for a new comment on the pull request, to notify.
type PostComment struct{ Text string }

func (CreateDeployment) action()    {}
func (SetDeploymentStatus) action() {}
func (ScheduleAnalysis) action()    {}
func (UpdateComment) action()       {}
func (PostComment) action()         {}
