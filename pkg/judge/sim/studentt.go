package sim

import (
	"math"
)

// studentAbove is P(T > t) for Student's t with df > 0 whole degrees of
// freedom, from the finite series in θ = atan(t/√df) (Abramowitz and
// Stegun 26.7.3 and 26.7.4), exact up to rounding for whole df.
func studentAbove(t float64, df int) float64 {
	if t < 0 {
		return 1 - studentAbove(-t, df)
	}
	theta := math.Atan(t / math.Sqrt(float64(df)))
	s, c := math.Sincos(theta)
	c2 := c * c
	var inside float64 // P(|T| <= t)
	if df%2 == 1 {
		var sum, term float64
		if df > 1 {
			term = c
			sum = term
			for k := 3; k <= df-2; k += 2 {
				term *= c2 * float64(k-1) / float64(k)
				sum += term
			}
		}
		inside = 2 / math.Pi * (theta + s*sum)
	} else {
		term, sum := 1.0, 1.0
		for k := 2; k <= df-2; k += 2 {
			term *= c2 * float64(k-1) / float64(k)
			sum += term
		}
		inside = s * sum
	}
	return (1 - inside) / 2
}

// studentQuantile returns t with P(T > t) = q for 0 < q < 1/2: the
// one-sided critical value at level q.
func studentQuantile(q float64, df int) float64 {
	lo, hi := 0.0, 1.0
	for studentAbove(hi, df) > q {
		lo, hi = hi, 2*hi
	}
	for range 100 {
		mid := (lo + hi) / 2
		if studentAbove(mid, df) > q {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-13*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// noncentralAbove is P(T' > t) for the noncentral t with df degrees of
// freedom and noncentrality delta: T' = (Z + δ)/S with S² a chi-square
// over df, so the probability is E[Φ(δ − t·S)], integrated over the
// density of S by Simpson's rule.
func noncentralAbove(t float64, df int, delta float64) float64 {
	nu := float64(df)
	lg, _ := math.Lgamma(nu / 2)
	logNorm := math.Ln2 + nu/2*math.Log(nu/2) - lg
	density := func(s float64) float64 {
		if s <= 0 {
			return 0
		}
		return math.Exp(logNorm + (nu-1)*math.Log(s) - nu*s*s/2)
	}
	f := func(s float64) float64 { return density(s) * stdNormalCDF(delta-t*s) }
	const steps = 4000 // even
	top := 1 + 20/math.Sqrt(2*nu)
	h := top / steps
	sum := f(0) + f(top)
	for i := 1; i < steps; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(float64(i)*h)
	}
	return sum * h / 3
}

func stdNormalCDF(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}
