package judge

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traffic draws counts per slice: requests Poisson around perSlice, each
// failing with rate, errors coming in clumps of mean size clump (1: every
// error independent).
type traffic struct {
	perSlice float64
	rate     float64
	clump    float64
	// burst is the coefficient of variation of the error rate from slice
	// to slice (a gamma factor), independently on each side: bursts of
	// errors from a flaky dependency of one version's pods.
	burst float64
}

func (tr traffic) draw(r *rand.Rand) (errs, total float64) {
	n := poissonDraw(r, tr.perSlice)
	if tr.burst > 0 {
		return min(n, poissonDraw(r, n*tr.rate*gammaDraw(r, 1/(tr.burst*tr.burst))*tr.burst*tr.burst)), n
	}
	if tr.clump <= 1 {
		return binomialDraw(r, n, tr.rate), n
	}
	// Clumps: a Poisson number of clumps, each of geometric size, with the
	// same mean number of errors.
	var e float64
	for range int(poissonDraw(r, n*tr.rate/tr.clump)) {
		e += 1 + math.Floor(math.Log(r.Float64())/math.Log(1-1/tr.clump))
	}
	return min(e, n), n
}

func poissonDraw(r *rand.Rand, mean float64) float64 {
	if mean > 50 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// gammaDraw is a Gamma(shape, 1) draw (Marsaglia and Tsang).
func gammaDraw(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaDraw(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := r.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func binomialDraw(r *rand.Rand, n, p float64) float64 {
	return math.Min(n, poissonDraw(r, n*p))
}

// ratioSlices draws m slices of both sides.
func ratioSlices(r *rand.Rand, m int, base, can traffic) *Ratio {
	out := &Ratio{}
	for range m {
		e, n := base.draw(r)
		out.Baseline.Errors, out.Baseline.Total = append(out.Baseline.Errors, e), append(out.Baseline.Total, n)
		e, n = can.draw(r)
		out.Canary.Errors, out.Canary.Total = append(out.Canary.Errors, e), append(out.Canary.Total, n)
	}
	return out
}

func ratioMetric(r *Ratio) Metric {
	return Metric{Name: "error_rate", Kind: KindRatio, Direction: IncreaseIsBad, Tolerance: 0.05, Critical: true, Ratio: r}
}

// firstSlices is the ratio's first k slices on both sides.
func firstSlices(r *Ratio, k int) *Ratio {
	return &Ratio{Baseline: Counts{Errors: r.Baseline.Errors[:k], Total: r.Baseline.Total[:k]},
		Canary: Counts{Errors: r.Canary.Errors[:k], Total: r.Canary.Total[:k]}}
}

func TestRatioVerdicts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := traffic{perSlice: 800, rate: 0.005}
	tests := []struct {
		name    string
		m       Metric
		verdict Verdict
		change  float64
	}{
		{"A/A passes", ratioMetric(ratioSlices(r, 30, base, base)), Pass, 0},
		{"errors 0.5 % -> 2 % fail", ratioMetric(ratioSlices(r, 30, base, traffic{perSlice: 800, rate: 0.02})), Fail, 3},
		{"errors 0.5 % -> 0.1 % pass", ratioMetric(ratioSlices(r, 30, base, traffic{perSlice: 800, rate: 0.001})), Pass, -0.8},
		{"accepted 30 % -> 25 % fails when a decrease is bad", Metric{Name: "accepted", Kind: KindRatio, Direction: DecreaseIsBad,
			Tolerance: 0.05, Ratio: ratioSlices(r, 30, traffic{perSlice: 800, rate: 0.30}, traffic{perSlice: 800, rate: 0.25})}, Fail, -1.0 / 6},
		{"accepted 30 % -> 35 % passes when a decrease is bad", Metric{Name: "accepted", Kind: KindRatio, Direction: DecreaseIsBad,
			Tolerance: 0.05, Ratio: ratioSlices(r, 30, traffic{perSlice: 800, rate: 0.30}, traffic{perSlice: 800, rate: 0.35})}, Pass, 1.0 / 6},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := j.MetricAt(Look{Planned: 6, Index: 6}, tt.m)
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, res.Verdict, res.String())
			assert.InDelta(t, tt.change, res.Change, 0.3*math.Max(0.5, math.Abs(tt.change)), res.String())
			assert.Less(t, res.CI[0], res.Change)
			assert.Greater(t, res.CI[1], res.Change)
			assert.Equal(t, KindRatio, res.Kind)
			assert.Equal(t, 30, res.CanaryN)
			assert.Greater(t, res.CanaryRequests, 20000.0)
			assert.GreaterOrEqual(t, res.Dispersion, 1.0)
		})
	}
}

func TestRatioWithoutErrorsPasses(t *testing.T) {
	m := ratioMetric(&Ratio{Baseline: Counts{Errors: []float64{0, 0}, Total: []float64{1000, 1000}},
		Canary: Counts{Errors: []float64{0, 0}, Total: []float64{50, 60}}})
	res, err := newJudge(t).MetricAt(Look{Planned: 1, Index: 1}, m)
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Verdict)
	assert.InDelta(t, 0, res.Change, 1e-12, "no error on either side is no change")
	assert.Equal(t, 0.0, res.Canary)
}

func TestRatioBadCountsGiveNoData(t *testing.T) {
	ok := func() *Ratio {
		return &Ratio{Baseline: Counts{Errors: []float64{1, 2}, Total: []float64{100, 100}},
			Canary: Counts{Errors: []float64{0, 1}, Total: []float64{10, 10}}}
	}
	edit := func(f func(*Ratio)) *Ratio { r := ok(); f(r); return r }
	tests := []struct {
		name   string
		r      *Ratio
		reason string
	}{
		{"no counts", nil, "no counts"},
		{"no slices", &Ratio{}, "no slices"},
		{"uneven sides", edit(func(r *Ratio) { r.Canary.Errors, r.Canary.Total = r.Canary.Errors[:1], r.Canary.Total[:1] }),
			"canary has 1 slices, baseline 2"},
		{"errors without totals", edit(func(r *Ratio) { r.Baseline.Total = r.Baseline.Total[:1] }), "2 error counts for 1 total counts"},
		{"NaN", edit(func(r *Ratio) { r.Canary.Errors[1] = math.NaN() }), "canary errors of slice 2 is NaN"},
		{"reset", edit(func(r *Ratio) { r.Baseline.Total[0] = -5 }), "baseline total of slice 1 is negative (-5): a counter reset"},
		{"more errors than requests", edit(func(r *Ratio) { r.Canary.Errors[0] = 11 }), "more errors (11) than requests (10)"},
		{"no canary traffic", edit(func(r *Ratio) { r.Canary = Counts{Errors: []float64{0, 0}, Total: []float64{0, 0}} }),
			"the canary served no request"},
		{"no baseline traffic", edit(func(r *Ratio) { r.Baseline = Counts{Errors: []float64{0, 0}, Total: []float64{0, 0}} }),
			"the baseline served no request"},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := j.MetricAt(Look{Planned: 3, Index: 2}, ratioMetric(tt.r))
			require.NoError(t, err)
			assert.Equal(t, NoData, res.Verdict)
			assert.Contains(t, res.Reason, tt.reason)
			assert.True(t, math.IsNaN(res.P))
		})
	}
}

func TestHypergeomUpper(t *testing.T) {
	// Against the direct sum of the probabilities.
	for _, c := range []struct{ x, k, n, total float64 }{
		{3, 10, 50, 1000}, {0, 10, 50, 1000}, {11, 10, 50, 1000}, {7, 20, 500, 1000}, {14, 20, 500, 1000},
		{30, 300, 100, 1000}, {2, 5, 995, 1000},
	} {
		var want float64
		for i := c.x; i <= min(c.k, c.n); i++ {
			want += math.Exp(lchoose(c.k, i) + lchoose(c.total-c.k, c.n-i) - lchoose(c.total, c.n))
		}
		if c.x <= max(0, c.n+c.k-c.total) {
			want = 1
		}
		assert.InDelta(t, want, hypergeomUpper(c.x, c.k, c.n, c.total), 1e-9, "%+v", c)
	}
}

func TestCountTestIsStratifiedBySlice(t *testing.T) {
	// A burst of the canary's traffic in a slice whose requests are all
	// slower: both versions are as bad within each slice, but the pooled
	// table gives the canary 9.1 % bad requests against 1.9 %.
	d := countData{
		base:   sideCounts{bad: []float64{10, 9}, total: []float64{100, 900}},
		canary: sideCounts{bad: []float64{90, 1}, total: []float64{900, 100}},
	}
	assert.InDelta(t, 0, testCounts(d).z, 0.5, "no change within any slice")
	worse := countData{
		base:   sideCounts{bad: []float64{10, 9}, total: []float64{100, 900}},
		canary: sideCounts{bad: []float64{180, 2}, total: []float64{900, 100}},
	}
	assert.Greater(t, testCounts(worse).z, 1.5, "twice the bad events in every slice (most of the information in the first)")
}

func TestDispersionSeesClumps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	plain := traffic{perSlice: 2000, rate: 0.01}
	clumped := traffic{perSlice: 2000, rate: 0.01, clump: 5}
	phi, df := dispersion(ratioData(ratioSlices(r, 40, plain, plain), IncreaseIsBad))
	assert.InDelta(t, 1, phi, 0.5)
	// Slices without autocorrelation still batch by two (the batch length
	// rounds the estimated inflation up): about one degree per two slices.
	assert.InDelta(t, 19, df, 2, "about one per batch of two slices")
	phi, _ = dispersion(ratioData(ratioSlices(r, 40, clumped, clumped), IncreaseIsBad))
	assert.Greater(t, phi, 3.0, "clumps of 5 errors: about 9 times the binomial variance")
	// A canary that is really worse, at 5 % traffic and a couple of errors
	// per slice, does not look over-dispersed.
	var mean float64
	for range 200 {
		phi, _ := dispersion(ratioData(ratioSlices(r, 60, traffic{perSlice: 380, rate: 0.005}, traffic{perSlice: 20, rate: 0.01}), IncreaseIsBad))
		mean += phi / 200
	}
	assert.InDelta(t, 1, mean, 0.15, "the dispersion is measured around the fitted change")
	phi, _ = dispersion(ratioData(ratioSlices(r, 2, plain, plain), IncreaseIsBad))
	assert.Equal(t, 1.0, phi, "too few slices to estimate")
}

// aaCountsFailed judges reps A/A ratio canaries at every look of a plan of
// looks looks with perLook slices each, and returns how many ever failed.
func aaCountsFailed(t *testing.T, reps, looks, perLook int, base, can traffic) int {
	t.Helper()
	j := newJudge(t)
	fails := 0
	for rep := range reps {
		r := rand.New(rand.NewPCG(uint64(rep), 99))
		all := ratioSlices(r, looks*perLook, base, can)
		for k := 1; k <= looks; k++ {
			res, err := j.MetricAt(Look{Planned: looks, Index: k}, ratioMetric(firstSlices(all, k*perLook)))
			require.NoError(t, err)
			if res.Verdict == Fail {
				fails++
				break
			}
		}
	}
	return fails
}

// TestCountsSpendAlpha: A/A ratio canaries over 6 looks, at equal traffic,
// at 5 % traffic, and with clumped errors, fail at most 1 % of the time.
func TestCountsSpendAlpha(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const reps = 2000
	for _, tt := range []struct {
		name      string
		base, can traffic
	}{
		{"equal traffic", traffic{perSlice: 800, rate: 0.005}, traffic{perSlice: 800, rate: 0.005}},
		{"canary at 5 %", traffic{perSlice: 760, rate: 0.005}, traffic{perSlice: 40, rate: 0.005}},
		{"clumps of 2 errors", traffic{perSlice: 800, rate: 0.005, clump: 2}, traffic{perSlice: 800, rate: 0.005, clump: 2}},
		{"bursts of errors", traffic{perSlice: 800, rate: 0.005, burst: 0.5}, traffic{perSlice: 800, rate: 0.005, burst: 0.5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fails := aaCountsFailed(t, reps, 6, 5, tt.base, tt.can)
			t.Logf("%s: %d of %d A/A canaries failed", tt.name, fails, reps)
			assert.LessOrEqual(t, float64(fails)/reps, 0.01+2*math.Sqrt(0.01*0.99/reps))
		})
	}
}

func TestHolmSharesAlpha(t *testing.T) {
	// Two metrics each just significant at the whole α, not at α/2.
	m := func(name string, canaryErrors float64) Metric {
		x := ratioMetric(&Ratio{Baseline: Counts{Errors: []float64{100}, Total: []float64{20000}},
			Canary: Counts{Errors: []float64{canaryErrors}, Total: []float64{20000}}})
		x.Name = name
		return x
	}
	look := Look{Planned: 1, Index: 1}
	per := DefaultConfig()
	per.Multiplicity, per.OverrunShare = PerMetric, 0
	pj, err := New(per)
	require.NoError(t, err)
	holm := per
	holm.Multiplicity = Holm
	hj, err := New(holm)
	require.NoError(t, err)

	// Find a canary count that fails at α but not at α/2.
	var errs float64
	for errs = 120; errs < 200; errs++ {
		r1, err := pj.MetricAt(look, m("a", errs))
		require.NoError(t, err)
		r2, err := hj.JudgeAt(look, []Metric{m("a", errs), m("b", 100)})
		require.NoError(t, err)
		if r1.Verdict == Fail && r2.Metrics[0].Verdict == Pass {
			break
		}
	}
	require.Less(t, errs, 200.0)
	rep, err := pj.JudgeAt(look, []Metric{m("a", errs), m("b", errs)})
	require.NoError(t, err)
	assert.Equal(t, DecisionFail, rep.Decision, "each at the whole α")
	rep, err = hj.JudgeAt(look, []Metric{m("a", errs), m("b", 100)})
	require.NoError(t, err)
	assert.Equal(t, DecisionPass, rep.Decision, "Holm: the one change is tested at α/2")
	assert.Greater(t, rep.Metrics[0].P, 0.01)

	// A clear failure frees its share: the second is tested at the whole α.
	rep, err = hj.JudgeAt(look, []Metric{m("a", 400), m("b", errs)})
	require.NoError(t, err)
	assert.Equal(t, Fail, rep.Metrics[0].Verdict)
	assert.Equal(t, Fail, rep.Metrics[1].Verdict, "step-down: tested at α once the other failed")
}

// histogramSlices draws m slices of requests with lognormal latency
// (median med seconds, log-sd s) into buckets le.
func histogramSlices(r *rand.Rand, m int, perSlice, med, s float64, le []float64) Buckets {
	rows := make(Buckets, m)
	for i := range rows {
		rows[i] = make([]float64, len(le))
		for range int(poissonDraw(r, perSlice)) {
			x := med * math.Exp(s*r.NormFloat64())
			for j, b := range le {
				if x <= b {
					rows[i][j]++
					break
				}
			}
		}
	}
	return rows
}

func expBuckets(start, factor float64, n int) []float64 {
	le := make([]float64, 0, n+1)
	for i := range n {
		le = append(le, start*math.Pow(factor, float64(i)))
	}
	return append(le, math.Inf(1))
}

func TestQuantileAsPrometheus(t *testing.T) {
	le := []float64{0.05, 0.1, 0.25, 0.5, 1, math.Inf(1)}
	// Cumulative 0.6, 0.9, 0.98, 1, 1 of 1000 (pkg/metrics' integration test): p99 = 0.375.
	counts := []float64{600, 300, 80, 20, 0, 0}
	assert.InDelta(t, 0.375, quantile(le, counts, 0.99), 1e-12)
	assert.InDelta(t, 0.025, quantile(le, counts, 0.3), 1e-12, "the first bucket from 0")
	assert.True(t, math.IsInf(quantile(le, []float64{0, 0, 0, 0, 90, 10}, 0.99), 1))
}

func TestHistogramVerdicts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	le := expBuckets(0.01, 1.25, 25)
	hist := func(med float64) Metric {
		return Metric{Name: "latency_p99", Kind: KindHistogram, Direction: IncreaseIsBad, Tolerance: 0.05, Critical: true,
			Histogram: &Histogram{Quantile: 0.99, Le: le, Baseline: histogramSlices(r, 30, 800, 0.05, 0.5, le),
				Canary: histogramSlices(r, 30, 800, med, 0.5, le)}}
	}
	j := newJudge(t)
	for _, tt := range []struct {
		name    string
		m       Metric
		verdict Verdict
		change  float64
	}{
		{"A/A passes", hist(0.05), Pass, 0},
		{"latency x1.25 fails", hist(0.0625), Fail, 0.25},
		{"latency x0.8 passes", hist(0.04), Pass, -0.2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := j.MetricAt(Look{Planned: 6, Index: 6}, tt.m)
			require.NoError(t, err)
			assert.Equal(t, tt.verdict, res.Verdict, res.String())
			assert.InDelta(t, tt.change, res.Change, 0.08, res.String())
			assert.Less(t, res.CI[0], res.Change)
			assert.Greater(t, res.CI[1], res.Change)
			p99 := 0.05 * math.Exp(0.5*2.326)
			assert.InEpsilon(t, p99, res.Baseline, 0.1, "the baseline's p99")
		})
	}
}

func TestHistogramProblems(t *testing.T) {
	le := []float64{0.1, 1, math.Inf(1)}
	h := func(edit func(*Histogram)) Metric {
		x := &Histogram{Quantile: 0.99, Le: le, Baseline: Buckets{{90, 9, 1}}, Canary: Buckets{{9, 1, 0}}}
		edit(x)
		return Metric{Name: "p99", Kind: KindHistogram, Direction: IncreaseIsBad, Tolerance: 0.05, Histogram: x}
	}
	j := newJudge(t)
	for _, tt := range []struct {
		name   string
		m      Metric
		reason string
	}{
		{"no buckets", Metric{Name: "p99", Kind: KindHistogram, Direction: IncreaseIsBad, Tolerance: 0.05}, "no bucket counts"},
		{"quantile in +Inf", h(func(x *Histogram) { x.Baseline = Buckets{{50, 40, 10}} }), "above the largest finite bound (le=1)"},
		{"one bucket", h(func(x *Histogram) { x.Baseline, x.Canary = Buckets{{10, 0, 0}}, Buckets{{5, 0, 0}} }), "every request falls in one bucket"},
		{"short row", h(func(x *Histogram) { x.Canary = Buckets{{1, 2}} }), "canary slice 1 has 2 buckets, want 3"},
		{"uneven slices", h(func(x *Histogram) { x.Canary = Buckets{{1, 2, 0}, {1, 1, 0}} }), "canary has 2 slices, baseline 1"},
		{"negative", h(func(x *Histogram) { x.Canary = Buckets{{1, -2, 0}} }), "bucket le=1 is negative"},
		{"no canary traffic", h(func(x *Histogram) { x.Canary = Buckets{{0, 0, 0}} }), "the canary served no request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := j.MetricAt(Look{Planned: 1, Index: 1}, tt.m)
			require.NoError(t, err)
			assert.Equal(t, NoData, res.Verdict)
			assert.Contains(t, res.Reason, tt.reason)
		})
	}
	for _, tt := range []struct {
		name string
		edit func(*Histogram)
		want string
	}{
		{"quantile 1", func(x *Histogram) { x.Quantile = 1 }, "quantile 1: must be in (0, 1)"},
		{"no +Inf", func(x *Histogram) { x.Le = []float64{0.1, 1, 2} }, "+Inf last"},
		{"descending", func(x *Histogram) { x.Le = []float64{1, 0.1, math.Inf(1)} }, "bounds must ascend"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := j.MetricAt(Look{Planned: 1, Index: 1}, h(tt.edit))
			require.ErrorIs(t, err, ErrInvalidMetric)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := j.MetricAt(Look{}, Metric{Name: "x", Kind: "gauge", Direction: IncreaseIsBad, Tolerance: 0.1})
	require.ErrorIs(t, err, ErrInvalidMetric)
	assert.Contains(t, err.Error(), `kind "gauge"`)
}
