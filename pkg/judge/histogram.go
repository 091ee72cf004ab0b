package judge

import (
	"fmt"
	"math"
)

// A histogram metric is judged on request counts, not on quantile samples:
// the test is the count test (counts.go) on the requests slower than one
// bucket bound, the bound whose pooled cumulative share (both sides
// together, so that the choice does not depend on which side is which) is
// nearest the quantile judged. A canary whose latency grew has more of its
// requests above that bound. The reported change is the change of the
// quantile itself, interpolated within its bucket as histogram_quantile
// does, with a Woodruff interval (the quantile at levels q ± its binomial
// standard error); the tolerance applies to that change.

// checkHistogram returns an error for a histogram's definition (quantile,
// bounds) and a reason for data that cannot be judged.
func checkHistogram(name string, h *Histogram) (string, error) {
	if h == nil {
		return "no bucket counts", nil
	}
	if !(h.Quantile > 0 && h.Quantile < 1) {
		return "", fmt.Errorf("%w: metric %q: quantile %v: must be in (0, 1), 0.99 for p99", ErrInvalidMetric, name, h.Quantile)
	}
	if len(h.Le) < 2 || !math.IsInf(h.Le[len(h.Le)-1], 1) {
		return "", fmt.Errorf("%w: metric %q: le %v: want at least one finite bound and +Inf last", ErrInvalidMetric, name, h.Le)
	}
	for i, le := range h.Le {
		if math.IsNaN(le) || (i > 0 && le <= h.Le[i-1]) {
			return "", fmt.Errorf("%w: metric %q: le %v: bounds must ascend", ErrInvalidMetric, name, h.Le)
		}
	}
	if len(h.Baseline) != len(h.Canary) {
		return fmt.Sprintf("canary has %d slices, baseline %d: both sides are read over the same slices", len(h.Canary), len(h.Baseline)), nil
	}
	if len(h.Baseline) == 0 {
		return "no slices", nil
	}
	for _, s := range []struct {
		name string
		rows Buckets
	}{{"baseline", h.Baseline}, {"canary", h.Canary}} {
		for i, row := range s.rows {
			if len(row) != len(h.Le) {
				return fmt.Sprintf("%s slice %d has %d buckets, want %d (one per le)", s.name, i+1, len(row), len(h.Le)), nil
			}
			for j, x := range row {
				if why := badCount(x); why != "" {
					return fmt.Sprintf("%s slice %d bucket le=%g %s", s.name, i+1, h.Le[j], why), nil
				}
			}
		}
	}
	return "", nil
}

// bucketTotals sums a side's rows per bucket.
func bucketTotals(rows Buckets, buckets int) []float64 {
	out := make([]float64, buckets)
	for _, row := range rows {
		for j, x := range row {
			out[j] += x
		}
	}
	return out
}

// threshold returns the index of the finite bound whose pooled cumulative
// share is nearest q, with requests on both sides of it, or -1.
func threshold(h *Histogram) int {
	base, can := bucketTotals(h.Baseline, len(h.Le)), bucketTotals(h.Canary, len(h.Le))
	var total float64
	for j := range base {
		total += base[j] + can[j]
	}
	best, dist := -1, math.Inf(1)
	var cum float64
	for j := range len(h.Le) - 1 {
		cum += base[j] + can[j]
		f := cum / total
		if f <= 0 || f >= 1 {
			continue
		}
		if d := math.Abs(f - h.Quantile); d < dist {
			best, dist = j, d
		}
	}
	return best
}

// histogramData is the count test's input: per slice, the requests above
// the threshold bound (below or at it when a decrease is bad).
func histogramData(h *Histogram, cut int, dir Direction) countData {
	side := func(rows Buckets) sideCounts {
		s := sideCounts{bad: make([]float64, len(rows)), total: make([]float64, len(rows))}
		for i, row := range rows {
			for j, x := range row {
				s.total[i] += x
				if (j > cut) == (dir == IncreaseIsBad) {
					s.bad[i] += x
				}
			}
		}
		return s
	}
	return countData{base: side(h.Baseline), canary: side(h.Canary)}
}

// BucketQuantile interpolates the q quantile of per-bucket counts (not
// cumulative; le ascending, +Inf last) as Prometheus's histogram_quantile
// does: linearly within the bucket that holds it, from 0 (or the first
// bound, if it is not positive) for the first bucket. It returns +Inf when
// the quantile is in the +Inf bucket.
func BucketQuantile(le, counts []float64, q float64) float64 {
	return quantile(le, counts, q)
}

func quantile(le, counts []float64, q float64) float64 {
	var total float64
	for _, c := range counts {
		total += c
	}
	rank := q * total
	var cum float64
	for j, c := range counts {
		if cum+c < rank || c == 0 {
			cum += c
			continue
		}
		if math.IsInf(le[j], 1) {
			return math.Inf(1)
		}
		lower := 0.0
		if j > 0 {
			lower = le[j-1]
		} else if le[0] <= 0 {
			return le[0]
		}
		return lower + (le[j]-lower)*(rank-cum)/c
	}
	return math.Inf(1)
}

// histogramEstimate is the change of the quantile on the log scale,
// oriented so that positive is bad, with a Woodruff standard error, or the
// reason it has none.
func histogramEstimate(h *Histogram, dir Direction, tol float64, test countTest) (estimate, [2]float64, string) {
	base, can := bucketTotals(h.Baseline, len(h.Le)), bucketTotals(h.Canary, len(h.Le))
	qs := [2]float64{quantile(h.Le, base, h.Quantile), quantile(h.Le, can, h.Quantile)}
	for i, side := range []string{"baseline", "canary"} {
		switch {
		case math.IsInf(qs[i], 1):
			return estimate{}, qs, fmt.Sprintf("the %s's %g quantile is above the largest finite bound (le=%g): add buckets above it",
				side, h.Quantile, h.Le[len(h.Le)-2])
		case !(qs[i] > 0):
			return estimate{}, qs, fmt.Sprintf("the %s's %g quantile is %g: a relative change needs a positive quantile", side, h.Quantile, qs[i])
		}
	}
	seB, seC := woodruffSE(h.Le, base, h.Quantile, test.phi), woodruffSE(h.Le, can, h.Quantile, test.phi)
	logRatio := math.Log(qs[1]) - math.Log(qs[0])
	e := estimate{bad: logRatio, se: math.Hypot(seB, seC), df: test.df, tol: math.Log1p(tol), scale: ScaleLog,
		z: test.z, counts: true, phiDF: test.phiDF}
	if dir == DecreaseIsBad {
		e.bad, e.tol = -logRatio, -math.Log1p(-tol)
	}
	if math.IsNaN(e.se) || math.IsInf(e.se, 0) {
		return estimate{}, qs, "the quantile's error cannot be estimated from these buckets"
	}
	return e, qs, ""
}

// woodruffSE is the standard error of the log quantile: half the log
// distance between the quantiles at q ± one binomial standard error of the
// share below it, one-sided where the other level leaves the finite
// buckets or reaches 0.
func woodruffSE(le, counts []float64, q, phi float64) float64 {
	var n float64
	for _, c := range counts {
		n += c
	}
	h := math.Sqrt(phi * q * (1 - q) / n)
	mid := math.Log(quantile(le, counts, q))
	up, down := math.NaN(), math.NaN()
	if q+h < 1 {
		if x := quantile(le, counts, q+h); !math.IsInf(x, 1) && x > 0 {
			up = math.Log(x)
		}
	}
	if q-h > 0 {
		if x := quantile(le, counts, q-h); !math.IsInf(x, 1) && x > 0 {
			down = math.Log(x)
		}
	}
	switch {
	case !math.IsNaN(up) && !math.IsNaN(down):
		return (up - down) / 2
	case !math.IsNaN(up):
		return up - mid
	case !math.IsNaN(down):
		return mid - down
	}
	return math.Inf(1)
}
