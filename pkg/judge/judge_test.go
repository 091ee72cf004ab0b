package judge

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newJudge(t *testing.T) *Judge {
	t.Helper()
	j, err := New(DefaultConfig())
	require.NoError(t, err)
	return j
}

// lognormal draws n samples with median m and log-sd s.
func lognormal(seed uint64, n int, m, s float64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed*0x9E3779B97F4A7C15+1))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = m * math.Exp(s*r.NormFloat64())
	}
	return xs
}

func latency(base, can []float64) Metric {
	return Metric{Name: "latency_p99_ms", Direction: IncreaseIsBad, Tolerance: 0.05, Critical: true,
		Baseline: base, Canary: can}
}

func TestMetricVerdicts(t *testing.T) {
	base := lognormal(1, 100, 100, 0.12)
	tests := []struct {
		name    string
		m       Metric
		verdict Verdict
		within  bool
		change  float64 // approximate expected change
	}{
		{"latency +25 % fails", latency(base, lognormal(2, 100, 125, 0.12)), Fail, false, 0.25},
		{"latency unchanged passes, not yet within tolerance", latency(base, lognormal(3, 100, 100, 0.12)), Pass, false, 0},
		{"latency unchanged passes within tolerance", latency(lognormal(9, 300, 100, 0.05), lognormal(10, 300, 100, 0.05)), Pass, true, 0},
		{"latency -50 % never fails", latency(base, lognormal(4, 100, 50, 0.12)), Pass, true, -0.5},
		{"F1 -3 points fails", Metric{Name: "f1", Direction: DecreaseIsBad, Tolerance: 0.005,
			Baseline: lognormal(5, 100, 0.90, 0.01), Canary: lognormal(6, 100, 0.87, 0.01)}, Fail, false, -0.033},
		{"F1 +3 points passes", Metric{Name: "f1", Direction: DecreaseIsBad, Tolerance: 0.005,
			Baseline: lognormal(5, 100, 0.90, 0.01), Canary: lognormal(6, 100, 0.93, 0.01)}, Pass, true, 0.033},
		{"significant but within tolerance passes", latency(lognormal(7, 300, 100, 0.05), lognormal(8, 300, 102, 0.05)), Pass, true, 0.02},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := j.Metric(tt.m)
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, r.Verdict, r.String())
			assert.Equal(t, tt.within, r.WithinTolerance, r.String())
			assert.InDelta(t, tt.change, r.Change, 0.03, r.String())
			assert.Less(t, r.CI[0], tt.change, "the interval holds the truth")
			assert.Greater(t, r.CI[1], tt.change, "the interval holds the truth")
			assert.Less(t, r.CI[0], r.Change)
			assert.Greater(t, r.CI[1], r.Change)
			assert.Equal(t, ScaleLog, r.Scale)
			if tt.verdict == Fail {
				assert.Less(t, r.P, 0.01)
				assert.Contains(t, r.Reason, "beyond tolerance")
			}
		})
	}
}

func TestRatesWithZerosUseMeans(t *testing.T) {
	// A canary at 5 % traffic: most intervals have no error at all.
	base := make([]float64, 300)
	can := make([]float64, 300)
	for i := range base {
		base[i] = 0.005 + 0.001*float64(i%5-2)
		if i%3 == 0 {
			can[i] = 0.03 // one error in ~33 requests: 2 % on average, 4x the baseline
		}
	}
	r, err := newJudge(t).Metric(Metric{Name: "error_rate", Direction: IncreaseIsBad, Tolerance: 0.1,
		Baseline: base, Canary: can})
	require.NoError(t, err)
	assert.Equal(t, ScaleMean, r.Scale)
	assert.Equal(t, Fail, r.Verdict, r.String())
	assert.InDelta(t, 1.0, r.Change, 0.01)
}

func TestForcedScale(t *testing.T) {
	base, can := lognormal(11, 50, 0.005, 0.3), lognormal(12, 50, 0.005, 0.3)
	j := newJudge(t)
	m := Metric{Name: "error_rate", Direction: IncreaseIsBad, Tolerance: 0.1, Baseline: base, Canary: can, Scale: ScaleMean}
	r, err := j.Metric(m)
	require.NoError(t, err)
	assert.Equal(t, ScaleMean, r.Scale)
	m.Scale, m.Canary = ScaleLog, append([]float64{0}, can...)
	r, err = j.Metric(m)
	require.NoError(t, err)
	assert.Equal(t, NoData, r.Verdict)
	assert.Equal(t, "the log scale needs positive samples", r.Reason)
}

func TestBadSamplesGiveNoData(t *testing.T) {
	good := lognormal(1, 20, 100, 0.1)
	with := func(i int, x float64) []float64 {
		xs := append([]float64(nil), good...)
		xs[i] = x
		return xs
	}
	same := make([]float64, 20)
	for i := range same {
		same[i] = 42
	}
	tests := []struct {
		name     string
		base     []float64
		can      []float64
		reason   string
		maxInput int
	}{
		{"empty lists", nil, nil, "baseline has no samples", 0},
		{"canary missing", good, nil, "canary has no samples", 0},
		{"baseline missing", []float64{}, good, "baseline has no samples", 0},
		{"too few", good, good[:3], "canary has 3 samples, need 5", 0},
		{"NaN", with(3, math.NaN()), good, "baseline sample 3 is NaN", 0},
		{"+Inf", good, with(4, math.Inf(1)), "canary sample 4 is +Inf", 0},
		{"-Inf", good, with(0, math.Inf(-1)), "canary sample 0 is -Inf", 0},
		{"negative latency", good, with(2, -5), "canary sample 2 is negative", 0},
		{"all equal", same, same, "no variation", 0},
		{"baseline all zeros", make([]float64, 20), good, "baseline mean is 0", 0},
		{"too many samples", make([]float64, 1_000_001), good, "more than the 1000000 accepted", 0},
		{"overflowing change", []float64{0, 1e-300, 2e-300, 1e-300, 3e-300}, []float64{1e300, 2e300, 1e300, 3e300, 1e300},
			"samples out of range", 0},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := j.Metric(latency(tt.base, tt.can))
			require.NoError(t, err)
			assert.Equal(t, NoData, r.Verdict)
			assert.Contains(t, r.Reason, tt.reason)
			assert.True(t, math.IsNaN(r.Change) && math.IsNaN(r.P))
			assert.Contains(t, r.String(), "nodata")
		})
	}
}

func TestInvalidPlanIsAnError(t *testing.T) {
	good := lognormal(1, 20, 100, 0.1)
	m := func(edit func(*Metric)) []Metric {
		x := latency(good, good)
		edit(&x)
		return []Metric{x}
	}
	tests := []struct {
		name    string
		metrics []Metric
		want    string
	}{
		{"no metrics", nil, "no metrics"},
		{"empty name", m(func(x *Metric) { x.Name = "" }), "empty name"},
		{"unknown direction", m(func(x *Metric) { x.Direction = "up" }), `direction "up"`},
		{"zero tolerance", m(func(x *Metric) { x.Tolerance = 0 }), "tolerance 0"},
		{"negative tolerance", m(func(x *Metric) { x.Tolerance = -0.1 }), "tolerance -0.1"},
		{"NaN tolerance", m(func(x *Metric) { x.Tolerance = math.NaN() }), "tolerance NaN"},
		{"infinite tolerance", m(func(x *Metric) { x.Tolerance = math.Inf(1) }), "tolerance +Inf"},
		{"decrease beyond 100 %", m(func(x *Metric) { x.Direction, x.Tolerance = DecreaseIsBad, 1 }), "must be below 1"},
		{"unknown scale", m(func(x *Metric) { x.Scale = "sqrt" }), `scale "sqrt"`},
		{"name twice", append(m(func(*Metric) {}), latency(good, good)), "listed twice"},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := j.Judge(tt.metrics)
			require.ErrorIs(t, err, ErrInvalidMetric)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDecide(t *testing.T) {
	res := func(name string, v Verdict, critical bool) Result {
		return Result{Name: name, Verdict: v, Critical: critical}
	}
	tests := []struct {
		name    string
		results []Result
		want    Decision
		reason  string
	}{
		{"all pass", []Result{res("a", Pass, true), res("b", Pass, false)}, DecisionPass, "score 100"},
		{"critical failure fails at once", []Result{res("a", Fail, true), res("b", Pass, false),
			res("c", Pass, false), res("d", Pass, false), res("e", Pass, false)}, DecisionFail, "critical metric failed: a"},
		{"one of two fails", []Result{res("a", Fail, false), res("b", Pass, false)}, DecisionFail, "below marginal"},
		{"one of five fails is marginal", []Result{res("a", Fail, false), res("b", Pass, false),
			res("c", Pass, false), res("d", Pass, false), res("e", Pass, false)}, DecisionInconclusive, "marginal"},
		{"no data at all", []Result{res("a", NoData, false)}, DecisionInconclusive, "no metric has data"},
		{"critical metric without data", []Result{res("a", NoData, true), res("b", Pass, false)},
			DecisionInconclusive, "critical metric without data: a"},
		{"non-critical nodata is left out", []Result{res("a", NoData, false), res("b", Pass, true)}, DecisionPass, "score 100"},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := j.decide(tt.results)
			assert.Equal(t, tt.want, rep.Decision)
			assert.Contains(t, rep.Reason, tt.reason)
		})
	}
}

func TestResultString(t *testing.T) {
	r := Result{Name: "latency_p99_ms", Verdict: Fail, Change: 0.123, CI: [2]float64{0.081, 0.164},
		P: 0.0012, Confidence: 0.99}
	assert.Equal(t, "latency_p99_ms +12.3 % [+8.1 %, +16.4 %], fail, p=0.0012 (99 % anytime-valid)", r.String())
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"confidence 1", func(c *Config) { c.Confidence = 1 }, "confidence"},
		{"marginal above pass", func(c *Config) { c.MarginalScore = 99 }, "scores"},
		{"min samples 1", func(c *Config) { c.MinSamples = 1 }, "samples"},
		{"trim 0.5", func(c *Config) { c.Trim = 0.5 }, "trim"},
		{"prior 0", func(c *Config) { c.PriorScale = 0 }, "prior scale"},
		{"negative spending power", func(c *Config) { c.SpendingPower = -1 }, "spending power"},
		{"NaN spending power", func(c *Config) { c.SpendingPower = math.NaN() }, "spending power"},
		{"overrun share 1", func(c *Config) { c.OverrunShare = 1 }, "overrun share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestStudentTail(t *testing.T) {
	// Reference values from tables of the t distribution.
	assert.InDelta(t, 0.025, studentUpperTail(2.228, 10), 1e-4)
	assert.InDelta(t, 0.005, studentUpperTail(2.947, 15), 1e-4)
	assert.InDelta(t, 0.5, studentUpperTail(0, 3), 1e-12)
	assert.InDelta(t, 2.228, zToT(normalUpperQuantile(0.025), 10), 1e-3)
	assert.InDelta(t, normalUpperQuantile(0.025), tToZ(2.228, 10), 1e-3)
	assert.Equal(t, 1.5, tToZ(1.5, math.Inf(1)))
}

// TestAlwaysValid judges A/A canaries at every sample from 5 to 200 and
// checks that the rate of ever failing stays below 1 - Confidence.
func TestAlwaysValid(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const reps, n = 400, 100
	var looks []windowLook
	for l := 5; l <= n; l++ {
		looks = append(looks, windowLook{n: l})
	}
	fails := aaEverFailed(t, newJudge(t), reps, 0, looks)
	assert.LessOrEqual(t, float64(fails)/reps, 0.01)
}

// windowLook is a look at the first n samples of a growing window.
type windowLook struct {
	look Look
	n    int
}

// aaEverFailed judges reps A/A latency canaries at each of looks and
// returns how many failed at some look; it logs how many of those failed
// first at a look beyond the plan.
func aaEverFailed(t *testing.T, j *Judge, reps int, seed uint64, looks []windowLook) int {
	t.Helper()
	n := looks[len(looks)-1].n
	fails, late := 0, 0
	for rep := range uint64(reps) {
		base := lognormal(seed+2*rep, n, 100, 0.12)
		can := lognormal(seed+2*rep+1, n, 100, 0.12)
		for _, l := range looks {
			r, err := j.MetricAt(l.look, latency(base[:l.n], can[:l.n]))
			require.NoError(t, err)
			if r.Verdict == Fail {
				fails++
				if l.look.Planned > 0 && l.look.Index > l.look.Planned {
					late++
				}
				break
			}
		}
	}
	t.Logf("A/A canaries ever failed: %d of %d (%d first after the plan)", fails, reps, late)
	return fails
}

func TestOneLookIsTheFixedSampleTest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OverrunShare = 0
	j, err := New(cfg)
	require.NoError(t, err)
	m := latency(lognormal(21, 30, 100, 0.12), lognormal(22, 30, 108, 0.12))
	r, err := j.MetricAt(Look{Planned: 1, Index: 1}, m)
	require.NoError(t, err)
	b, c := yuen(m.Baseline, cfg.Trim), yuen(m.Canary, cfg.Trim)
	e := combine(b, c)
	// The one-sided Yuen-Welch p-value, and its 99 % two-sided interval.
	assert.InDelta(t, studentUpperTail(e.bad/e.se, e.df), r.P, 1e-9)
	half := zToT(normalUpperQuantile(0.005), e.df) * e.se
	assert.InDelta(t, math.Expm1(e.bad-half), r.CI[0], 1e-6)
	assert.InDelta(t, math.Expm1(e.bad+half), r.CI[1], 1e-6)
	assert.Equal(t, Look{Planned: 1, Index: 1}, r.Look)
	assert.Contains(t, r.String(), "(99 % at look 1 of 1)")
	assert.Equal(t, r.P <= 0.01 && r.Change > 0.05, r.Verdict == Fail, r.String())
}

func TestPlannedLooksDetectMore(t *testing.T) {
	j := newJudge(t)
	m := latency(lognormal(23, 30, 100, 0.12), lognormal(24, 30, 112, 0.12))
	planned, err := j.MetricAt(Look{Planned: 6, Index: 6}, m)
	require.NoError(t, err)
	unknown, err := j.Metric(m)
	require.NoError(t, err)
	assert.Less(t, planned.P, unknown.P)
	assert.Less(t, planned.CI[1]-planned.CI[0], unknown.CI[1]-unknown.CI[0], "the planned interval is narrower")
	assert.Equal(t, Look{}, unknown.Look)
	assert.Contains(t, unknown.String(), "(99 % anytime-valid)")
}

func TestLooksBeyondThePlan(t *testing.T) {
	m := latency(lognormal(25, 40, 100, 0.12), lognormal(26, 40, 110, 0.12))
	j := newJudge(t)
	over, err := j.MetricAt(Look{Planned: 6, Index: 7}, m)
	require.NoError(t, err)
	unknown, err := j.Metric(m)
	require.NoError(t, err)
	assert.Equal(t, Look{}, over.Look, "judged by the mixture SPRT")
	assert.InDelta(t, min(1, unknown.P/0.4), over.P, 1e-12, "at the share of α kept for overruns")
	long, err := j.MetricAt(Look{Planned: maxPlannedLooks + 1, Index: 3}, m)
	require.NoError(t, err)
	assert.Equal(t, unknown, long, "a plan too long for a boundary runs the mixture SPRT at the whole α")

	cfg := DefaultConfig()
	cfg.OverrunShare = 0
	strict, err := New(cfg)
	require.NoError(t, err)
	_, err = strict.JudgeAt(Look{Planned: 6, Index: 7}, []Metric{m})
	require.ErrorIs(t, err, ErrInvalidLook)
	assert.Contains(t, err.Error(), "beyond the plan")
}

func TestInvalidLookIsAnError(t *testing.T) {
	m := latency(lognormal(1, 20, 100, 0.1), lognormal(2, 20, 100, 0.1))
	tests := []struct {
		name string
		look Look
		want string
	}{
		{"negative plan", Look{Planned: -1, Index: 1}, "look 1 of -1: negative"},
		{"negative index", Look{Planned: 3, Index: -2}, "look -2 of 3: negative"},
		{"index 0", Look{Planned: 3}, "looks count from 1"},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := j.MetricAt(tt.look, m)
			require.ErrorIs(t, err, ErrInvalidLook)
			assert.Contains(t, err.Error(), tt.want)
			_, err = j.JudgeAt(tt.look, []Metric{m})
			require.ErrorIs(t, err, ErrInvalidLook)
		})
	}
}

func TestNullAtTolerance(t *testing.T) {
	// +5.5 % on a 5 % tolerance with little noise: significant against 0,
	// not against the tolerance.
	m := latency(lognormal(27, 300, 100, 0.05), lognormal(28, 300, 105.5, 0.05))
	look := Look{Planned: 1, Index: 1}
	r, err := newJudge(t).MetricAt(look, m)
	require.NoError(t, err)
	assert.Equal(t, Fail, r.Verdict, r.String())
	cfg := DefaultConfig()
	cfg.NullAtTolerance = true
	j, err := New(cfg)
	require.NoError(t, err)
	r, err = j.MetricAt(look, m)
	require.NoError(t, err)
	assert.Equal(t, Pass, r.Verdict, r.String())
	assert.Greater(t, r.P, 0.01)
}

// TestPlannedLooksSpendAlpha judges A/A canaries at 10 planned looks, from
// 5 to 50 samples per side, and checks that the rate of ever failing stays
// below 1 - Confidence.
func TestPlannedLooksSpendAlpha(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const reps, planned = 1000, 10
	var looks []windowLook
	for k := 1; k <= planned; k++ {
		looks = append(looks, windowLook{Look{Planned: planned, Index: k}, 5 * k})
	}
	fails := aaEverFailed(t, newJudge(t), reps, 1000, looks)
	assert.LessOrEqual(t, float64(fails)/reps, 0.015, "1 %% plus 1.6 Monte Carlo sd")
}

func TestBoundariesAreSharedSafely(t *testing.T) {
	j := newJudge(t)
	m := latency(lognormal(29, 20, 100, 0.12), lognormal(30, 20, 100, 0.12))
	want, err := j.MetricAt(Look{Planned: 8, Index: 3}, m)
	require.NoError(t, err)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := j.MetricAt(Look{Planned: 8, Index: 3}, m)
			if err == nil && got.P != want.P {
				err = assert.AnError
			}
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}

func TestEarlyPlannedLooksCannotFail(t *testing.T) {
	j := newJudge(t)
	m := latency(lognormal(31, 9, 100, 0.05), lognormal(32, 9, 200, 0.05))
	r, err := j.MetricAt(Look{Planned: 10, Index: 3}, m)
	require.NoError(t, err)
	assert.Equal(t, Pass, r.Verdict, "9 samples per side: too few for a look of a plan of 10")
	assert.Greater(t, r.CI[0], 0.5, "the estimate and interval are still reported")
	r, err = j.MetricAt(Look{Planned: 1, Index: 1}, m)
	require.NoError(t, err)
	assert.Equal(t, Fail, r.Verdict, "a one-shot judgement has no later look to wait for")
	m = latency(lognormal(31, 10, 100, 0.05), lognormal(32, 10, 200, 0.05))
	r, err = j.MetricAt(Look{Planned: 10, Index: 3}, m)
	require.NoError(t, err)
	assert.Equal(t, Fail, r.Verdict, r.String())
}

// TestOverrunKeepsAlpha plans 5 looks and takes 15: A/A canaries still
// fail at most 1 - Confidence of the time, the overrun looks being judged
// by the mixture SPRT at the share of α kept for them.
func TestOverrunKeepsAlpha(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const reps, planned, taken, step = 1000, 5, 15, 10
	var looks []windowLook
	for k := 1; k <= taken; k++ {
		looks = append(looks, windowLook{Look{Planned: planned, Index: k}, step * k})
	}
	fails := aaEverFailed(t, newJudge(t), reps, 5000, looks)
	assert.LessOrEqual(t, float64(fails)/reps, 0.015, "1 %% plus 1.6 Monte Carlo sd")
}
