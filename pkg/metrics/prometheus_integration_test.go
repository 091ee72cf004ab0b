package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/promtest"
)

// TestRealPrometheus runs the example plan's queries against a real
// Prometheus holding two hours of a baseline and a canary whose latency and
// errors are known, so that the answers are too.
func TestRealPrometheus(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	from, to := now.Add(-2*time.Hour), now.Add(-30*time.Minute)
	bounds := []float64{0.05, 0.1, 0.25, 0.5, 1}
	var om promtest.OpenMetrics
	for _, tr := range []promtest.Traffic{
		// p99 falls in (0.25, 0.5]: 0.25 + 0.25*(0.99-0.98)/(1-0.98) = 0.375s.
		{Model: "fraud-detector", Version: "3.1.0", RequestsPerSecond: 10, ErrorRatio: 0.01,
			Bounds: bounds, Below: []float64{0.6, 0.9, 0.98, 1, 1}},
		// p99 falls in (0.5, 1]: 0.5 + 0.5*(0.99-0.98)/(1-0.98) = 0.75s.
		{Model: "fraud-detector", Version: "3.2.0", RequestsPerSecond: 10, ErrorRatio: 0.05,
			Bounds: bounds, Below: []float64{0.4, 0.8, 0.96, 0.98, 1}},
		// No requests: the error rate is 0/0.
		{Model: "fraud-detector", Version: "3.3.0", Bounds: bounds, Below: []float64{1, 1, 1, 1, 1}},
	} {
		om.AddTraffic(tr, from, to, 15*time.Second)
	}
	p, err := NewPrometheus(promtest.Start(t, om.String()), 10*time.Second)
	require.NoError(t, err)

	// Well inside the data, so that every 1m rate has a full window.
	start, end := now.Add(-90*time.Minute), now.Add(-45*time.Minute)
	query := func(template, version string) (Series, error) {
		return p.Samples(context.Background(), Query{Template: template, Model: "fraud-detector", Version: version,
			Start: start, End: end, Step: time.Minute})
	}
	const points = 46

	t.Run("the plan's queries give the known values", func(t *testing.T) {
		for _, tt := range []struct {
			template, version string
			want              float64
		}{
			{latencyP99, "3.1.0", 375},
			{latencyP99, "3.2.0", 750},
			{errorRate, "3.1.0", 0.01},
			{errorRate, "3.2.0", 0.05},
			{`sum(rate(model_requests_total{model="{{.Model}}",version=~"{{.Version}}"}[1m]))`, "3.1.0", 10},
		} {
			got, err := query(tt.template, tt.version)
			require.NoError(t, err)
			require.Len(t, got.Samples, points, "%s for %s", tt.template, tt.version)
			assert.Zero(t, got.Dropped)
			for i, s := range got.Samples {
				assert.InEpsilon(t, tt.want, s.Value, 1e-9, "%s for %s", tt.template, tt.version)
				assert.Equal(t, start.Add(time.Duration(i)*time.Minute).UTC(), s.Time)
			}
		}
	})

	t.Run("a version without data has no samples", func(t *testing.T) {
		got, err := query(latencyP99, "9.9.9")
		require.NoError(t, err)
		assert.Empty(t, got.Samples)
	})

	t.Run("NaN is dropped and counted", func(t *testing.T) {
		got, err := query(errorRate, "3.3.0")
		require.NoError(t, err)
		assert.Empty(t, got.Samples)
		assert.Equal(t, points, got.Dropped)
	})

	t.Run("several series", func(t *testing.T) {
		_, err := query(`rate(model_requests_total{model="{{.Model}}"}[1m])`, "3.1.0")
		require.ErrorIs(t, err, ErrBadQuery)
		assert.ErrorContains(t, err, "query yields 3 series")
	})

	t.Run("counts per slice", func(t *testing.T) {
		got, err := p.Counts(context.Background(), CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`,
			Model: "fraud-detector", Version: "3.1.0", Start: start, Slice: time.Minute, Slices: 5})
		require.NoError(t, err)
		assert.Equal(t, map[string][]float64{"": {600, 600, 600, 600, 600}}, got.Groups, "10 requests/s, exactly")
		got, err = p.Counts(context.Background(), CountQuery{Selector: `model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}`,
			Model: "fraud-detector", Version: "3.1.0", Start: start, Slice: 5 * time.Minute, Slices: 2, Buckets: true})
		require.NoError(t, err)
		les, names, err := got.Bounds()
		require.NoError(t, err)
		assert.Equal(t, []string{"0.05", "0.1", "0.25", "0.5", "1", "+Inf"}, names)
		assert.Len(t, les, 6)
		assert.InDelta(t, 0.6*3000, got.Groups["0.05"][0], 1e-6, "cumulative buckets, as exported")
	})

	t.Run("counts of a version without data", func(t *testing.T) {
		_, err := p.Counts(context.Background(), CountQuery{Selector: `model_requests_total{version="{{.Version}}"}`,
			Model: "fraud-detector", Version: "9.9.9", Start: start, Slice: time.Minute, Slices: 5})
		require.ErrorIs(t, err, ErrNoCounts)
		assert.ErrorContains(t, err, "no series")
	})

	t.Run("the scrape interval", func(t *testing.T) {
		d, err := p.ScrapeInterval(context.Background())
		require.NoError(t, err)
		assert.Equal(t, time.Minute, d, "promtest's configuration")
	})

	t.Run("Prometheus's parse error", func(t *testing.T) {
		_, err := query(`sum(rate(model_requests_total{version="{{.Version}}"}[1m])`, "3.1.0")
		require.ErrorIs(t, err, ErrBadQuery)
		assert.ErrorContains(t, err, "parse error")
	})
}

func TestRealPrometheusGone(t *testing.T) {
	url := promtest.Start(t, "# EOF\n")
	p, err := NewPrometheus(url+"/no-such-prefix", time.Second)
	require.NoError(t, err)
	_, err = p.Samples(context.Background(), window)
	require.ErrorIs(t, err, ErrUnavailable, "a wrong URL is a configuration problem, not a bad query")
	assert.ErrorContains(t, err, "404")
}

// TestRealPrometheusGapInScraping: a counter scraped every 15 s with two
// minutes missing, as when Prometheus itself was down. Its lookback shows
// the value of before the gap at the times inside it; a window opened
// there is not counted from that value, one opened after the gap is.
func TestRealPrometheusGapInScraping(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	from, gap, back, to := now.Add(-60*time.Minute), now.Add(-40*time.Minute), now.Add(-38*time.Minute), now.Add(-30*time.Minute)
	var points []promtest.Point
	for at, n := from, 0.0; !at.After(to); at, n = at.Add(15*time.Second), n+150 { // 10 requests a second
		if at.After(gap) && at.Before(back) {
			continue
		}
		points = append(points, promtest.Point{Time: at, Value: n})
	}
	var om promtest.OpenMetrics
	om.Counter("model_requests", promtest.Labels{"model": "fraud", "version": "1.0.0"}, points)
	p, err := NewPrometheus(promtest.Start(t, om.String()), 10*time.Second)
	require.NoError(t, err)
	q := CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`, Model: "fraud", Version: "1.0.0",
		Start: back.Add(-30 * time.Second), Slice: 15 * time.Second, Slices: 4}
	_, err = p.Counts(context.Background(), q)
	require.ErrorIs(t, err, ErrNoCounts)
	assert.ErrorContains(t, err, "the newest sample is 1m30s old, Prometheus was not scraping")

	q.Start = back.Add(5 * time.Second)
	got, err := p.Counts(context.Background(), q)
	require.NoError(t, err)
	assert.Equal(t, map[string][]float64{"": {150, 150, 150, 150}}, got.Groups)

	// With the bridge over failed scrapes, the newest sample's time is
	// still the sample's: timestamp() of last_over_time would be the
	// evaluation's, and a value of before the gap would pass for fresh.
	q.Lookback = 2 * time.Minute
	q.Start = back.Add(-30 * time.Second)
	_, err = p.Counts(context.Background(), q)
	require.ErrorIs(t, err, ErrNoCounts)
	assert.ErrorContains(t, err, "the newest sample is 1m30s old, Prometheus was not scraping")
}
