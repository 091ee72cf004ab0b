package sim

import (
	"math"
	"sync"

	"github.com/modelgate/modelgate/pkg/judge"
)

// boundName names the bound judge in tables and targets.
const boundName = "bound-umpu"

// Bound is a reference judge, not a usable one: for each scenario it
// applies, once, to the whole window of n samples per side, the uniformly
// most powerful unbiased (UMPU) one-sided test at exactly level Alpha of
// "the canary is no worse" for the scenario's generating family, which it
// is told (Scenario.Family; for error rates even the requests per
// interval, which the real judge never sees):
//
//   - LogNormal (latency, both sides with the same σ): the pooled-variance
//     two-sample t-test on the logs, rejecting for a larger canary mean;
//   - Normal (F1, same standard deviation): the pooled two-sample t-test,
//     rejecting for a smaller canary mean;
//   - Poisson (error counts per interval): with C canary and B baseline
//     errors over the window and N = C + B, C is Binomial(N, p0) given N
//     when the rates are equal, p0 the canary's share of the requests; the
//     test is the randomized conditional binomial test, exactly Alpha for
//     every base rate.
//
// Why it bounds every judge of this benchmark (Lehmann and Romano, Testing
// Statistical Hypotheses, 3rd ed., §4.4 for exponential families with
// nuisance parameters, §4.5 for two Poisson rates, §5.3 for two normal
// means). Whatever a judge does — one look or a look at every interval,
// a tolerance rule on top — whether it ever rolls back within the window is
// a function of the window's n samples per side, because every look sees a
// prefix of them. It is therefore a test of H0 "canary no worse" on that
// data. If its false-rollback rate is at most α' ≤ Alpha at every point of
// H0 — every noise level σ and location, or every base error rate, and
// every improvement, not only the simulated ones — and it is unbiased (it
// rolls back every regressed canary at least α' of the time), then at every
// regression its detection is at most the power of this test: the UMPU
// test is the most powerful unbiased level-Alpha test at every alternative,
// and an unbiased test of size α' < Alpha is beaten by one of size Alpha
// (reject also, with probability (Alpha−α')/(1−α'), when it does not).
// Biased tests, and tests whose level holds only at the simulated noise
// level, fall outside the bound.
//
// Bound judges the full window once, so its peeking and one-shot rates are
// the same figure; its test function φ is in [0, 1] (the Poisson test
// rolls back with probability γ on the boundary), and a cell's rate is the
// mean of φ over the replicates, with no random draw of its own. On the
// A/A scenarios whose draws leave the family (heavy tails, spikes, a
// canary noisier than the baseline) its level is only approximate.
type Bound struct {
	Alpha float64

	mu    sync.Mutex
	tCrit map[int]float64
	binom map[binomKey]binomCut
}

// NewBound returns the bound at α = 1 %, the false-rollback budget.
func NewBound() *Bound { return &Bound{Alpha: 0.01} }

// Name implements Reference.
func (b *Bound) Name() string { return boundName }

// Phi implements Reference: the probability that the bound rolls back a
// canary with these samples of the scenario.
func (b *Bound) Phi(sc Scenario, base, can []float64) float64 {
	switch sc.Family.Kind {
	case LogNormal:
		return b.tTest(logs(base), logs(can), sc.Direction)
	case Normal:
		return b.tTest(base, can, sc.Direction)
	case Poisson:
		c := countSum(can, sc.Family.CanaryRequests)
		n := c + countSum(base, sc.Family.BaseRequests)
		return b.binomial(n, share(sc.Family)).phi(c)
	}
	return 0
}

// tTest is the one-sided pooled two-sample t-test at level Alpha: 1 when
// the canary's mean is significantly worse in the metric's bad direction.
func (b *Bound) tTest(base, can []float64, dir judge.Direction) float64 {
	nb, nc := float64(len(base)), float64(len(can))
	mb, vb := meanVar(base)
	mc, vc := meanVar(can)
	df := len(base) + len(can) - 2
	pooled := ((nb-1)*vb + (nc-1)*vc) / float64(df)
	t := (mc - mb) / math.Sqrt(pooled*(1/nb+1/nc))
	if dir == judge.DecreaseIsBad {
		t = -t
	}
	if t > b.critical(df) {
		return 1
	}
	return 0
}

// critical is the Student t quantile of level Alpha, computed once per df.
func (b *Bound) critical(df int) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.tCrit[df]; ok {
		return c
	}
	if b.tCrit == nil {
		b.tCrit = map[int]float64{}
	}
	c := studentQuantile(b.Alpha, df)
	b.tCrit[df] = c
	return c
}

type binomKey struct {
	n  int
	p0 float64
}

// binomCut is the randomized binomial test of "p <= p0" at level alpha
// given n: reject when C > Cut, with probability Gamma when C == Cut.
type binomCut struct {
	Cut   int
	Gamma float64
}

func (bc binomCut) phi(c int) float64 {
	switch {
	case c > bc.Cut:
		return 1
	case c == bc.Cut:
		return bc.Gamma
	}
	return 0
}

// binomial returns the cut for n errors in all, computed once per (n, p0).
func (b *Bound) binomial(n int, p0 float64) binomCut {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := binomKey{n, p0}
	if bc, ok := b.binom[k]; ok {
		return bc
	}
	if b.binom == nil {
		b.binom = map[binomKey]binomCut{}
	}
	bc := binomialCut(n, p0, b.Alpha)
	b.binom[k] = bc
	return bc
}

// binomialCut finds the boundary of the UMPU test: the smallest Cut with
// P(C > Cut) <= alpha, and Gamma so that P(C > Cut) + Gamma·P(C = Cut) is
// exactly alpha.
func binomialCut(n int, p0, alpha float64) binomCut {
	above := 0.0 // P(C > c)
	for c := n; c >= 0; c-- {
		pc := binomialPMF(c, n, p0)
		if above+pc > alpha {
			return binomCut{Cut: c, Gamma: (alpha - above) / pc}
		}
		above += pc
	}
	return binomCut{Cut: -1} // unreachable for alpha < 1: the pmf sums to 1
}

func binomialPMF(k, n int, p float64) float64 {
	ln, _ := math.Lgamma(float64(n + 1))
	lk, _ := math.Lgamma(float64(k + 1))
	lnk, _ := math.Lgamma(float64(n - k + 1))
	return math.Exp(ln - lk - lnk + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// share is the canary's share of the requests: the binomial p0 when the
// error rates are equal.
func share(f Family) float64 {
	return float64(f.CanaryRequests) / float64(f.CanaryRequests+f.BaseRequests)
}

// countSum turns per-interval rates back into error counts and sums them.
func countSum(rates []float64, requests int) int {
	var sum int
	for _, r := range rates {
		sum += int(math.Round(r * float64(requests)))
	}
	return sum
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}

// meanVar returns the mean and the unbiased sample variance.
func meanVar(xs []float64) (float64, float64) {
	m := mean(xs)
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return m, ss / float64(len(xs)-1)
}

// Power is the bound's exact detection of the scenario at n samples per
// side, from the noncentral t (LogNormal, Normal) or the Poisson and
// binomial laws (Poisson); false when the scenario leaves its family.
func (b *Bound) Power(sc Scenario, n int) (float64, bool) {
	f := sc.Family
	if !f.Exact {
		return 0, false
	}
	switch f.Kind {
	case LogNormal, Normal:
		shift := f.Shift
		if sc.Direction == judge.DecreaseIsBad {
			shift = -shift
		}
		delta := shift / (f.Sigma * math.Sqrt(2/float64(n)))
		df := 2*n - 2
		return noncentralAbove(b.critical(df), df, delta), true
	case Poisson:
		return b.poissonPower(f, n), true
	}
	return 0, false
}

// poissonPower sums, over the total count N (Poisson), the conditional
// power of the binomial test when C given N is Binomial(N, p1).
func (b *Bound) poissonPower(f Family, n int) float64 {
	mc := f.CanaryRate * float64(f.CanaryRequests*n)
	mb := f.BaseRate * float64(f.BaseRequests*n)
	mu, p1 := mc+mb, mc/(mc+mb)
	lo := max(0, int(mu-12*math.Sqrt(mu)-12))
	hi := int(mu + 12*math.Sqrt(mu) + 12)
	var power float64
	for total := lo; total <= hi; total++ {
		bc := b.binomial(total, share(f))
		var cond float64
		for c := max(bc.Cut, 0); c <= total; c++ {
			cond += bc.phi(c) * binomialPMF(c, total, p1)
		}
		power += poissonPMF(total, mu) * cond
	}
	return power
}

func poissonPMF(k int, mu float64) float64 {
	lk, _ := math.Lgamma(float64(k + 1))
	return math.Exp(float64(k)*math.Log(mu) - mu - lk)
}
