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
	r, err := j.MetricAt(look, Metric{Name: "m", Direction: dir, Tolerance: tol, Baseline: xs[:half], Canary: xs[half:]})
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
