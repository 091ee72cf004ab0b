package canary

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// maxChartPoints thins the series kept for the status comment's chart.
const maxChartPoints = 60

// MetricsAnalyzer is the Analyzer that has pkg/analysis read each metric
// of the plan for both versions from its provider and judge the look.
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

// JudgeLook reads the window up to the look's planned end for both
// versions and judges it. Provider failures become AnalysisUnavailable and
// a canary that does not serve the stage's share TrafficMismatch: the
// state machine decides what follows. Only a cancelled context is an error.
func (e *MetricsAnalyzer) JudgeLook(ctx context.Context, l Subject, look int) (*Look, rollout.Event, error) {
	st, plan := l.State, l.Plan
	looks := plan.Looks(st.Stage)
	a := &Look{At: e.Clock.Now(), Since: st.Since, Look: look, Looks: looks}
	provider, err := e.Providers.Lookup(plan.Analysis.Provider)
	if err != nil {
		a.Decision, a.Error = string(analysis.NoData), err.Error()
		return a, rollout.AnalysisUnavailable{Look: look, Reason: err.Error()}, nil
	}
	req := analysis.Request{Metrics: plan.Analysis.Metrics, Model: l.Model, Baseline: st.Baseline, Canary: st.Version,
		Since: st.Since, Interval: plan.Analysis.Interval, Look: judge.Look{Index: look, Planned: looks},
		Traffic: plan.Stages[st.Stage].Traffic}
	judged, err := analysis.Analyzer{Judge: e.Judge}.Look(ctx, provider, req)
	if err != nil {
		return nil, nil, err
	}
	a.fill(judged, fmt.Sprintf("%s/%s/stage-%d/look-%d", l.Model, st.Version, st.Stage+1, look))
	return a, judged.Event(), nil
}

// fill copies a judged look into the stored one, with its replay line
// under id.
func (a *Look) fill(j analysis.Judged, id string) {
	a.Decision, a.Reason = string(j.Outcome), j.Reason
	if j.Outcome == analysis.NoData && len(j.Report.Metrics) == 0 {
		a.Error = j.Reason
	}
	if line, err := j.Line(id); err == nil {
		a.Line = line
	}
	if s := j.Split; s != nil {
		a.Split = &Split{Metric: s.Metric, Baseline: s.Baseline, Canary: s.Canary, Want: s.Want}
	}
	for i, r := range j.Report.Metrics {
		in, read := j.Inputs[i], j.Reads[i]
		m := LookMetric{Name: r.Name, Kind: string(in.Kind), Direction: string(in.Direction), Tolerance: in.Tolerance,
			Critical: r.Critical, Baseline: Num(r.Baseline), Canary: Num(r.Canary),
			Change: Num(r.Change), CI: [2]Num{Num(r.CI[0]), Num(r.CI[1])}, P: Num(r.P), Confidence: r.Confidence,
			Verdict: string(r.Verdict), Reason: r.Reason, Requests: [2]float64{r.BaselineRequests, r.CanaryRequests},
			Dispersion: r.Dispersion, Notes: read.Notes}
		m.BaselineSeries, m.CanarySeries = series(in, read)
		a.Metrics = append(a.Metrics, m)
	}
}

// series is what the chart shows of a metric: its samples, or for the
// count kinds each slice's rate or quantile, thinned.
func series(in judge.Metric, read analysis.Read) (base, canary []Point) {
	at := func(i, batch int) time.Time {
		if k := i*max(batch, 1) + max(batch, 1) - 1; k < len(read.Times) {
			return read.Times[k]
		}
		return time.Time{}
	}
	points := func(xs []float64, batch int) []Point {
		var out []Point
		for i, x := range xs {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				out = append(out, Point{T: at(i, batch), V: x})
			}
		}
		return thin(out)
	}
	switch {
	case in.Ratio != nil:
		return points(rates(in.Ratio.Baseline), 1), points(rates(in.Ratio.Canary), 1)
	case in.Histogram != nil:
		h := in.Histogram
		return points(quantiles(h.Le, h.Baseline, h.Quantile), 1), points(quantiles(h.Le, h.Canary, h.Quantile), 1)
	}
	return points(in.Baseline, read.Batch), points(in.Canary, read.Batch)
}

// rates is a ratio's rate per slice, NaN in a slice without requests.
func rates(c judge.Counts) []float64 {
	out := make([]float64, len(c.Total))
	for i := range out {
		out[i] = math.NaN()
		if c.Total[i] > 0 {
			out[i] = c.Errors[i] / c.Total[i]
		}
	}
	return out
}

// quantiles is a histogram's quantile per slice.
func quantiles(le []float64, rows judge.Buckets, q float64) []float64 {
	out := make([]float64, len(rows))
	for i, row := range rows {
		out[i] = judge.BucketQuantile(le, row, q)
	}
	return out
}

// thin keeps at most maxChartPoints points, evenly spread.
func thin(points []Point) []Point {
	n := len(points)
	k := min(n, maxChartPoints)
	out := make([]Point, 0, k)
	for i := range k {
		out = append(out, points[i*n/k])
	}
	return out
}
