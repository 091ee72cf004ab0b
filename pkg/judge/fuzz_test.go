package judge

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzMetric feeds arbitrary samples and tolerances to the statistics: no
// panic, and every verdict other than nodata is backed by sane numbers.
func FuzzMetric(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 0.05, false)
	f.Add(make([]byte, 160), 0.5, true)
	j := fuzzJudge(f)
	f.Fuzz(func(t *testing.T, data []byte, tol float64, decrease bool) {
		checkFuzzed(t, j, Look{}, data, tol, decrease)
	})
}

// FuzzMetricAt is FuzzMetric at a look of a plan, planned or not, within
// the plan or beyond it.
func FuzzMetricAt(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 0.05, false, uint8(6), uint8(3))
	f.Add(make([]byte, 160), 0.5, true, uint8(1), uint8(1))
	f.Add(make([]byte, 160), 0.1, false, uint8(4), uint8(9))
	j := fuzzJudge(f)
	f.Fuzz(func(t *testing.T, data []byte, tol float64, decrease bool, planned, index uint8) {
		checkFuzzed(t, j, Look{Planned: int(planned % 16), Index: int(index%20) + 1}, data, tol, decrease)
	})
}

func fuzzJudge(f *testing.F) *Judge {
	j, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	return j
}

// checkFuzzed judges the samples in data, split in half: no panic, and a
// verdict other than nodata has a p-value in [0, 1], at most α when it is a
// failure, and a change inside its interval.
func checkFuzzed(t *testing.T, j *Judge, look Look, data []byte, tol float64, decrease bool) {
	xs := make([]float64, len(data)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	dir := IncreaseIsBad
	if decrease {
		dir = DecreaseIsBad
	}
	half := len(xs) / 2
	check(t, j, look, Metric{Name: "m", Direction: dir, Tolerance: tol, Baseline: xs[:half], Canary: xs[half:]})
}

// FuzzCounts feeds arbitrary counts to the ratio and histogram kinds at a
// look of a plan: no panic, and a verdict other than nodata is backed by
// sane numbers.
func FuzzCounts(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 0.05, false, uint8(6), uint8(3), uint8(3))
	f.Add(make([]byte, 96), 0.5, true, uint8(1), uint8(1), uint8(2))
	j := fuzzJudge(f)
	f.Fuzz(func(t *testing.T, data []byte, tol float64, decrease bool, planned, index, width uint8) {
		xs := make([]float64, len(data)/2)
		for i := range xs {
			xs[i] = float64(binary.LittleEndian.Uint16(data[2*i:]) % 2000) // whole counts, as Prometheus's
		}
		dir := IncreaseIsBad
		if decrease {
			dir = DecreaseIsBad
		}
		look := Look{Planned: int(planned % 8), Index: int(index%10) + 1}
		quarter := len(xs) / 4
		ratio := &Ratio{Baseline: Counts{Errors: xs[:quarter], Total: xs[quarter : 2*quarter]},
			Canary: Counts{Errors: xs[2*quarter : 3*quarter], Total: xs[3*quarter : 4*quarter]}}
		check(t, j, look, Metric{Name: "r", Kind: KindRatio, Direction: dir, Tolerance: tol, Ratio: ratio})

		w := int(width%5) + 2
		le := make([]float64, w)
		for i := range le[:w-1] {
			le[i] = float64(i+1) / 10
		}
		le[w-1] = math.Inf(1)
		h := &Histogram{Quantile: 0.9, Le: le}
		for i := 0; i+2*w <= len(xs); i += 2 * w {
			h.Baseline, h.Canary = append(h.Baseline, xs[i:i+w]), append(h.Canary, xs[i+w:i+2*w])
		}
		check(t, j, look, Metric{Name: "h", Kind: KindHistogram, Direction: dir, Tolerance: tol, Histogram: h})
	})
}

// check judges m: no panic, and a verdict other than nodata has a p-value
// in [0, 1], at most α when it is a failure, and a change inside its
// interval.
func check(t *testing.T, j *Judge, look Look, m Metric) {
	r, err := j.MetricAt(look, m)
	if err != nil || r.Verdict == NoData {
		return
	}
	if !(r.P >= 0 && r.P <= 1) {
		t.Fatalf("p %v out of [0, 1]: %v", r.P, r)
	}
	if r.Verdict == Fail && r.P > 1-j.cfg.Confidence+1e-9 {
		t.Fatalf("fail with p %v: %v", r.P, r)
	}
	if r.CI[0] > r.Change || r.Change > r.CI[1] || math.IsNaN(r.Change) {
		t.Fatalf("change outside its interval: %v", r)
	}
}
