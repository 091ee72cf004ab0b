package canary

import (
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/rolloutcomment"
)

// view is what the status comment shows of a rollout.
func (e *Engine) view(l loaded) rolloutcomment.View {
	st := l.rec.State
	v := rolloutcomment.View{
		RolloutID: l.row.ID, Model: l.row.Model, Version: st.Version, Baseline: st.Baseline,
		Environment: l.row.Environment, HeadSHA: l.row.HeadSHA, RepoURL: e.webURL() + "/" + l.row.Repo,
		StartedBy: l.row.StartedBy, Phase: string(st.Phase), Reason: st.Reason, Current: st.Stage,
		Interval: l.plan.Analysis.Interval, UpdatedAt: e.now(), StartedAt: l.row.CreatedAt,
	}
	if st.Phase == rollout.Analyzing {
		v.Look, v.Looks = st.Look, l.plan.Looks(st.Stage)
	}
	for i, s := range l.plan.Stages {
		stage := rolloutcomment.Stage{Traffic: s.Traffic, Window: s.Analysis, Manual: s.Gate == rollout.GateManual,
			State: stageState(i, st)}
		if i < len(l.rec.Deployments) {
			stage.DeploymentID = l.rec.Deployments[i]
		}
		v.Stages = append(v.Stages, stage)
	}
	if a := l.rec.Analysis; a != nil {
		v.Analysis = a.view()
	}
	return v
}

// stageState says what became of stage i.
func stageState(i int, st rollout.State) string {
	switch {
	case i < st.Stage:
		return "passed"
	case i > st.Stage:
		return "pending"
	}
	switch st.Phase {
	case rollout.Deploying:
		return "deploying"
	case rollout.Analyzing:
		return "analysing"
	case rollout.Waiting:
		return "waiting"
	case rollout.Paused:
		return "paused"
	case rollout.Promoted:
		return "passed"
	case rollout.Aborted:
		return "skipped"
	}
	return "failed"
}

func (a *analysis) view() *rolloutcomment.Analysis {
	out := &rolloutcomment.Analysis{At: a.At, Since: a.Since, Look: a.Look, Looks: a.Looks, Decision: a.Decision, Reason: a.Reason, Error: a.Error}
	for _, m := range a.Metrics {
		out.Metrics = append(out.Metrics, rolloutcomment.Metric{
			Name: m.Name, Direction: m.Direction, Tolerance: m.Tolerance, Critical: m.Critical,
			Baseline: float64(m.Baseline), Canary: float64(m.Canary), Change: float64(m.Change),
			CI: [2]float64{float64(m.CI[0]), float64(m.CI[1])}, P: float64(m.P), Confidence: m.Confidence,
			Verdict: m.Verdict, Reason: m.Reason,
			BaselineSeries: points(m.BaselineSeries), CanarySeries: points(m.CanarySeries),
		})
	}
	return out
}

func points(ps []point) []rolloutcomment.Point {
	out := make([]rolloutcomment.Point, len(ps))
	for i, p := range ps {
		out[i] = rolloutcomment.Point{T: p.T, V: p.V}
	}
	return out
}
