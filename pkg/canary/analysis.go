package canary

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// Samples per interval: a query's step is the analysis interval divided
// by this, so that the first look of a window has enough samples to judge.
const samplesPerInterval = 10

// maxChartPoints thins the series kept for the status comment's chart.
const maxChartPoints = 60

// MetricsAnalyzer is the Analyzer that reads each metric of the plan for
// both versions from its provider and has the judge decide.
type MetricsAnalyzer struct {
	Providers Providers
	Judge     *judge.Judge
	Clock     Clock
}

// Providers finds the metrics provider a plan names.
type Providers interface {
	Lookup(name string) (metrics.Provider, error)
}

var _ Analyzer = (*MetricsAnalyzer)(nil)

// JudgeLook queries the window up to the look's planned end for both
// versions and judges it. Provider failures become AnalysisUnavailable:
// the state machine decides how many it tolerates. Only a cancelled
// context is an error.
func (e *MetricsAnalyzer) JudgeLook(ctx context.Context, l Subject, look int) (*Look, rollout.Event, error) {
	st, plan := l.State, l.Plan
	looks := plan.Looks(st.Stage)
	a := &Look{At: e.Clock.Now(), Since: st.Since, Look: look, Looks: looks}
	unavailable := func(reason string) (*Look, rollout.Event, error) {
		a.Decision, a.Error = "nodata", reason
		return a, rollout.AnalysisUnavailable{Look: look, Reason: reason}, nil
	}
	provider, err := e.Providers.Lookup(plan.Analysis.Provider)
	if err != nil {
		return unavailable(err.Error())
	}
	end := st.Since.Add(time.Duration(look) * plan.Analysis.Interval)
	var cases []judge.Metric
	for _, m := range plan.Analysis.Metrics {
		c, series, err := e.samples(ctx, provider, l, m, st.Since, end)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			return unavailable(fmt.Sprintf("%s: %v", m.Name, err))
		}
		cases = append(cases, c)
		a.Metrics = append(a.Metrics, series)
	}
	rep, err := e.Judge.JudgeAt(judge.Look{Planned: looks, Index: look}, cases)
	if err != nil {
		return unavailable("the judge cannot judge this plan: " + err.Error())
	}
	a.fill(rep)
	if why := noData(rep); why != "" {
		// An empty answer is a failed look, like no answer: it counts
		// towards the limit that pauses the rollout.
		a.Decision = "nodata"
		return a, rollout.AnalysisUnavailable{Look: look, Reason: why, NoData: true}, nil
	}
	return a, verdictEvent(rep, look), nil
}

// noData says why no metric of the report could be judged, or "" when
// one could.
func noData(rep judge.Report) string {
	var why []string
	for _, r := range rep.Metrics {
		if r.Verdict != judge.NoData {
			return ""
		}
		why = append(why, r.Name+": "+r.Reason)
	}
	return "no data (" + strings.Join(why, "; ") + ")"
}

// samples reads one metric for both versions.
func (e *MetricsAnalyzer) samples(ctx context.Context, p metrics.Provider, l Subject, m rollout.Metric, from, to time.Time) (judge.Metric, LookMetric, error) {
	step := max(l.Plan.Analysis.Interval/samplesPerInterval, 100*time.Millisecond)
	q := metrics.Query{Template: m.Query, Model: l.Model, Start: from, End: to, Step: step}
	q.Version = l.State.Baseline
	base, err := p.Samples(ctx, q)
	if err != nil {
		return judge.Metric{}, LookMetric{}, fmt.Errorf("baseline %s: %w", q.Version, err)
	}
	q.Version = l.State.Version
	canary, err := p.Samples(ctx, q)
	if err != nil {
		return judge.Metric{}, LookMetric{}, fmt.Errorf("canary %s: %w", q.Version, err)
	}
	c := judge.Metric{Name: m.Name, Direction: judge.Direction(m.Direction), Tolerance: m.Tolerance, Critical: m.Critical,
		Baseline: values(base), Canary: values(canary)}
	am := LookMetric{Name: m.Name, Direction: m.Direction, Tolerance: m.Tolerance, Critical: m.Critical,
		Baseline: Num(median(c.Baseline)), Canary: Num(median(c.Canary)),
		BaselineSeries: thin(base.Samples), CanarySeries: thin(canary.Samples)}
	return c, am, nil
}

func values(s metrics.Series) []float64 {
	out := make([]float64, len(s.Samples))
	for i, p := range s.Samples {
		out[i] = p.Value
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// thin keeps at most maxChartPoints samples, evenly spread.
func thin(samples []metrics.Sample) []Point {
	n := len(samples)
	k := min(n, maxChartPoints)
	out := make([]Point, 0, k)
	for i := range k {
		s := samples[i*n/k]
		out = append(out, Point{T: s.Time, V: s.Value})
	}
	return out
}

// fill copies the judge's report into the stored analysis.
func (a *Look) fill(rep judge.Report) *Look {
	a.Decision, a.Reason = string(rep.Decision), rep.Reason
	for i, r := range rep.Metrics {
		m := &a.Metrics[i]
		m.Change, m.CI, m.P = Num(r.Change), [2]Num{Num(r.CI[0]), Num(r.CI[1])}, Num(r.P)
		m.Confidence, m.Verdict, m.Reason = r.Confidence, string(r.Verdict), r.Reason
	}
	return a
}

// verdictEvent turns a report into the state machine's event. A failure
// names each failing metric with its change, interval and confidence.
func verdictEvent(rep judge.Report, look int) rollout.Event {
	ev := rollout.AnalysisResult{Decision: string(rep.Decision), Reason: rep.Reason, Look: look}
	if rep.Decision != judge.DecisionFail {
		return ev
	}
	var failed []string
	for _, r := range rep.Metrics {
		if r.Verdict == judge.Fail {
			failed = append(failed, r.String())
			ev.Critical = ev.Critical || r.Critical
		}
	}
	if len(failed) > 0 {
		ev.Reason = strings.Join(failed, "; ")
	}
	return ev
}
