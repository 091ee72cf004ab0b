package analysis

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/exporter"
	"github.com/modelgate/modelgate/internal/promtest"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// failingTarget serves an exporter and fails the scrape after fail is set,
// once.
type failingTarget struct {
	exp     *exporter.Exporter
	fail    atomic.Bool
	scrapes atomic.Int64
}

func (f *failingTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.scrapes.Add(1)
	if f.fail.CompareAndSwap(true, false) {
		http.Error(w, "too slow this once", http.StatusInternalServerError)
		return
	}
	f.exp.ServeHTTP(w, r)
}

// waitScrapes waits until the target has been scraped n more times.
func (f *failingTarget) waitScrapes(t *testing.T, n int64) {
	t.Helper()
	want := f.scrapes.Load() + n
	require.Eventually(t, func() bool { return f.scrapes.Load() >= want }, time.Minute, 10*time.Millisecond)
}

// TestFailedScrapeAtALookEnd has a real Prometheus scrape the test
// exporter and fail one scrape; a look whose window ends on that scrape,
// and one whose window starts on it, are still counted, every request
// once. (A failed scrape leaves a staleness marker in every series; read
// at that instant, the counters had no value, the look was nodata, and
// retrying it read the same instant: the stage paused. On a loaded
// machine the real-data benchmark paused half its A/A stages so.)
func TestFailedScrapeAtALookEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("scrapes a live target for about 20 s")
	}
	const scrape = 500 * time.Millisecond
	exp := exporter.New([]exporter.Version{
		{Model: "m", Version: "1.0.0", RequestsPerSecond: 200, ErrorRate: 0.01, LatencyMedian: 0.05, LatencySigma: 0.3},
		{Model: "m", Version: "2.0.0", RequestsPerSecond: 200, ErrorRate: 0.01, LatencyMedian: 0.05, LatencySigma: 0.3},
	}, 10*time.Millisecond, 1, time.Now())
	exp.Expected = true
	target := &failingTarget{exp: exp}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: target, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	url := promtest.StartScraping(t, ln.Addr().String(), scrape)

	const interval = 5 * time.Second // 10 slices of one scrape
	target.waitScrapes(t, int64(interval/scrape)+2)
	target.fail.Store(true)
	target.waitScrapes(t, int64(interval/scrape)+4)

	ctx := context.Background()
	client, err := api.NewClient(api.Config{Address: url})
	require.NoError(t, err)
	prom := v1.NewAPI(client)
	failed := failedScrape(ctx, t, prom)
	prov, err := metrics.NewPrometheus(url, 10*time.Second)
	require.NoError(t, err)
	plan := []rollout.Metric{
		{Name: "errors", Kind: rollout.KindRatio, Errors: `model_requests_total{model="{{.Model}}",version="{{.Version}}",code="500"}`,
			Total: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`, Direction: "increase_is_bad", Tolerance: 0.05, Critical: true},
		{Name: "latency", Kind: rollout.KindHistogram, Histogram: `model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}`,
			Quantile: 0.99, Direction: "increase_is_bad", Tolerance: 0.05, Critical: true},
	}
	for _, tt := range []struct {
		name  string
		since time.Time
	}{
		// Between the failed scrape and the next one, where the staleness
		// marker is the latest sample.
		{"the window ends on the failed scrape", failed.Add(time.Millisecond).Add(-interval)},
		{"the window starts on the failed scrape", failed.Add(time.Millisecond)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Metrics: plan, Model: "m", Baseline: "1.0.0", Canary: "2.0.0", Since: tt.since,
				Interval: interval, Look: judge.Look{Index: 1, Planned: 1}, Traffic: 50}
			d, err := ReadLook(ctx, prov, r)
			require.NoError(t, err)
			require.Empty(t, d.Unavailable)
			for _, read := range d.Reads {
				assert.Empty(t, read.Problem, read.Name)
				assert.Equal(t, scrape, read.Step, read.Name)
			}
			require.Len(t, d.Inputs, len(plan))
			require.NotNil(t, d.Inputs[0].Ratio, "the errors were read")
			require.NotNil(t, d.Inputs[1].Histogram, "the latency was read")
			// Every request between the counters' last scrapes before the
			// window's ends, and none twice.
			total := sum(d.Inputs[0].Ratio.Baseline.Total)
			want := scraped(ctx, t, prom, r.End()) - scraped(ctx, t, prom, r.Since)
			assert.InDelta(t, want, total, 1e-6, "the window's requests")
			assert.InDelta(t, 200*interval.Seconds(), total, 200*2*scrape.Seconds(), "about 200 a second")
			var inBuckets float64
			for _, row := range d.Inputs[1].Histogram.Baseline {
				inBuckets += sum(row)
			}
			assert.InDelta(t, total, inBuckets, 1e-6, "the histogram counts the same requests")
			judged := analyzer(t).Decide(r, d)
			assert.NotEqual(t, NoData, judged.Outcome, judged.Reason)
		})
	}
}

// failedScrape returns when the target's one failed scrape happened: its
// up sample of 0.
func failedScrape(ctx context.Context, t *testing.T, prom v1.API) time.Time {
	t.Helper()
	value, _, _, err := prom.Query(ctx, `up{job="test"}[5m]`, time.Now())
	require.NoError(t, err)
	matrix, ok := value.(model.Matrix)
	require.True(t, ok, "up is a range: %v", value)
	require.Len(t, matrix, 1)
	var down []time.Time
	for _, v := range matrix[0].Values {
		if v.Value == 0 {
			down = append(down, v.Timestamp.Time())
		}
	}
	require.Len(t, down, 1, "one failed scrape: %v", matrix[0].Values)
	return down[0]
}

// scraped is the baseline's requests counted by its last successful
// scrape at or before at, from the raw samples.
func scraped(ctx context.Context, t *testing.T, prom v1.API, at time.Time) float64 {
	t.Helper()
	value, _, _, err := prom.Query(ctx, `model_requests_total{version="1.0.0"}[5m]`, time.Now())
	require.NoError(t, err)
	matrix, ok := value.(model.Matrix)
	require.True(t, ok, "a range: %v", value)
	var total float64
	for _, s := range matrix {
		var last float64
		for _, v := range s.Values {
			if v.Timestamp.Time().After(at) {
				break
			}
			last = float64(v.Value)
		}
		total += last
	}
	return total
}
