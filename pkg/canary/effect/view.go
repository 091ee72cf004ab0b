package effect

import (
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/rolloutcomment"
	"github.com/modelgate/modelgate/pkg/store"
)

// view is what the status comment shows of a rollout.
func (e *Executor) view(l canary.Rollout) rolloutcomment.View {
	st := l.Record.State
	v := rolloutcomment.View{
		RolloutID: l.Row.ID, Model: l.Row.Model, Version: st.Version, Baseline: st.Baseline,
		Environment: l.Row.Environment, HeadSHA: l.Row.HeadSHA, RepoURL: e.webURL() + "/" + l.Row.Repo,
		StartedBy: l.Row.StartedBy, Phase: string(st.Phase), Reason: st.Reason, Outage: st.Outage, Current: st.Stage,
		Interval: l.Plan.Analysis.Interval, UpdatedAt: e.Clock.Now(), StartedAt: l.Row.CreatedAt,
	}
	if st.Phase == rollout.Analyzing {
		v.Look, v.Looks = st.Look, l.Plan.Looks(st.Stage)
	}
	for i, s := range l.Plan.Stages {
		stage := rolloutcomment.Stage{Traffic: s.Traffic, Window: s.Analysis, Manual: s.Gate == rollout.GateManual,
			State: stageState(i, st)}
		if i < len(l.Record.Deployments) {
			stage.DeploymentID = l.Record.Deployments[i]
		}
		v.Stages = append(v.Stages, stage)
	}
	if a := l.Record.Analysis; a != nil {
		v.Analysis = lookView(a)
	}
	return v
}

// stageState says what became of stage i.
func stageState(i int, st rollout.State) string {
	switch {
	case i < st.Stage:
		return store.StagePassed
	case i > st.Stage:
		return "pending"
	}
	switch st.Phase {
	case rollout.Deploying:
		return store.StageDeploying
	case rollout.Analyzing:
		return store.StageAnalyzing
	case rollout.Waiting:
		return "waiting"
	case rollout.Paused:
		return "paused"
	case rollout.Promoted:
		return store.StagePassed
	case rollout.Aborted:
		return store.StageSkipped
	}
	return store.StageFailed
}

func lookView(a *canary.Look) *rolloutcomment.Analysis {
	out := &rolloutcomment.Analysis{At: a.At, Since: a.Since, Look: a.Look, Looks: a.Looks, Decision: a.Decision, Reason: a.Reason, Error: a.Error}
	for _, m := range a.Metrics {
		out.Metrics = append(out.Metrics, rolloutcomment.Metric{
			Name: m.Name, Direction: m.Direction, Tolerance: m.Tolerance, Critical: m.Critical,
			Baseline: float64(m.Baseline), Canary: float64(m.Canary), Change: float64(m.Change),
			CI: [2]float64{float64(m.CI[0]), float64(m.CI[1])}, P: float64(m.P), Confidence: m.Confidence,
			Verdict: m.Verdict, Reason: m.Reason, Kind: m.Kind, Requests: m.Requests,
			BaselineSeries: points(m.BaselineSeries), CanarySeries: points(m.CanarySeries),
		})
	}
	return out
}

func points(ps []canary.Point) []rolloutcomment.Point {
	out := make([]rolloutcomment.Point, len(ps))
	for i, p := range ps {
		out[i] = rolloutcomment.Point{T: p.T, V: p.V}
	}
	return out
}
