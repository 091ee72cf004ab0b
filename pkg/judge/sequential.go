package judge

import "math"

// The sequential test is a mixture sequential probability ratio test
// (mSPRT; Robbins 1970; Lai 1976; Johari et al. 2017 "Always valid
// inference"). For an effect estimate with standard error se, the
// likelihood ratio of "the effect is θ" against "the effect is 0" is
// integrated over a normal prior on θ. The result Λ is a nonnegative
// martingale under the null, so by Ville's inequality P(Λ ever reaches 1/α)
// <= α however often it is looked at: the judge can be run at every
// analysis interval without inflating its false rollback rate.
//
// The prior is put on the standardized effect θ/σ (σ the per-sample
// standard deviation), as in Lai's mixture t-test: its scale τ then gives
// the statistic's weight ρ = τ²·n/2 / (1 + τ²·n/2), which depends only on
// the sample sizes, and the boundary is within a few percent of its best
// (about 3.4 standard errors at α = 1 %) from 10 to a few hundred samples
// per side.

// mixture is the prior of one look: rho = τ²/(se² + τ²) in effect units.
type mixture struct {
	rho float64
}

// newMixture returns the mixture for a look with nb and nc samples and a
// prior scale tau on the standardized effect.
func newMixture(nb, nc int, tau float64) mixture {
	nh := 2 / (1/float64(nb) + 1/float64(nc)) // harmonic mean of the sizes
	k := tau * tau * nh / 2
	return mixture{rho: k / (1 + k)}
}

// logOneSided is log Λ for "the effect is > 0" (a half-normal prior),
// given the normalized statistic z = estimate/se.
func (m mixture) logOneSided(z float64) float64 {
	if z <= 0 {
		return math.Inf(-1) // Λ < 1 whenever the canary is not worse: p = 1
	}
	lphi := math.Log(normalCDF(z * math.Sqrt(m.rho)))
	return math.Ln2 + 0.5*math.Log1p(-m.rho) + m.rho*z*z/2 + lphi
}

// radius is the half-width, in standard errors, of the anytime-valid
// confidence sequence at level 1-alpha (the two-sided normal mixture).
func (m mixture) radius(alpha float64) float64 {
	return math.Sqrt((2*math.Log(1/alpha) - math.Log1p(-m.rho)) / m.rho)
}
