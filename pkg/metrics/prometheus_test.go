package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePrometheus answers /api/v1/query_range with a fixture from
// testdata/answers and a status, and counts the requests it gets.
type fakePrometheus struct {
	t       *testing.T
	status  int
	fixture string
	delay   time.Duration
	calls   atomic.Int32
	form    chan map[string]string
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	assert.Equal(f.t, "/api/v1/query_range", r.URL.Path)
	if !assert.NoError(f.t, r.ParseForm()) {
		return
	}
	select {
	case f.form <- map[string]string{"query": r.Form.Get("query"), "start": r.Form.Get("start"),
		"end": r.Form.Get("end"), "step": r.Form.Get("step"), "timeout": r.Form.Get("timeout")}:
	default:
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	body, err := os.ReadFile(filepath.Join("testdata", "answers", f.fixture))
	if !assert.NoError(f.t, err) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = w.Write(body)
}

func startFake(t *testing.T, status int, fixture string) (*fakePrometheus, *Prometheus) {
	t.Helper()
	fake := &fakePrometheus{t: t, status: status, fixture: fixture, form: make(chan map[string]string, 1)}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL, 2*time.Second)
	require.NoError(t, err)
	return fake, p
}

var window = Query{
	Template: latencyP99,
	Model:    "fraud-detector",
	Version:  "3.2.0",
	Start:    time.Unix(1764064800, 0),
	End:      time.Unix(1764065100, 0),
	Step:     time.Minute,
}

func TestPrometheusSamples(t *testing.T) {
	fake, p := startFake(t, http.StatusOK, "one_series.json")
	got, err := p.Samples(context.Background(), window)
	require.NoError(t, err)

	assert.Equal(t, map[string]string{
		"query": `histogram_quantile(0.99, sum by (le) (rate(model_latency_seconds_bucket{model="fraud-detector",version="3.2.0"}[1m]))) * 1000`,
		"start": "1764064800", "end": "1764065100", "step": "60", "timeout": "2s",
	}, <-fake.form)
	assert.Equal(t, []Sample{
		{Time: time.Unix(1764064800, 0).UTC(), Value: 12.5},
		{Time: time.Unix(1764064920, 0).UTC(), Value: 13},
		{Time: time.Unix(1764065100, 0).UTC(), Value: 14.25},
	}, got.Samples)
	assert.Equal(t, 3, got.Dropped, "NaN, +Inf and -Inf are left out and counted")
	assert.Equal(t, []string{
		`warning: PromQL warning: encountered a mix of histograms and floats for metric name "model_latency_seconds_bucket"`,
		`info: PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "model_requests"`,
	}, got.Warnings)
}

func TestPrometheusEmptyIsNotAnError(t *testing.T) {
	_, p := startFake(t, http.StatusOK, "empty.json")
	got, err := p.Samples(context.Background(), window)
	require.NoError(t, err)
	assert.Empty(t, got.Samples)
	assert.Zero(t, got.Dropped)
	assert.Empty(t, got.Warnings)
}

func TestPrometheusFailures(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		fixture string
		kind    error
		want    string
	}{
		{"several series", 200, "several_series.json", ErrBadQuery,
			`query yields 4 series ({model="fraud-detector", version="3.1.0"}, {model="fraud-detector", version="3.2.0"}, ` +
				`{model="fraud-detector", version="3.3.0"}, and 1 more), want one: aggregate it`},
		{"bad data", 400, "bad_data.json", ErrBadQuery, `1:19: parse error: unexpected "}" in label matching, expected string`},
		{"execution error", 422, "execution.json", ErrBadQuery, "would load too many samples"},
		{"unavailable", 503, "unavailable.json", ErrUnavailable, `server error: 503: {"status":"error","errorType":"unavailable","error":"TSDB not ready"}`},
		{"internal error", 500, "unavailable.json", ErrUnavailable, "server error: 500"},
		{"wrong URL", 404, "not_prometheus.html", ErrUnavailable, "client error: 404: <!doctype html>"},
		{"malformed JSON", 200, "malformed.json", ErrUnavailable, "malformed answer"},
		{"not JSON at all", 200, "not_prometheus.html", ErrUnavailable, "malformed answer"},
		{"a vector", 200, "vector.json", ErrBadQuery, "result is a vector, want a range of one series"},
		{"native histograms", 200, "native_histogram.json", ErrBadQuery, "native histograms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := startFake(t, tt.status, tt.fixture)
			got, err := p.Samples(context.Background(), window)
			require.ErrorIs(t, err, tt.kind)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, `(query: histogram_quantile(0.99`)
			assert.Empty(t, got.Samples)
		})
	}
}

func TestPrometheusSlowIsUnavailable(t *testing.T) {
	fake, _ := startFake(t, http.StatusOK, "one_series.json")
	fake.delay = 10 * time.Second
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL, 100*time.Millisecond)
	require.NoError(t, err)

	_, err = p.Samples(context.Background(), window)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorContains(t, err, "no answer within 100ms")
	assert.Equal(t, "100ms", (<-fake.form)["timeout"], "Prometheus is told to give up too")
}

func TestPrometheusConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	p, err := NewPrometheus(srv.URL, time.Second)
	require.NoError(t, err)

	_, err = p.Samples(context.Background(), window)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorContains(t, err, "connection refused")
}

func TestPrometheusCallerCancelIsNotUnavailable(t *testing.T) {
	fake, p := startFake(t, http.StatusOK, "one_series.json")
	fake.delay = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-fake.form; cancel() }()

	_, err := p.Samples(ctx, window)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrUnavailable)
}

func TestPrometheusRefusesBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		edit func(q *Query)
		want string
	}{
		{"the injection attack", func(q *Query) { q.Version = `1"}[1m]) or vector(1) or x{a="` }, "is not a semantic version"},
		{"bad model", func(q *Query) { q.Model = "Fraud Detector" }, "is not a DNS label"},
		{"bad template", func(q *Query) { q.Template = `up{v={{.Version}}}` }, "must be inside a double-quoted string"},
		{"too many points", func(q *Query) { q.End = q.Start.Add(11001 * time.Second); q.Step = time.Second }, "11001 steps, over the limit of 11000"},
		{"zero step", func(q *Query) { q.Step = 0 }, "step 0s: must be positive"},
		{"end before start", func(q *Query) { q.End = q.Start.Add(-time.Second) }, "end before start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, p := startFake(t, http.StatusOK, "one_series.json")
			q := window
			tt.edit(&q)
			_, err := p.Samples(context.Background(), q)
			require.ErrorIs(t, err, ErrBadQuery)
			assert.ErrorContains(t, err, tt.want)
			assert.Zero(t, fake.calls.Load(), "nothing is sent")
		})
	}
}

func TestQueryCheckAtTheLimit(t *testing.T) {
	q := window
	q.Step = time.Second
	q.End = q.Start.Add(11000 * time.Second)
	assert.NoError(t, q.check(MaxPoints), "Prometheus accepts range/step == 11000")
	q.End = q.End.Add(time.Second)
	assert.Error(t, q.check(MaxPoints))
}

func TestNewPrometheusRefusesAddresses(t *testing.T) {
	for _, addr := range []string{"", "prometheus:9090", "ftp://prometheus", "http://", "://x"} {
		_, err := NewPrometheus(addr, 0)
		assert.ErrorContains(t, err, "want an http or https URL", "address %q", addr)
	}
}
