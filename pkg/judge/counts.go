package judge

import (
	"fmt"
	"math"
	"slices"
)

// The count kinds judge what Prometheus counts (requests, errors, requests
// per latency bucket) over disjoint slices of the window, never rate
// samples: requests are the independent units, and the increments of a
// counter over disjoint slices are independent even when overlapping rate
// windows are not. See ACCURACY.md, "Counts".
//
// The test, for both kinds, is on "bad" events among requests: errors for a
// ratio whose increase is bad, the complement (requests that are not
// accepted, not correct) for a ratio whose decrease is bad, requests slower
// than a bucket bound near the quantile for a histogram.
//
//   - Conditional exact test. Given the bad events of both sides together,
//     the canary's share of them is hypergeometric under "no change"
//     (Fisher's exact test on the cumulative counts), whatever the base rate
//     and however unequal the traffic: at 5 % traffic and a few errors, no
//     normal approximation. Its one-sided mid-p-value (P(X > x) plus half
//     P(X = x), Lancaster 1961) is turned into a z for the sequential tests
//     below: the conservative P(X >= x) spends far less than α at a handful
//     of errors (measured: 11 points less detection than a one-shot exact
//     test at 20 requests/s for the canary; with the mid-p, 8). The
//     canary's expected share of the bad events is stratified by slice
//     (as Cochran–Mantel–Haenszel's): the sum over slices of each slice's
//     bad events times the canary's share of that slice's requests. A burst
//     of one version brings it more requests and slower ones at once; the
//     pooled table reads that as a difference between the versions
//     (measured on the bursty exporter: the variance of the pooled z 8.1,
//     of the stratified 5.3, against a dispersion estimate of 4.6).
//   - Over-dispersion. Real traffic is bursty: a retry storm or a slow pod
//     makes bad events come in clumps, and counts then vary more between
//     slices than the binomial allows. The heterogeneity of the canary's
//     share across slices (the Pearson statistic of each slice's 2×2 table,
//     less the part explained by one common change), over batches of
//     slices long enough to be close to independent, estimates the
//     dispersion φ, as quasi-likelihood does; z is divided by √max(1, φ̂)
//     and read on a t scale with the batches' degrees of freedom when
//     φ̂ > 1. Request rates
//     that vary over time, and a drift of the base rate shared by both
//     versions, leave each slice's conditional share unchanged and do not
//     inflate φ̂.
//   - Looks. Disjoint slices have independent increments, so the
//     cumulative statistic at successive looks is the Brownian motion the
//     group-sequential boundary and the mixture SPRT assume.

// Kind is how a metric's data are read and judged.
type Kind string

// The kinds of metric.
const (
	// KindQuery judges samples of a PromQL query (the default).
	KindQuery Kind = "query"
	// KindRatio judges bad events among requests, counted per slice.
	KindRatio Kind = "ratio"
	// KindHistogram judges a quantile from request counts per latency bucket.
	KindHistogram Kind = "histogram"
)

// Counts are a ratio's counts on one side, one entry per disjoint slice of
// the window: Errors (the numerator: errors, accepted recommendations) among
// Total.
type Counts struct {
	Errors []float64 `json:"errors"`
	Total  []float64 `json:"total"`
}

// Buckets are a histogram's counts on one side: per slice (row), the count
// of requests in each bucket (not cumulative), in the order of the bounds.
type Buckets [][]float64

// Ratio is a KindRatio metric's data.
type Ratio struct {
	Baseline, Canary Counts
}

// Histogram is a KindHistogram metric's data.
type Histogram struct {
	// Quantile is the quantile judged, in (0, 1): 0.99 for p99.
	Quantile float64
	// Le are the buckets' upper bounds, ascending, the last +Inf.
	Le               []float64
	Baseline, Canary Buckets
}

// sideCounts are one side's bad events and requests per slice.
type sideCounts struct {
	bad, total []float64
}

// countData is what the count test reads: both sides, oriented so that
// more bad events is worse.
type countData struct {
	base, canary sideCounts
}

// sums returns the cumulative bad events and requests.
func (s sideCounts) sums() (bad, total float64) {
	for i := range s.bad {
		bad += s.bad[i]
		total += s.total[i]
	}
	return bad, total
}

// checkRatio returns why a ratio's counts cannot be judged, or "".
func checkRatio(r *Ratio) string {
	if r == nil {
		return "no counts"
	}
	slicesOf := -1
	for _, s := range []struct {
		name string
		c    Counts
	}{{"baseline", r.Baseline}, {"canary", r.Canary}} {
		if len(s.c.Errors) != len(s.c.Total) {
			return fmt.Sprintf("%s has %d error counts for %d total counts: one of each per slice", s.name, len(s.c.Errors), len(s.c.Total))
		}
		if slicesOf >= 0 && len(s.c.Total) != slicesOf {
			return fmt.Sprintf("canary has %d slices, baseline %d: both sides are read over the same slices", len(s.c.Total), slicesOf)
		}
		slicesOf = len(s.c.Total)
		for i := range s.c.Total {
			e, n := s.c.Errors[i], s.c.Total[i]
			if why := badCount(e); why != "" {
				return fmt.Sprintf("%s errors of slice %d %s", s.name, i+1, why)
			}
			if why := badCount(n); why != "" {
				return fmt.Sprintf("%s total of slice %d %s", s.name, i+1, why)
			}
			if e > n*(1+1e-9) {
				return fmt.Sprintf("%s slice %d has more errors (%g) than requests (%g): the selectors do not count the same requests", s.name, i+1, e, n)
			}
		}
	}
	if slicesOf == 0 {
		return "no slices"
	}
	return ""
}

// badCount says why a count is not one, or "".
func badCount(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return fmt.Sprintf("is %v", x)
	case x < 0:
		return fmt.Sprintf("is negative (%v): a counter reset or a wrong selector", x)
	}
	return ""
}

// ratioData orients a ratio's counts: errors are bad when an increase is
// bad, the rest of the requests when a decrease is.
func ratioData(r *Ratio, dir Direction) countData {
	side := func(c Counts) sideCounts {
		s := sideCounts{bad: slices.Clone(c.Errors), total: slices.Clone(c.Total)}
		if dir == DecreaseIsBad {
			for i := range s.bad {
				s.bad[i] = max(0, s.total[i]-s.bad[i])
			}
		}
		for i := range s.bad {
			s.bad[i] = min(s.bad[i], s.total[i])
		}
		return s
	}
	return countData{base: side(r.Baseline), canary: side(r.Canary)}
}

// checkTraffic says why counts cannot be judged for lack of requests, or "".
func checkTraffic(d countData) string {
	_, nb := d.base.sums()
	_, nc := d.canary.sums()
	switch {
	case nb == 0 && nc == 0:
		return "neither side served a request in the window"
	case nb == 0:
		return "the baseline served no request in the window"
	case nc == 0:
		return "the canary served no request in the window"
	}
	return ""
}

// countTest is the outcome of the conditional test on cumulative counts.
type countTest struct {
	z   float64 // the one-sided z of "the canary has more bad events"
	phi float64 // the dispersion applied, >= 1
	df  float64 // degrees of freedom of the t scale, +Inf when φ = 1
	// phiDF is the degrees of freedom of the estimate φ̂, whether or not
	// it was applied: how far "no over-dispersion" can be trusted.
	phiDF float64
}

// testCounts runs the conditional exact test and the dispersion estimate.
func testCounts(d countData) countTest {
	xb, nb := d.base.sums()
	xc, nc := d.canary.sums()
	z := conditionalZ(xc, xb+xc, nc, nb+nc)
	if len(d.base.bad) > 1 {
		z = stratifiedZ(d)
	}
	phi, df := dispersion(d)
	t := countTest{z: z, phi: 1, df: math.Inf(1), phiDF: df}
	if phi > 1 {
		t.phi, t.df = phi, df
		t.z = tToZ(z/math.Sqrt(phi), df)
	}
	return t
}

// stratifiedZ is the z of the conditional test with the canary's share of
// the bad events expected from each slice's bad events and traffic shares
// (the numerator of Cochran–Mantel–Haenszel's), tested exactly as
// conditionalZ does with that share: at 5 % traffic and a handful of bad
// events the normal approximation of the stratified statistic failed 2.1 %
// of bursty A/A stages where this test failed 1.7 %. Its variance, that of
// the pooled counts, is at least the stratified one.
func stratifiedZ(d countData) float64 {
	xb, nb := d.base.sums()
	xc, nc := d.canary.sums()
	var expected float64
	for i := range d.base.bad {
		if n := d.base.total[i] + d.canary.total[i]; n > 0 {
			expected += (d.base.bad[i] + d.canary.bad[i]) * d.canary.total[i] / n
		}
	}
	k, total := xb+xc, nb+nc
	if k == 0 {
		return 0
	}
	share := expected / k
	return conditionalZ(xc, k, math.Round(share*total), total)
}

// conditionalZ is the z of the one-sided conditional test that the canary
// holds more than its share of the bad events: x of the k bad events are
// the canary's, which served n of the N requests. With whole counts it is
// the hypergeometric mid-p (Fisher's exact test, half the probability of
// x itself counted); otherwise the normal approximation with the same
// variance.
func conditionalZ(x, k, n, total float64) float64 {
	if k == 0 || n == total {
		return 0
	}
	if whole(x) && whole(k) && whole(n) && whole(total) {
		x, k, n, total := math.Round(x), math.Round(k), math.Round(n), math.Round(total)
		p := (hypergeomUpper(x, k, n, total) + hypergeomUpper(x+1, k, n, total)) / 2 // mid-p
		return clampZ(normalUpperQuantile(p))
	}
	mean := k * n / total
	v := k * (n / total) * (1 - n/total) * (total - k) / max(total-1, 1)
	if v <= 0 {
		return 0
	}
	return clampZ((x - mean) / math.Sqrt(v))
}

func whole(x float64) bool { return math.Abs(x-math.Round(x)) < 1e-6 && x < 1<<52 }

// clampZ keeps z finite: beyond ±40 the tail is below any α.
func clampZ(z float64) float64 {
	return max(-40, min(40, z))
}

// hypergeomUpper is P(X >= x) for X the successes among n draws without
// replacement from total items of which k are successes. It sums the
// probabilities outwards from x, away from the mode, until they are
// negligible, so that it costs a few standard deviations of terms.
func hypergeomUpper(x, k, n, total float64) float64 {
	lo, hi := max(0, n+k-total), min(k, n)
	switch {
	case x <= lo:
		return 1
	case x > hi:
		return 0
	}
	logC := lchoose(total, n)
	pmf := func(i float64) float64 { return math.Exp(lchoose(k, i) + lchoose(total-k, n-i) - logC) }
	mode := math.Floor((n + 1) * (k + 1) / (total + 2))
	if x > mode {
		return min(1, sumTail(pmf, x, hi, 1))
	}
	return max(0, 1-sumTail(pmf, x-1, lo, -1))
}

// sumTail sums pmf from `from` to `to` in steps of dir, stopping when the
// terms no longer matter.
func sumTail(pmf func(float64) float64, from, to, dir float64) float64 {
	var sum float64
	for i := from; (to-i)*dir >= 0; i += dir {
		p := pmf(i)
		sum += p
		if p < 1e-17*sum || (sum == 0 && p == 0 && math.Abs(i-from) > 50) {
			break
		}
	}
	return sum
}

func lchoose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return a - b - c
}

// dispersion estimates φ, the factor by which the canary's count of bad
// events varies more than independent requests allow, from its spread
// across slices, as quasi-likelihood does: the Pearson statistic at the
// fitted model over its degrees of freedom (pearson). The slices are
// first gathered into batches of consecutive slices long enough to be
// close to independent (BatchLength of the deviations' lag-1
// autocorrelation): a burst that outlasts a slice moves its neighbours the
// same way, and deviations estimated as independent then miss the
// covariance between them (a second-long burst over 1 s slices: lag-1
// autocorrelation about 0.5, the variance of the sum more than twice the
// sum of the variances). The test's z is still on the cumulative counts;
// only φ and its degrees of freedom come from the batches. Slices that
// show no over-dispersion are not batched: batches would only take away
// degrees of freedom, and a short plan's looks could then never fail.
func dispersion(d countData) (phi, df float64) {
	psi := fittedRatio(d)
	if phi, df := pearson(d, psi, false); phi <= 1 {
		return phi, df // no over-dispersion to estimate: no batches
	}
	rho, n := residualLag1(d, psi)
	return pearson(batched(d, BatchLength(rho, n)), psi, true)
}

// fittedRatio is the common rate ratio ψ between the sides, fitted on the
// cumulative counts (half a pseudo-count on each, so that no bad event is
// a ratio of 1).
func fittedRatio(d countData) float64 {
	xb, nb := d.base.sums()
	xc, nc := d.canary.sums()
	return ((xc + 0.5) / (nc + 0.5)) / ((xb + 0.5) / (nb + 0.5))
}

// residual is slice i's deviation from the model of one common rate ratio
// ψ and its hypergeometric variance: with k_i bad events of n_i requests
// and the canary serving n_c,i of them, the canary's share of the bad
// events is π_i = ψ·n_c,i / (ψ·n_c,i + n_b,i), d_i = x_c,i − k_i·π_i and
// v_i = k_i·π_i·(1−π_i)·(n_i−k_i)/(n_i−1). A slice without a bad event
// or a request tells nothing: ok is false.
func residual(d countData, i int, psi float64) (di, vi float64, ok bool) {
	k := d.base.bad[i] + d.canary.bad[i]
	n := d.base.total[i] + d.canary.total[i]
	if k == 0 || n <= 1 {
		return 0, 0, false
	}
	pi := psi * d.canary.total[i] / (psi*d.canary.total[i] + d.base.total[i])
	vi = k * pi * (1 - pi) * max(n-k, 1) / (n - 1)
	if vi <= 0 {
		return 0, 0, false
	}
	return d.canary.bad[i] - k*pi, vi, true
}

// residualLag1 is the lag-1 autocorrelation of the slices' standardized
// deviations d_i/√v_i, about 0 (the fitted model's mean), over pairs of
// neighbouring informative slices, and how many slices are informative.
func residualLag1(d countData, psi float64) (rho float64, n int) {
	var num, den, prev float64
	has := false
	for i := range d.base.bad {
		di, vi, ok := residual(d, i, psi)
		if !ok {
			has = false
			continue
		}
		n++
		r := di / math.Sqrt(vi)
		den += r * r
		if has {
			num += r * prev
		}
		prev, has = r, true
	}
	if den == 0 {
		return 0, n
	}
	return num / den, n
}

// pearson is the quasi-likelihood dispersion of the slices (or batches)
// at the fitted ratio ψ. Fitting ψ matters: under the null's π_i a canary
// that is really worse would look over-dispersed (its count varies with
// its own, higher rate), and dividing by that φ would hide the change the
// test is for. With Var(d_i) = φ·v_i, Σd_i² has expectation
// φ·(V − Σv_i²/V), V = Σv_i (the fitted ψ takes one degree of freedom);
// summing before dividing, rather than averaging each slice's Pearson
// term, keeps the estimate unbiased when a slice holds only a few clumps
// of errors. The degrees of freedom are V²/Σv_i² − 1 (m − 1 for equal
// slices), fewer when the deviations are heavy-tailed (a few bursts
// carry the spread): Satterthwaite's 2m/(κ−1) with κ the standardized
// deviations' kurtosis, when above a normal's 3 and heavy is set (over-
// dispersed slices: the kurtosis of slices the binomial explains says
// nothing of φ̂'s noise). With fewer than 3
// informative slices it returns 1 and those degrees of freedom, less
// than 2.
func pearson(d countData, psi float64, heavy bool) (phi, df float64) {
	var sd2, v, v2, r2, r4 float64
	m := 0
	for i := range d.base.bad {
		di, vi, ok := residual(d, i, psi)
		if !ok {
			continue
		}
		sd2 += di * di
		v += vi
		v2 += vi * vi
		r := di * di / vi
		r2 += r
		r4 += r * r
		m++
	}
	if m < 3 {
		return 1, max(float64(m-1), 0)
	}
	df = max(v*v/v2-1, 1)
	if kurt := float64(m) * r4 / (r2 * r2); heavy && kurt > 3 && r2 > 0 {
		df = min(df, max(df*2/(kurt-1), 1))
	}
	return sd2 / (v - v2/v), df
}

// batched sums consecutive batches of b slices on each side; a last,
// shorter batch is left out of the dispersion.
func batched(d countData, b int) countData {
	if b <= 1 {
		return d
	}
	sum := func(s sideCounts) sideCounts {
		var out sideCounts
		for i := 0; i+b <= len(s.bad); i += b {
			var x, n float64
			for j := i; j < i+b; j++ {
				x += s.bad[j]
				n += s.total[j]
			}
			out.bad, out.total = append(out.bad, x), append(out.total, n)
		}
		return out
	}
	return countData{base: sum(d.base), canary: sum(d.canary)}
}

// BatchLength is how many consecutive values (samples, slices) a batch
// gathers so that batches are close to independent, from rho, the lag-1
// autocorrelation of n values: corrected for the downward bias of the
// estimate in a short series ((1+4ρ)/n, Kendall) and clipped to [0, 0.9],
// the variance of a sum of values of an AR(1) series is (1+ρ)/(1−ρ) times
// that of independent ones; a batch that long, rounded up, carries about
// one independent value's information. Below MinPlannedSamples values, 1:
// too short to tell, and a look that short cannot fail anyway.
// Measured on queries (judgebench -overlap): rounding to the nearest
// length and no bias correction left 1.3 to 4.7 % of A/A canaries rolled
// back on AR(1) gauges and overlapping rates; this rule, 0 to 1.1 %. On
// counts, see ACCURACY.md "The bursty histogram".
func BatchLength(rho float64, n int) int {
	if n < MinPlannedSamples {
		return 1
	}
	rho += (1 + 4*rho) / float64(n)
	rho = min(max(rho, 0), 0.9)
	return max(1, int(math.Ceil((1+rho)/(1-rho))))
}

// ratioEstimate is a ratio's estimate: the log of the canary's rate over
// the baseline's, oriented so that positive is bad, with its standard
// error, the tolerance on that scale, and the test's z. The rates are of
// the metric as written (errors over total), whichever events were tested.
func ratioEstimate(r *Ratio, dir Direction, tol float64, test countTest) estimate {
	orig := ratioData(r, IncreaseIsBad)
	xb, nb := orig.base.sums()
	xc, nc := orig.canary.sums()
	// Pseudo-counts in proportion to each side's requests: equal rates when
	// neither side has an event, and a finite ratio when one has none.
	share := nc / (nb + nc)
	pb, pc := xb+(1-share), xc+share
	logRatio := math.Log(pc/nc) - math.Log(pb/nb)
	v := 1/pc - 1/(nc+share) + 1/pb - 1/(nb+1-share)
	e := estimate{bad: logRatio, se: math.Sqrt(max(v, 0) * test.phi), df: test.df, tol: math.Log1p(tol),
		scale: ScaleLog, z: test.z, counts: true, phiDF: test.phiDF}
	if dir == DecreaseIsBad {
		e.bad, e.tol = -logRatio, -math.Log1p(-tol)
	}
	return e
}
