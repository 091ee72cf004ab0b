package exporter

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func moments(draw func() float64, n int) (mean, variance float64) {
	var s, ss float64
	for range n {
		x := draw()
		s += x
		ss += x * x
	}
	mean = s / float64(n)
	return mean, ss/float64(n) - mean*mean
}

func TestDraws(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, mean := range []float64{0.3, 4, 40, 95} {
		m, v := moments(func() float64 { return poisson(r, mean) }, 20000)
		assert.InEpsilon(t, mean, m, 0.05, "poisson mean %v", mean)
		assert.InEpsilon(t, mean, v, 0.1, "poisson variance %v", mean)
	}
	for _, c := range []struct{ n, p float64 }{{40, 0.005}, {40, 0.3}, {400, 0.9}, {7, 1}} {
		m, v := moments(func() float64 { return binomial(r, c.n, c.p) }, 20000)
		assert.InDelta(t, c.n*c.p, m, 0.05*c.n*c.p+0.01, "binomial %+v", c)
		assert.InDelta(t, c.n*c.p*(1-c.p), v, 0.1*c.n*c.p*(1-c.p)+0.01, "binomial %+v", c)
	}
}

func TestStreams(t *testing.T) {
	start := time.Unix(1764064800, 0)
	drift := &Drift{Period: time.Minute, Amplitude: 0.2}
	x := New([]Version{
		{Model: "m", Version: "1.0.0", RequestsPerSecond: 400, ErrorRate: 0.01, LatencyMedian: 0.05, LatencySigma: 0.3, Drift: drift},
		{Model: "m", Version: "2.0.0", RequestsPerSecond: 20, ErrorRate: 0.01, LatencyMedian: 0.05, LatencySigma: 0.3, Drift: drift,
			Burst: &Burst{MeanCalm: 10 * time.Second, MeanBurst: time.Second, Rate: 2, Errors: 5, LatencyTime: 1.5}},
	}, 0, 7, start)
	x.Advance(start.Add(10 * time.Minute))
	req, errs := x.Totals("m", "1.0.0")
	assert.InEpsilon(t, 400*600, req, 0.02)
	assert.InEpsilon(t, 0.01, errs/req, 0.1)
	req, _ = x.Totals("m", "2.0.0")
	assert.InEpsilon(t, 20*600*(1+1.0/11), req, 0.1, "bursts double the rate a eleventh of the time")

	var b strings.Builder
	require.NoError(t, x.Write(&b))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	require.NoError(t, err, "the text format Prometheus parses")
	h := families["model_latency_seconds"].Metric[0].Histogram
	assert.Len(t, h.Bucket, 41, "and +Inf")
	assert.LessOrEqual(t, h.Bucket[40].GetCumulativeCount(), h.GetSampleCount())
	// The median is where the cumulative count crosses half.
	for _, bk := range h.Bucket {
		if float64(bk.GetCumulativeCount()) >= float64(h.GetSampleCount())/2 {
			assert.InDelta(t, 0.05, bk.GetUpperBound(), 0.01)
			break
		}
	}
	assert.Len(t, families["model_requests_total"].Metric, 4, "a 200 and a 500 series per version")
	assert.False(t, math.IsNaN(h.GetSampleSum()))
}

// A quality signal is two counters per version, drawn from the requests;
// a version without one exports neither.
func TestQuality(t *testing.T) {
	start := time.Unix(1764064800, 0)
	version := func(v string, q *Quality) Version {
		return Version{Model: "m", Version: v, RequestsPerSecond: 1000, ErrorRate: 0.01, LatencyMedian: 0.05, LatencySigma: 0.3, Quality: q}
	}
	alerts := &Quality{Name: "fraud_alerts", GoodName: "confirmed", Share: 0.05, GoodShare: 0.6}
	for _, expected := range []bool{false, true} {
		x := New([]Version{version("1.0.0", nil), version("2.0.0", alerts)}, 0, 7, start)
		x.Expected = expected
		x.Advance(start.Add(time.Minute))
		var b strings.Builder
		require.NoError(t, x.Write(&b))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
		require.NoError(t, err)
		require.Len(t, families["fraud_alerts_total"].Metric, 1, "only the version with the signal")
		events := families["fraud_alerts_total"].Metric[0].Counter.GetValue()
		good := families["fraud_alerts_confirmed_total"].Metric[0].Counter.GetValue()
		req, _ := x.Totals("m", "2.0.0")
		assert.InEpsilon(t, 0.05, events/req, 0.05, "expected %v", expected)
		assert.InEpsilon(t, 0.6, good/events, 0.05, "expected %v", expected)
	}
}
