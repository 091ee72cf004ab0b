package canary

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/rolloutcomment"
	"github.com/modelgate/modelgate/pkg/store"
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

// summarize turns the promotion's notice into the final summary: the
// stages passed, how long it took, and the last judgement of each metric.
func (l *loaded) summarize(now time.Time) {
	for i := len(l.rec.Outbox) - 1; i >= 0; i-- {
		ef := &l.rec.Outbox[i]
		if ef.Kind != effNote {
			continue
		}
		traffic := make([]string, len(l.plan.Stages))
		for j, s := range l.plan.Stages {
			traffic[j] = fmt.Sprintf("%g %%", s.Traffic)
		}
		text := fmt.Sprintf("%s It passed %d stages (%s) in %s.", ef.Text, len(l.plan.Stages),
			strings.Join(traffic, ", "), now.Sub(l.row.CreatedAt).Round(time.Second))
		if a := l.rec.Analysis; a != nil {
			var last []string
			for _, m := range a.Metrics {
				last = append(last, fmt.Sprintf("%s %s (%s)", m.Name, m.Verdict, changeText(m)))
			}
			text += fmt.Sprintf(" Last judgement, look %d of %d: %s.", a.Look, a.Looks, strings.Join(last, "; "))
		}
		ef.Text = text
		return
	}
}

// changeText is a metric's change with its interval, or "no data".
func changeText(m analysedMetric) string {
	c, lo, hi := float64(m.Change), float64(m.CI[0]), float64(m.CI[1])
	if math.IsNaN(c) {
		return "no data"
	}
	return fmt.Sprintf("%+.1f %% [%+.1f %%, %+.1f %%]", 100*c, 100*lo, 100*hi)
}
