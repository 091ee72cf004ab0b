package analysis

import (
	"fmt"
	"math"

	"github.com/modelgate/modelgate/pkg/judge"
)

// Split is the canary's share of the requests over a look, as the first
// count metric of the plan counted them.
type Split struct {
	Metric string
	// Baseline and Canary are the requests each side served.
	Baseline, Canary float64
	// Want is the stage's traffic for the canary, in percent.
	Want float64
}

// Share is the canary's share of the requests, in percent.
func (s Split) Share() float64 {
	return 100 * s.Canary / (s.Baseline + s.Canary)
}

// splitConfidence is how sure the check must be that the share is out of
// its band before it stops a stage.
const splitConfidence = 0.999

// mismatch says why the split is far from the stage's traffic, or "". Far
// is the odds of the canary's share beyond a factor 2 of the stage's (at
// 5 %: outside 2.6 % to 9.5 %; at 50 %: outside 33 % to 67 %), with the
// whole Wilson interval of the share at splitConfidence outside that band,
// so that a look with few requests is not stopped by chance.
func (s Split) mismatch() string {
	n := s.Baseline + s.Canary
	want := s.Want / 100
	odds := want / (1 - want)
	lo, hi := odds/2/(1+odds/2), 2*odds/(1+2*odds)
	wlo, whi := wilson(s.Canary, n, splitConfidence)
	if whi >= lo && wlo <= hi {
		return ""
	}
	return fmt.Sprintf("the canary served %.1f %% of the requests (%s of %s counted by %s), the stage puts %g %% on it: "+
		"check that the deploy workflow shifted the traffic", s.Share(), count(s.Canary), count(n), s.Metric, s.Want)
}

func count(x float64) string {
	return fmt.Sprintf("%.0f", x)
}

// wilson is the Wilson score interval of a binomial proportion.
func wilson(k, n, confidence float64) (float64, float64) {
	z := math.Sqrt2 * math.Erfinv(confidence)
	p := k / n
	den := 1 + z*z/n
	mid := (p + z*z/(2*n)) / den
	half := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / den
	return mid - half, mid + half
}

// split measures the share from the first count metric with requests.
func split(inputs []judge.Metric, traffic float64) (Split, bool) {
	for _, m := range inputs {
		var base, can float64
		switch {
		case m.Ratio != nil:
			base, can = sum(m.Ratio.Baseline.Total), sum(m.Ratio.Canary.Total)
		case m.Histogram != nil:
			for _, row := range m.Histogram.Baseline {
				base += sum(row)
			}
			for _, row := range m.Histogram.Canary {
				can += sum(row)
			}
		default:
			continue
		}
		if base+can > 0 && !math.IsNaN(base+can) && !math.IsInf(base+can, 0) {
			return Split{Metric: m.Name, Baseline: base, Canary: can, Want: traffic}, true
		}
	}
	return Split{}, false
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
