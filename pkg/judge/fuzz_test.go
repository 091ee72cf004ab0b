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
	j, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, tol float64, decrease bool) {
		xs := make([]float64, len(data)/8)
		for i := range xs {
			xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		dir := IncreaseIsBad
		if decrease {
			dir = DecreaseIsBad
		}
		half := len(xs) / 2
		r, err := j.Metric(Metric{Name: "m", Direction: dir, Tolerance: tol, Baseline: xs[:half], Canary: xs[half:]})
		if err != nil || r.Verdict == NoData {
			return
		}
		if !(r.P >= 0 && r.P <= 1) {
			t.Fatalf("p %v out of [0, 1]: %v", r.P, r)
		}
		if r.Verdict == Fail && r.P > 1-j.cfg.Confidence {
			t.Fatalf("fail with p %v: %v", r.P, r)
		}
		if r.CI[0] > r.Change || r.Change > r.CI[1] || math.IsNaN(r.Change) {
			t.Fatalf("change outside its interval: %v", r)
		}
	})
}
