package realbench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/judge/sim"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// windowJudge judges one window of one pair with every plan and judge.
type windowJudge struct {
	a               analysis.Analyzer
	prov            analysis.Provider
	interval, stage time.Duration
	looks           int
	plans           []Plan
}

// reads caches each metric's reading per look: the plans share them, as
// one plan holding all the metrics would read them.
type reads struct {
	w     windowJudge
	sc    Scenario
	model string
	since time.Time
	cache map[string]analysis.Data
}

func (r *reads) request(ms []rollout.Metric, look int) analysis.Request {
	return analysis.Request{Metrics: ms, Model: r.model, Baseline: baselineVersion, Canary: canaryVersion,
		Since: r.since, Interval: r.w.interval, Look: judge.Look{Index: look, Planned: r.w.looks}, Traffic: r.sc.Traffic()}
}

// data is what look reads of the metrics, through the engine's ReadLook.
func (r *reads) data(ctx context.Context, ms []rollout.Metric, look int) (analysis.Data, error) {
	var out analysis.Data
	for _, m := range ms {
		key := fmt.Sprintf("%s/%d", m.Name, look)
		d, ok := r.cache[key]
		if !ok {
			var err error
			if d, err = analysis.ReadLook(ctx, r.w.prov, r.request([]rollout.Metric{m}, look)); err != nil {
				return analysis.Data{}, err
			}
			r.cache[key] = d
		}
		if d.Unavailable != "" && out.Unavailable == "" {
			out.Unavailable = d.Unavailable
		}
		out.Inputs, out.Reads = append(out.Inputs, d.Inputs...), append(out.Reads, d.Reads...)
	}
	return out, nil
}

func (w windowJudge) judge(ctx context.Context, sc Scenario, model string, since time.Time) (map[string]Cell, error) {
	r := &reads{w: w, sc: sc, model: model, since: since, cache: map[string]analysis.Data{}}
	out := map[string]Cell{}
	if gap, err := w.gap(ctx, r); err != nil || gap {
		for _, name := range judgeNames(w.plans) {
			out[name] = Cell{Gaps: 1}
		}
		return out, err
	}
	for _, p := range w.plans {
		c, err := w.stageOf(ctx, r, p)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", sc.Name, model, p.Name, err)
		}
		out[p.Name] = c
	}
	if err := w.comparisons(ctx, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// gap says whether the recording of the window, extension included, has a
// slice end where a series of the pair has no value: the whole window, read
// as the last look of the extension would read it.
func (w windowJudge) gap(ctx context.Context, r *reads) (bool, error) {
	d, err := r.data(ctx, []rollout.Metric{errorRate, latencyP99}, w.looks+1)
	if err != nil {
		return false, err
	}
	if d.Unavailable != "" {
		return true, nil
	}
	for _, read := range d.Reads {
		if read.Problem != "" {
			return true, nil
		}
	}
	return false, nil
}

func judgeNames(plans []Plan) []string {
	var out []string
	for _, p := range plans {
		out = append(out, p.Name)
	}
	return append(out, KayentaErrors, KayentaP99, KayentaBoth, ExactBinomial)
}

// stageOf runs one stage of the plan through the state machine: each look
// is read, decided and fed to rollout.Next as the engine does, until the
// stage rolls back, passes or pauses.
func (w windowJudge) stageOf(ctx context.Context, r *reads, p Plan) (Cell, error) {
	plan := rollout.Plan{Stages: []rollout.Stage{{Traffic: r.sc.Traffic(), Analysis: w.stage}, {Traffic: 100}},
		Analysis: rollout.Analysis{Interval: w.interval, Metrics: p.Metrics, ConsecutiveErrorLimit: rollout.DefaultConsecutiveErrorLimit}}
	st, _, err := rollout.Start(plan, canaryVersion, baselineVersion)
	if err != nil {
		return Cell{}, err
	}
	now := r.since
	if st, _, err = rollout.Next(plan, st, rollout.DeploymentSucceeded{}, now); err != nil {
		return Cell{}, err
	}
	c := Cell{Windows: 1}
	for st.Phase == rollout.Analyzing {
		d, err := r.data(ctx, p.Metrics, st.Look)
		if err != nil {
			return Cell{}, err
		}
		judged := w.a.Decide(r.request(p.Metrics, st.Look), d)
		if judged.Outcome == analysis.NoData {
			c.NoData++
		}
		now = now.Add(w.interval)
		if st, _, err = rollout.Next(plan, st, judged.Event(), now); err != nil {
			return Cell{}, err
		}
	}
	switch st.Phase {
	case rollout.RolledBack:
		c.Rollbacks++
	case rollout.Paused:
		c.Paused++
	}
	return c, nil
}

// comparisons judges the window with the Kayenta-style judge at every
// look, on per-slice rates and quantiles of the same counts, and with an
// exact conditional binomial test of the errors once, at the last look.
func (w windowJudge) comparisons(ctx context.Context, r *reads, out map[string]Cell) error {
	k := sim.NewKayenta()
	rolled := map[string]bool{}
	for look := 1; look <= w.looks; look++ {
		d, err := r.data(ctx, []rollout.Metric{errorRate, latencyP99}, look)
		if err != nil {
			return err
		}
		if d.Unavailable != "" {
			continue
		}
		errs, p99 := sliceRates(d.Inputs[0]), sliceQuantiles(d.Inputs[1])
		for name, ms := range map[string][]judge.Metric{KayentaErrors: {errs}, KayentaP99: {p99}, KayentaBoth: {errs, p99}} {
			if k.Decide(ms) == judge.DecisionFail {
				rolled[name] = true
			}
		}
		if look == w.looks && exactFails(d.Inputs[0]) {
			rolled[ExactBinomial] = true
		}
	}
	for _, name := range []string{KayentaErrors, KayentaP99, KayentaBoth, ExactBinomial} {
		c := Cell{Windows: 1}
		if rolled[name] {
			c.Rollbacks = 1
		}
		out[name] = c
	}
	return nil
}

// sliceRates is a ratio's error rate per slice, as samples.
func sliceRates(m judge.Metric) judge.Metric {
	out := judge.Metric{Name: m.Name, Direction: m.Direction, Tolerance: m.Tolerance, Critical: true}
	if m.Ratio == nil {
		return out
	}
	rates := func(c judge.Counts) []float64 {
		var xs []float64
		for i := range c.Total {
			if c.Total[i] > 0 {
				xs = append(xs, c.Errors[i]/c.Total[i])
			}
		}
		return xs
	}
	out.Baseline, out.Canary = rates(m.Ratio.Baseline), rates(m.Ratio.Canary)
	return out
}

// sliceQuantiles is a histogram's quantile per slice, as samples.
func sliceQuantiles(m judge.Metric) judge.Metric {
	out := judge.Metric{Name: m.Name, Direction: m.Direction, Tolerance: m.Tolerance, Critical: true}
	h := m.Histogram
	if h == nil {
		return out
	}
	qs := func(rows judge.Buckets) []float64 {
		var xs []float64
		for _, row := range rows {
			if q := judge.BucketQuantile(h.Le, row, h.Quantile); !math.IsInf(q, 0) && !math.IsNaN(q) {
				xs = append(xs, q)
			}
		}
		return xs
	}
	out.Baseline, out.Canary = qs(h.Baseline), qs(h.Canary)
	return out
}

// exactFails is the one-sided exact conditional binomial test at 1 % on
// a ratio's cumulative counts: given the errors of both sides, the
// canary's are binomial with its share of the requests under no change.
func exactFails(m judge.Metric) bool {
	if m.Ratio == nil {
		return false
	}
	xb, nb := sum(m.Ratio.Baseline.Errors), sum(m.Ratio.Baseline.Total)
	xc, nc := sum(m.Ratio.Canary.Errors), sum(m.Ratio.Canary.Total)
	if nb+nc == 0 || xb+xc == 0 {
		return false
	}
	return binomialUpper(xc, xb+xc, nc/(nb+nc)) <= 0.01
}

// binomialUpper is P(X >= x) for X binomial(k, p).
func binomialUpper(x, k, p float64) float64 {
	var sum float64
	for i := x; i <= k; i++ {
		a, _ := math.Lgamma(k + 1)
		b, _ := math.Lgamma(i + 1)
		c, _ := math.Lgamma(k - i + 1)
		sum += math.Exp(a - b - c + i*math.Log(p) + (k-i)*math.Log1p(-p))
	}
	return sum
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
