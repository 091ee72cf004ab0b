package judge

import "math"

// normalCDF is the standard normal distribution function.
func normalCDF(z float64) float64 {
	return 0.5 * math.Erfc(-z/math.Sqrt2)
}

// normalUpperQuantile returns z such that P(Z > z) = q, accurate for tiny q.
func normalUpperQuantile(q float64) float64 {
	return math.Sqrt2 * math.Erfcinv(2*q)
}

// tToZ maps a Student t statistic with df degrees of freedom to the normal
// quantile of the same tail probability, so that small-sample uncertainty
// about the variance is paid for before the statistic meets the normal
// mixture boundary.
func tToZ(t, df float64) float64 {
	if math.IsInf(df, 1) || df > 1e7 {
		return t
	}
	if t == 0 {
		return 0
	}
	q := studentUpperTail(math.Abs(t), df)
	if q <= 0 {
		return math.Copysign(math.Inf(1), t)
	}
	return math.Copysign(normalUpperQuantile(q), t)
}

// studentUpperTail is P(T > t) for t >= 0 and df > 0.
func studentUpperTail(t, df float64) float64 {
	x := df / (df + t*t)
	return 0.5 * regIncBeta(df/2, 0.5, x)
}

// regIncBeta is the regularized incomplete beta function I_x(a, b),
// evaluated with a continued fraction (modified Lentz).
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaFraction(b, a, 1-x)/b
	}
	return front * betaFraction(a, b, x) / a
}

func betaFraction(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-15
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d, c = lentzStep(d, c, num)
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d, c = lentzStep(d, c, num)
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < eps {
			break
		}
	}
	return h
}

func lentzStep(d, c, num float64) (float64, float64) {
	const tiny = 1e-300
	d = 1 + num*d
	if math.Abs(d) < tiny {
		d = tiny
	}
	c = 1 + num/c
	if math.Abs(c) < tiny {
		c = tiny
	}
	return 1 / d, c
}

// zToT maps a normal quantile back to the Student t quantile with the same
// tail probability (the inverse of tToZ for z >= 0).
func zToT(z, df float64) float64 {
	if math.IsInf(df, 1) || df > 1e7 || math.IsInf(z, 0) {
		return z
	}
	q := normalCDF(-z)
	lo, hi := z, math.Max(2*z, 1)
	for studentUpperTail(hi, df) > q {
		hi *= 2
		if hi > 1e12 {
			return math.Inf(1)
		}
	}
	for range 50 {
		mid := (lo + hi) / 2
		if studentUpperTail(mid, df) > q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
