package judge

import (
	"fmt"
	"math"
	"slices"
)

// estimate is an effect on the judge's working scale, oriented so that a
// positive effect is bad, with its standard error and degrees of freedom.
type estimate struct {
	bad    float64 // effect in the bad direction
	se, df float64
	tol    float64 // the tolerance on the same scale, > 0
	scale  Scale
	// counts marks a count kind's estimate, whose test statistic is z
	// (the conditional exact test) rather than bad/se.
	counts bool
	z      float64
	// phiDF is the degrees of freedom of a count kind's dispersion
	// estimate.
	phiDF float64
}

// Metric judges one metric, not knowing how many looks the caller will
// take: MetricAt with the zero Look.
func (j *Judge) Metric(m Metric) (Result, error) {
	return j.MetricAt(Look{}, m)
}

// MetricAt judges one metric at the given look of the plan, at the whole
// α. It returns an error only when the metric's definition or the look is
// invalid; data that cannot be judged give NoData with a reason.
func (j *Judge) MetricAt(look Look, m Metric) (Result, error) {
	if err := j.checkLook(look); err != nil {
		return Result{}, err
	}
	return j.metricAt(look, m, 1)
}

// metricAt judges m at the share level of α (Holm's step over metrics).
func (j *Judge) metricAt(look Look, m Metric, level float64) (Result, error) {
	if err := validate(m); err != nil {
		return Result{}, err
	}
	res := Result{Name: m.Name, Kind: m.kind(), Critical: m.Critical, Verdict: NoData, Confidence: j.cfg.Confidence,
		Change: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()}, P: math.NaN(),
		Baseline: math.NaN(), Canary: math.NaN()}
	est, reason, err := j.measure(m, &res)
	if err != nil {
		return Result{}, err
	}
	if reason != "" {
		res.Reason = reason
		return res, nil
	}
	j.conclude(&res, m.Direction, est, look, level)
	return res, nil
}

// measure fills in what the data say (sizes, each side's value) and
// returns the estimate to test, or why there is none.
func (j *Judge) measure(m Metric, res *Result) (estimate, string, error) {
	switch m.kind() {
	case KindRatio:
		return j.measureRatio(m, res)
	case KindHistogram:
		return j.measureHistogram(m, res)
	}
	res.BaselineN, res.CanaryN = len(m.Baseline), len(m.Canary)
	if reason := j.checkSamples(m); reason != "" {
		return estimate{}, reason, nil
	}
	res.Baseline, res.Canary = median(m.Baseline), median(m.Canary)
	est, reason := j.estimate(m)
	return est, reason, nil
}

func (j *Judge) measureRatio(m Metric, res *Result) (estimate, string, error) {
	if reason := checkRatio(m.Ratio); reason != "" {
		return estimate{}, reason, nil
	}
	d := ratioData(m.Ratio, m.Direction)
	fillCounts(res, ratioData(m.Ratio, IncreaseIsBad))
	if reason := checkTraffic(d); reason != "" {
		return estimate{}, reason, nil
	}
	test := testCounts(d)
	res.Dispersion = test.phi
	return ratioEstimate(m.Ratio, m.Direction, m.Tolerance, test), "", nil
}

func (j *Judge) measureHistogram(m Metric, res *Result) (estimate, string, error) {
	reason, err := checkHistogram(m.Name, m.Histogram)
	if err != nil || reason != "" {
		return estimate{}, reason, err
	}
	h := m.Histogram
	res.BaselineN, res.CanaryN = len(h.Baseline), len(h.Canary)
	for _, x := range bucketTotals(h.Baseline, len(h.Le)) {
		res.BaselineRequests += x
	}
	for _, x := range bucketTotals(h.Canary, len(h.Le)) {
		res.CanaryRequests += x
	}
	cut := threshold(h)
	if cut < 0 {
		if res.BaselineRequests == 0 || res.CanaryRequests == 0 {
			return estimate{}, checkTraffic(countData{base: sideCounts{total: []float64{res.BaselineRequests}},
				canary: sideCounts{total: []float64{res.CanaryRequests}}}), nil
		}
		return estimate{}, "every request falls in one bucket: the quantile cannot be told apart; use finer buckets", nil
	}
	d := histogramData(h, cut, m.Direction)
	if reason := checkTraffic(d); reason != "" {
		return estimate{}, reason, nil
	}
	test := testCounts(d)
	res.Dispersion = test.phi
	est, qs, reason := histogramEstimate(h, m.Direction, m.Tolerance, test)
	res.Baseline, res.Canary = qs[0], qs[1]
	return est, reason, nil
}

// fillCounts reports a ratio's slices, requests and rates.
func fillCounts(res *Result, d countData) {
	res.BaselineN, res.CanaryN = len(d.base.total), len(d.canary.total)
	xb, nb := d.base.sums()
	xc, nc := d.canary.sums()
	res.BaselineRequests, res.CanaryRequests = nb, nc
	if nb > 0 {
		res.Baseline = xb / nb
	}
	if nc > 0 {
		res.Canary = xc / nc
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func validate(m Metric) error {
	switch {
	case m.Kind != "" && m.Kind != KindQuery && m.Kind != KindRatio && m.Kind != KindHistogram:
		return fmt.Errorf("%w: metric %q: kind %q: want %q, %q or %q",
			ErrInvalidMetric, m.Name, m.Kind, KindQuery, KindRatio, KindHistogram)
	case m.Name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidMetric)
	case m.Direction != IncreaseIsBad && m.Direction != DecreaseIsBad:
		return fmt.Errorf("%w: metric %q: direction %q: want %q or %q",
			ErrInvalidMetric, m.Name, m.Direction, IncreaseIsBad, DecreaseIsBad)
	case !(m.Tolerance > 0) || math.IsInf(m.Tolerance, 1):
		return fmt.Errorf("%w: metric %q: tolerance %v: must be a positive relative change (0.05 = 5 %%)",
			ErrInvalidMetric, m.Name, m.Tolerance)
	case m.Scale != ScaleAuto && m.Scale != ScaleLog && m.Scale != ScaleMean:
		return fmt.Errorf("%w: metric %q: scale %q: want %q, %q or empty",
			ErrInvalidMetric, m.Name, m.Scale, ScaleLog, ScaleMean)
	case m.Direction == DecreaseIsBad && m.Tolerance >= 1:
		return fmt.Errorf("%w: metric %q: tolerance %v: a decrease of 100 %% or more is impossible; must be below 1",
			ErrInvalidMetric, m.Name, m.Tolerance)
	}
	return nil
}

// checkSamples returns why the samples cannot be judged, or "".
func (j *Judge) checkSamples(m Metric) string {
	sides := [2]struct {
		name string
		xs   []float64
	}{{"baseline", m.Baseline}, {"canary", m.Canary}}
	for _, s := range sides {
		switch n := len(s.xs); {
		case n == 0:
			return s.name + " has no samples"
		case n < j.cfg.MinSamples:
			return fmt.Sprintf("%s has %d samples, need %d", s.name, n, j.cfg.MinSamples)
		case n > j.cfg.MaxSamples:
			return fmt.Sprintf("%s has %d samples, more than the %d accepted", s.name, n, j.cfg.MaxSamples)
		}
		for i, x := range s.xs {
			switch {
			case math.IsNaN(x) || math.IsInf(x, 0):
				return fmt.Sprintf("%s sample %d is %v", s.name, i, x)
			case x < 0:
				return fmt.Sprintf("%s sample %d is negative (%v): relative changes need non-negative values", s.name, i, x)
			}
		}
	}
	return ""
}

// estimate picks the working scale and estimates the bad effect, or
// returns why it cannot.
func (j *Judge) estimate(m Metric) (estimate, string) {
	sign := 1.0
	if m.Direction == DecreaseIsBad {
		sign = -1
	}
	logOK := positive(m.Baseline) && positive(m.Canary)
	if m.Scale == ScaleLog && !logOK {
		return estimate{}, "the log scale needs positive samples"
	}
	if logOK && m.Scale != ScaleMean {
		b, c := yuen(m.Baseline, j.cfg.Trim), yuen(m.Canary, j.cfg.Trim)
		est := combine(b, c)
		est.bad *= sign
		est.tol, est.scale = math.Log1p(m.Tolerance), ScaleLog
		if m.Direction == DecreaseIsBad {
			est.tol = -math.Log1p(-m.Tolerance)
		}
		return est, degenerate(est)
	}
	b, c := moments(m.Baseline), moments(m.Canary)
	if b.loc == 0 {
		return estimate{}, "baseline mean is 0: a relative change is undefined"
	}
	est := combine(b, c)
	// Relative to the baseline mean: (c - b) / b.
	est.bad *= sign / b.loc
	est.se /= b.loc
	est.tol, est.scale = m.Tolerance, ScaleMean
	return est, degenerate(est)
}

// degenerate says why an estimate cannot be tested, or "".
func degenerate(e estimate) string {
	switch {
	case e.se == 0:
		return "no variation in either side's samples"
	case math.IsNaN(e.bad) || math.IsInf(e.bad, 0) || math.IsNaN(e.se) || math.IsInf(e.se, 0):
		return "samples out of range: the relative change or its error overflows"
	}
	return ""
}

// conclude runs the test at the share level of α and fills in the verdict.
func (j *Judge) conclude(res *Result, dir Direction, e estimate, look Look, level float64) {
	stat := e.bad // the distance from the null on the working scale
	if j.cfg.NullAtTolerance {
		stat -= e.tol
	}
	z := tToZ(stat/e.se, e.df)
	if e.counts && !j.cfg.NullAtTolerance {
		z = e.z
	}
	var significant bool
	var radius float64 // the interval's half-width on the z scale
	if j.planned(look) {
		significant, radius = j.groupSequential(res, look, z, level, j.enough(res, look, e))
	} else {
		significant, radius = j.sequential(res, look, z, level)
	}
	half := zToT(radius, e.df) * e.se
	lo, hi := e.bad-half, e.bad+half // on the bad-oriented working scale
	res.WithinTolerance = hi < e.tol
	res.Scale = e.scale
	res.Change, res.CI = toChange(dir, e, e.bad), [2]float64{toChange(dir, e, lo), toChange(dir, e, hi)}
	if res.CI[0] > res.CI[1] {
		res.CI[0], res.CI[1] = res.CI[1], res.CI[0]
	}
	res.CI[0] = max(res.CI[0], -1) // a non-negative metric cannot fall by more than 100 %
	switch {
	case significant && e.bad > e.tol:
		res.Verdict = Fail
		res.Reason = fmt.Sprintf("canary worse than baseline beyond tolerance %s (p=%.2g)", percent(tolChange(dir, e)), res.P)
	default:
		res.Verdict = Pass
	}
}

// planned reports whether the look is judged with a group-sequential
// boundary: the plan is known, not too long, and not yet overrun.
func (j *Judge) planned(l Look) bool {
	return l.Planned > 0 && l.Planned <= maxPlannedLooks && l.Index <= l.Planned
}

// MinPlannedSamples is the fewest samples per side at which a look of a
// plan of several looks can fail. Below it the Welch-Satterthwaite t
// approximation is too liberal in the far tail the early boundaries sit in
// when one side is much noisier (measured: 1.3 to 1.6 times the nominal
// rate at 5 to 8 samples per side with a 19 times larger variance), and
// skipping a look never raises the false rollback rate of a boundary fixed
// in advance.
const MinPlannedSamples = 10

// minDispersionDF is the fewest degrees of freedom of a dispersion
// estimate at which a look of a plan of several looks can fail. Below it
// the t approximation of z/√φ̂ is too liberal in the far tail the early
// boundaries sit in (measured: 3 times the nominal rate at the first look
// with clumped errors and 4 degrees of freedom), as for samples.
const minDispersionDF = 9

// enough says whether a planned look has the data to fail: a one-shot
// judgement always; samples with MinPlannedSamples per side; counts with
// minDispersionDF behind their dispersion estimate, whether or not it
// found over-dispersion (with fewer, "none" cannot be trusted either).
func (j *Judge) enough(res *Result, l Look, e estimate) bool {
	switch {
	case l.Planned == 1:
		return true
	case e.counts:
		return e.phiDF >= minDispersionDF
	}
	return min(res.BaselineN, res.CanaryN) >= MinPlannedSamples
}

// groupSequential tests z at a planned look, with the α not kept for
// overruns, and returns the verdict of the test and the radius of the
// two-sided repeated confidence interval at the same level. The p-value is
// the stage-wise one, scaled by the planned share of α (Bonferroni), so
// that a failure always has p <= α. A look without enough data (see
// enough) reports its estimate but cannot fail.
func (j *Judge) groupSequential(res *Result, l Look, z, level float64, enough bool) (bool, float64) {
	share := (1 - j.cfg.OverrunShare) * level
	alpha := share * (1 - j.cfg.Confidence)
	test := j.bounds.get(l.Planned, alpha)
	res.Look = l
	res.P = min(1, test.pValue(l.Index, z)/share)
	radius := j.bounds.get(l.Planned, alpha/2).z[l.Index-1]
	return enough && z >= test.z[l.Index-1], radius
}

// sequential tests z with the mixture SPRT: at the whole α when the plan is
// unknown or too long for a boundary, at the share kept for overruns when
// the look is beyond the plan. The p-value is the anytime-valid one, scaled
// by that share.
func (j *Judge) sequential(res *Result, l Look, z, level float64) (bool, float64) {
	share := level
	if l.Planned > 0 && l.Planned <= maxPlannedLooks {
		share *= j.cfg.OverrunShare
	}
	alpha := share * (1 - j.cfg.Confidence)
	mix := newMixture(res.BaselineN, res.CanaryN, j.cfg.PriorScale)
	logL := mix.logOneSided(z)
	res.P = math.Min(1, math.Exp(-logL)/share)
	return logL >= math.Log(1/alpha), mix.radius(alpha)
}

// toChange maps a bad-oriented effect on the working scale to a relative
// change of the canary (positive = canary higher).
func toChange(dir Direction, e estimate, bad float64) float64 {
	d := bad
	if dir == DecreaseIsBad {
		d = -bad
	}
	if e.scale == ScaleLog {
		return math.Expm1(d)
	}
	return d
}

func tolChange(dir Direction, e estimate) float64 {
	return toChange(dir, e, e.tol)
}

// side is one side's location estimate on the working scale.
type side struct {
	loc, v float64 // location and the variance of its estimate
	df     float64
}

// combine returns canary minus baseline with a Welch-Satterthwaite df.
func combine(b, c side) estimate {
	v := b.v + c.v
	df := math.Inf(1)
	if v > 0 && !math.IsInf(v, 1) {
		fb, fc := b.v/v, c.v/v // shares of the variance, so that nothing overflows
		if den := fb*fb/b.df + fc*fc/c.df; den > 0 {
			df = 1 / den
		}
	}
	return estimate{bad: c.loc - b.loc, se: math.Sqrt(v), df: df}
}

func positive(xs []float64) bool {
	for _, x := range xs {
		if !(x > 0) {
			return false
		}
	}
	return true
}

// yuen returns the trimmed mean of the logs and the variance of that mean
// from the winsorized variance (Yuen 1974).
func yuen(xs []float64, trim float64) side {
	ls := make([]float64, len(xs))
	for i, x := range xs {
		ls[i] = math.Log(x)
	}
	slices.Sort(ls)
	n := len(ls)
	g := min(int(trim*float64(n)), (n-2)/2)
	h := n - 2*g
	var sum float64
	for _, x := range ls[g : n-g] {
		sum += x
	}
	tm := sum / float64(h)
	lo, hi := ls[g], ls[n-g-1]
	var wsum float64
	for _, x := range ls {
		wsum += min(max(x, lo), hi)
	}
	wm := wsum / float64(n)
	var ss float64
	for _, x := range ls {
		d := min(max(x, lo), hi) - wm
		ss += d * d
	}
	return side{loc: tm, v: ss / float64(h*(h-1)), df: float64(h - 1)}
}

// moments returns the mean and the variance of the mean.
func moments(xs []float64) side {
	n := float64(len(xs))
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / n
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return side{loc: mean, v: ss / (n - 1) / n, df: n - 1}
}
