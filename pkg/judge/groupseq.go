package judge

import (
	"math"
	"sort"
	"sync"
)

// The planned test is a one-sided group-sequential test (Jennison and
// Turnbull 2000, "Group Sequential Methods with Applications to Clinical
// Trials"): when the engine knows
// it will judge the window at K equally spaced intervals, it can spend
// exactly α over those K looks instead of guarding against infinitely many,
// as the mixture SPRT must. The boundary comes from a Lan-DeMets
// α-spending function of the power family, α·t^ρ (Kim and DeMets 1987),
// with t = k/K the information fraction of look k: by look k at most
// α·(k/K)^ρ has been spent. ρ = 1 is close to Pocock's constant boundary
// (sharpest early), ρ = 3 to O'Brien and Fleming's (sharpest at the end).
//
// The critical values are computed by recursive numerical integration
// (Armitage, McPherson and Rowe 1969): the score S_k = Z_k·√t_k is a
// Brownian motion observed at t_1 < ... < t_K, so the sub-density of S_k
// over the paths not yet stopped is the previous one, truncated at the
// previous boundary, convolved with a normal of variance t_k − t_(k−1).
// A look that is skipped (no data yet) only lowers the chance of a false
// rollback: the boundaries are fixed in advance.

// maxPlannedLooks is the most looks a boundary is computed for. A plan with
// more is judged with the mixture SPRT, which is close to the best there is
// for so many looks anyway.
const maxPlannedLooks = 100

// groupSeq is the boundary of a one-sided group-sequential test of K
// equally spaced looks at level alpha.
type groupSeq struct {
	z     []float64 // critical value of look k (index k−1) on the z scale
	spent []float64 // α spent up to and including look k
	// tail[k−1][i] is P(no stop before look k, S_k > grid point i); look 1
	// uses the exact normal tail instead.
	tail [][]float64
	lo   float64 // the score grid: lo + i·h
	h    float64
}

// newGroupSeq computes the boundary for looks equally spaced looks at
// level alpha with the spending function alpha·t^rho.
func newGroupSeq(looks int, alpha, rho float64) *groupSeq {
	dt := 1 / float64(looks)
	sd := math.Sqrt(dt)
	h := min(0.02, sd/12)
	g := &groupSeq{lo: -8, h: h}
	n := int(math.Ceil(16/h)) + 1
	kernel := make([]float64, 2*n-1) // normal density of an increment of d·h, index d+n−1
	for d := range kernel {
		x := float64(d-n+1) * h / sd
		kernel[d] = math.Exp(-x*x/2) / (sd * math.Sqrt(2*math.Pi))
	}
	var f []float64 // sub-density of S at the previous look
	var bPrev float64
	for k := 1; k <= looks; k++ {
		t := float64(k) * dt
		spend := alpha * (math.Pow(t, rho) - math.Pow(t-dt, rho))
		if k == 1 {
			f = normalDensity(g, n, t)
		} else {
			f = convolve(g, f, bPrev, kernel, sd)
		}
		tail := upperTail(f, h)
		b := math.Sqrt(t) * normalUpperQuantile(spend)
		if k > 1 {
			b = g.invert(tail, spend)
		}
		prev := 0.0
		if k > 1 {
			prev = g.spent[k-2]
		}
		g.z = append(g.z, b/math.Sqrt(t))
		g.spent = append(g.spent, prev+spend)
		g.tail = append(g.tail, tail)
		bPrev = b
	}
	return g
}

// normalDensity is the density of N(0, t) on the grid.
func normalDensity(g *groupSeq, n int, t float64) []float64 {
	f := make([]float64, n)
	for i := range f {
		s := g.lo + float64(i)*g.h
		f[i] = math.Exp(-s*s/(2*t)) / math.Sqrt(2*math.Pi*t)
	}
	return f
}

// convolve returns the sub-density at the next look: f truncated at b (the
// paths that did not stop), plus a normal increment. The integral is the
// trapezoidal rule over the grid points below b and a last partial panel up
// to b, with f(b) interpolated.
func convolve(g *groupSeq, f []float64, b float64, kernel []float64, sd float64) []float64 {
	n := len(f)
	m := min(int(math.Floor((b-g.lo)/g.h)), n-1) // last grid point at or below b
	out := make([]float64, n)
	if m < 0 {
		return out
	}
	w := make([]float64, m+1) // trapezoidal weights
	for j := range w {
		w[j] = g.h
	}
	w[0] /= 2
	w[m] /= 2
	if m == 0 {
		w[0] = 0 // a single point is no panel
	}
	frac := b - (g.lo + float64(m)*g.h)
	fb := f[m]
	if m+1 < n {
		fb += (f[m+1] - f[m]) * frac / g.h
	}
	for i := range out {
		var sum float64
		for j := 0; j <= m; j++ {
			sum += w[j] * f[j] * kernel[i-j+n-1]
		}
		if frac > 0 {
			s := g.lo + float64(i)*g.h
			x := (s - b) / sd
			kb := math.Exp(-x*x/2) / (sd * math.Sqrt(2*math.Pi))
			sum += frac / 2 * (f[m]*kernel[i-m+n-1] + fb*kb)
		}
		out[i] = sum
	}
	return out
}

// upperTail returns the integral of f above each grid point (trapezoidal).
func upperTail(f []float64, h float64) []float64 {
	tail := make([]float64, len(f))
	for i := len(f) - 2; i >= 0; i-- {
		tail[i] = tail[i+1] + h*(f[i]+f[i+1])/2
	}
	return tail
}

// invert returns the score b with tail(b) = p, interpolating linearly.
func (g *groupSeq) invert(tail []float64, p float64) float64 {
	// tail is non-increasing: find the first point at or below p.
	i := sort.Search(len(tail), func(i int) bool { return tail[i] <= p })
	switch {
	case i == 0:
		return g.lo
	case i == len(tail):
		return g.lo + float64(len(tail)-1)*g.h
	}
	frac := 0.0
	if d := tail[i-1] - tail[i]; d > 0 {
		frac = (tail[i-1] - p) / d
	}
	return g.lo + (float64(i-1)+frac)*g.h
}

// tailAt interpolates tail at the score s.
func (g *groupSeq) tailAt(tail []float64, s float64) float64 {
	x := (s - g.lo) / g.h
	switch {
	case x <= 0:
		return tail[0]
	case x >= float64(len(tail)-1):
		return 0
	}
	i := int(x)
	return tail[i] + (tail[i+1]-tail[i])*(x-float64(i))
}

// pValue is the stage-wise p-value of z at look k (from 1): the α spent
// before look k plus the chance of reaching look k and exceeding z there.
// It is at most spent[k−1] exactly when z is at or above the boundary.
func (g *groupSeq) pValue(k int, z float64) float64 {
	if k == 1 {
		return normalCDF(-z)
	}
	t := float64(k) / float64(len(g.z))
	return min(1, g.spent[k-2]+g.tailAt(g.tail[k-1], z*math.Sqrt(t)))
}

// boundaries caches group-sequential boundaries per number of looks and
// level, inside a Judge.
type boundaries struct {
	rho float64
	mu  sync.Mutex
	m   map[boundaryKey]*boundaryOnce
}

type boundaryKey struct {
	looks int
	alpha float64
}

type boundaryOnce struct {
	once sync.Once
	g    *groupSeq
}

// get returns the boundary for looks looks at level alpha, computing it on
// first use; concurrent callers wait for the one computation.
func (b *boundaries) get(looks int, alpha float64) *groupSeq {
	key := boundaryKey{looks, alpha}
	b.mu.Lock()
	if b.m == nil {
		b.m = map[boundaryKey]*boundaryOnce{}
	}
	e, ok := b.m[key]
	if !ok {
		e = &boundaryOnce{}
		b.m[key] = e
	}
	b.mu.Unlock()
	e.once.Do(func() { e.g = newGroupSeq(looks, alpha, b.rho) })
	return e.g
}
