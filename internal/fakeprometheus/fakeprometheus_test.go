package fakeprometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/metrics"
)

// target serves whatever text it holds, or fails with a status.
type target struct {
	mu     sync.Mutex
	text   string
	status int
}

func (t *target) set(text string, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.text, t.status = text, status
}

func (t *target) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != 0 {
		w.WriteHeader(t.status)
		return
	}
	_, _ = w.Write([]byte(t.text))
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// requests is a target's exposition with a version's counters and
// buckets after n scrapes' worth of requests: 100 a scrape, 2 of them
// errors (the 500 series from the second scrape on), 90 under 0.1 s.
func requests(version string, n int) string {
	var b strings.Builder
	l := fmt.Sprintf(`model="fraud",version=%q`, version)
	b.WriteString("# TYPE model_requests_total counter\n")
	fmt.Fprintf(&b, "model_requests_total{%s,code=\"200\"} %d\n", l, 98*n)
	if n > 0 {
		fmt.Fprintf(&b, "model_requests_total{%s,code=\"500\"} %d\n", l, 2*n)
	}
	b.WriteString("# TYPE model_latency_seconds histogram\n")
	fmt.Fprintf(&b, "model_latency_seconds_bucket{%s,le=\"0.1\"} %d\n", l, 90*n)
	fmt.Fprintf(&b, "model_latency_seconds_bucket{%s,le=\"1\"} %d\n", l, 100*n)
	fmt.Fprintf(&b, "model_latency_seconds_bucket{%s,le=\"+Inf\"} %d\n", l, 100*n)
	fmt.Fprintf(&b, "model_latency_seconds_sum{%s} %d\n", l, 5*n)
	fmt.Fprintf(&b, "model_latency_seconds_count{%s} %d\n", l, 100*n)
	return b.String()
}

// scraped is a fake that scraped a target serving requests("1.0.0", k)
// at t0 + k seconds, k = 0..n.
func scraped(t testing.TB, n int) (*Server, *target) {
	t.Helper()
	tgt := &target{}
	s := New(time.Second, Target{Job: "models", Instance: "exporter:8080", Handler: tgt})
	for k := 0; k <= n; k++ {
		tgt.set(requests("1.0.0", k), 0)
		require.Empty(t, s.Scrape(context.Background(), t0.Add(time.Duration(k)*time.Second)))
	}
	return s, tgt
}

func provider(t *testing.T, s *Server) *metrics.Prometheus {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	p, err := metrics.NewPrometheus(srv.URL, time.Second)
	require.NoError(t, err)
	return p
}

// The bot's own provider reads the fake as it reads Prometheus: the
// scrape interval from the configuration, counters and buckets at the
// slice ends.
func TestTheProviderReadsTheFake(t *testing.T) {
	s, _ := scraped(t, 6)
	p := provider(t, s)
	ctx := context.Background()

	interval, err := p.ScrapeInterval(ctx)
	require.NoError(t, err)
	assert.Equal(t, time.Second, interval)

	q := metrics.CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`, Model: "fraud", Version: "1.0.0",
		Start: t0.Add(500 * time.Millisecond), Slice: 2 * time.Second, Slices: 3}
	total, err := p.Counts(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, map[string][]float64{"": {200, 200, 200}}, total.Groups, "the last scrape before each slice end")
	assert.Equal(t, 2, total.Series)

	q.Selector, q.Sparse = `model_requests_total{model="{{.Model}}",version="{{.Version}}",code=~"5.."}`, true
	errs, err := p.Counts(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, []float64{4, 4, 4}, errs.Groups[""], "the 500 series appears at the first error")

	q.Selector, q.Sparse, q.Buckets = `model_latency_seconds{model="{{.Model}}",version="{{.Version}}"}`, false, true
	buckets, err := p.Counts(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, map[string][]float64{"0.1": {180, 180, 180}, "1.0": {200, 200, 200}, "+Inf": {200, 200, 200}}, buckets.Groups,
		"le as Prometheus formats it")

	q.Version = "9.9.9"
	_, err = p.Counts(ctx, q)
	assert.ErrorIs(t, err, metrics.ErrNoSeries, "a version it does not hold: no series, as from Prometheus")
}

// A failed scrape at a window's end: the provider's lookback reads the
// counters' last value before it, as from Prometheus.
func TestTheProviderBridgesAFailedScrape(t *testing.T) {
	s, tgt := scraped(t, 2)
	tgt.set("", http.StatusInternalServerError)
	require.Len(t, s.Scrape(context.Background(), t0.Add(3*time.Second)), 1)
	tgt.set(requests("1.0.0", 4), 0)
	require.Empty(t, s.Scrape(context.Background(), t0.Add(4*time.Second)))
	p := provider(t, s)
	q := metrics.CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`, Model: "fraud", Version: "1.0.0",
		Start: t0.Add(500 * time.Millisecond), Slice: time.Second, Slices: 3}
	_, err := p.Counts(context.Background(), q)
	require.ErrorIs(t, err, metrics.ErrNoCounts, "without a lookback the window's end is the staleness marker")
	q.Lookback = 3 * time.Second
	total, err := p.Counts(context.Background(), q)
	require.NoError(t, err)
	assert.Equal(t, []float64{100, 100, 0}, total.Groups[""])
	q.Start = q.Start.Add(3 * time.Second)
	q.Slices = 1
	next, err := p.Counts(context.Background(), q)
	require.NoError(t, err)
	assert.Equal(t, []float64{200}, next.Groups[""], "the next window counts the failed scrape's requests")
}

// When Prometheus itself stops scraping (it is down), no staleness marker
// is written: for five minutes the lookback shows the last values from
// before the gap. The provider reads the newest sample's time beside the
// counters, and a window that opens before the first scrape after the gap
// is not counted from a value of before it.
func TestTheProviderSeesAGapInScraping(t *testing.T) {
	s, tgt := scraped(t, 2)
	for k := 60; k <= 64; k++ { // down from t0+2s to t0+60s; the target kept counting
		tgt.set(requests("1.0.0", k), 0)
		require.Empty(t, s.Scrape(context.Background(), t0.Add(time.Duration(k)*time.Second)))
	}
	p := provider(t, s)
	q := metrics.CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`, Model: "fraud", Version: "1.0.0",
		Start: t0.Add(59500 * time.Millisecond), Slice: time.Second, Slices: 4}
	_, err := p.Counts(context.Background(), q)
	require.ErrorIs(t, err, metrics.ErrNoCounts)
	assert.ErrorContains(t, err, "the newest sample is 57.5s old, Prometheus was not scraping")

	code, body := get(t, s, rangeQueryURL(`max(timestamp(model_requests_total{code="200"}))`, t0.Add(59500*time.Millisecond), t0.Add(60500*time.Millisecond), "1"))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, []any{map[string]any{"metric": map[string]any{}, "values": []any{[]any{1796119259.5, "1796119202"}, []any{1796119260.5, "1796119260"}}}},
		body["data"].(map[string]any)["result"], "the newest sample's time, in seconds")

	q.Start = t0.Add(60500 * time.Millisecond)
	q.Slices = 3
	total, err := p.Counts(context.Background(), q)
	require.NoError(t, err)
	assert.Equal(t, map[string][]float64{"": {100, 100, 100}}, total.Groups, "from the first scrape after the gap")
}

func rangeQueryURL(query string, start, end time.Time, step string) string {
	v := url.Values{"query": {query}, "start": {fmt.Sprint(float64(start.UnixMilli()) / 1000)},
		"end": {end.Format(time.RFC3339Nano)}, "step": {step}}
	return QueryRangePath + "?" + v.Encode()
}

func get(t *testing.T, s *Server, target string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

// The answer has the shape Prometheus's API documents: a matrix, each
// series with its labels (the target's job and instance added) and its
// [seconds, "value"] pairs, timestamps to the millisecond.
func TestRangeQueryAnswer(t *testing.T) {
	s, _ := scraped(t, 2)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, rangeQueryURL(`model_requests_total{code="500"}`, t0, t0.Add(2500*time.Millisecond), "1.25"), nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"__name__":"model_requests_total","code":"500","model":"fraud","version":"1.0.0","job":"models","instance":"exporter:8080"},
		 "values":[[1796119201.250,"2"],[1796119202.500,"4"]]}]}}`, rec.Body.String(),
		"no value at t0: the 500 series did not exist yet")
	assert.Contains(t, rec.Body.String(), "1796119201.250", "three decimals, as Prometheus writes them")
}

// A series gone from a scrape, and every series of a failed scrape, is
// stale from then on; a sample older than the lookback is not seen.
func TestStalenessAndLookback(t *testing.T) {
	s, tgt := scraped(t, 2)
	tgt.set("", http.StatusInternalServerError)
	errs := s.Scrape(context.Background(), t0.Add(3*time.Second))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "scrape models/exporter:8080: server returned HTTP status 500")
	tgt.set(requests("1.0.0", 4), 0)
	require.Empty(t, s.Scrape(context.Background(), t0.Add(4*time.Second)))

	values := func(query string, start, end time.Time, step string) [][]any {
		code, body := get(t, s, rangeQueryURL(query, start, end, step))
		require.Equal(t, http.StatusOK, code, body)
		var out [][]any
		for _, r := range body["data"].(map[string]any)["result"].([]any) {
			for _, v := range r.(map[string]any)["values"].([]any) {
				out = append(out, v.([]any))
			}
		}
		return out
	}
	assert.Equal(t, [][]any{{1796119200.0, "1"}, {1796119201.0, "1"}, {1796119202.0, "1"}, {1796119203.0, "0"}, {1796119204.0, "1"}},
		values(`up{job="models"}`, t0, t0.Add(4*time.Second), "1s"))
	assert.Equal(t, [][]any{{1796119202.0, "4"}, {1796119202.5, "4"}, {1796119204.0, "8"}},
		values(`model_requests_total{code="500"}`, t0.Add(2*time.Second), t0.Add(4*time.Second), "500ms"),
		"nothing after the failed scrape's staleness marker until the next sample")
	assert.Equal(t, [][]any{{1796119503.0, "8"}}, values(`model_requests_total{code="500"}`, t0.Add(303*time.Second), t0.Add(305*time.Second), "1s"),
		"the last sample is seen for five minutes, not longer")
	assert.Equal(t, [][]any{{1796119202.0, "4"}, {1796119202.5, "4"}, {1796119203.0, "4"}, {1796119203.5, "4"}, {1796119204.0, "8"}},
		values(`last_over_time(model_requests_total{code="500"}[2s])`, t0.Add(2*time.Second), t0.Add(4*time.Second), "500ms"),
		"last_over_time skips the failed scrape's staleness marker")
	assert.Equal(t, [][]any{{1796119202.0, "4"}, {1796119202.5, "4"}, {1796119204.0, "8"}},
		values(`last_over_time(model_requests_total{code="500"}[1s])`, t0.Add(2*time.Second), t0.Add(4*time.Second), "500ms"),
		"nothing older than the range: its start is open")
}

// Labels of the target's names in the exposition are kept as exported_*.
func TestTargetLabelsWin(t *testing.T) {
	tgt := &target{text: "# TYPE x gauge\nx{job=\"mine\",a=\"b\"} 3\n"}
	s := New(time.Second, Target{Job: "models", Instance: "i:1", Handler: tgt})
	require.Empty(t, s.Scrape(context.Background(), t0))
	code, body := get(t, s, rangeQueryURL(`x{exported_job="mine"}`, t0, t0, "1"))
	require.Equal(t, http.StatusOK, code)
	metric := body["data"].(map[string]any)["result"].([]any)[0].(map[string]any)["metric"]
	assert.Equal(t, map[string]any{"__name__": "x", "a": "b", "exported_job": "mine", "job": "models", "instance": "i:1"}, metric)
}

// What the fake cannot answer is a 400 bad_data error saying why, as
// Prometheus's own refusals are.
func TestRefusals(t *testing.T) {
	s, _ := scraped(t, 1)
	end := t0.Add(time.Minute)
	for _, c := range []struct {
		name, target string
		status       int
		kind, msg    string
	}{
		{"a function", rangeQueryURL(`rate(model_requests_total[1m])`, t0, end, "1"), 400, "bad_data",
			`invalid parameter "query": rate(model_requests_total[1m]) is not a plain series selector: the fake Prometheus evaluates no PromQL`},
		{"an aggregation", rangeQueryURL(`sum by (le) (model_latency_seconds_bucket)`, t0, end, "1"), 400, "bad_data", "is not a plain series selector"},
		{"another aggregation of timestamp", rangeQueryURL(`max by (le) (timestamp(model_latency_seconds_bucket))`, t0, end, "1"), 400, "bad_data", "is not a plain series selector"},
		{"a range", rangeQueryURL(`model_requests_total[1m]`, t0, end, "1"), 400, "bad_data", "is not a plain series selector"},
		{"another function of a range", rangeQueryURL(`max_over_time(model_requests_total[1m])`, t0, end, "1"), 400, "bad_data", "is not a plain series selector"},
		{"last_over_time of a subquery", rangeQueryURL(`last_over_time(model_requests_total[1m:10s])`, t0, end, "1"), 400, "bad_data", "is not a plain series selector"},
		{"last_over_time with an offset", rangeQueryURL(`last_over_time(model_requests_total[1m] offset 1m)`, t0, end, "1"), 400, "bad_data", "has an offset or @ modifier"},
		{"an offset", rangeQueryURL(`model_requests_total offset 1m`, t0, end, "1"), 400, "bad_data", "has an offset or @ modifier"},
		{"no PromQL", rangeQueryURL(`model_requests_total{`, t0, end, "1"), 400, "bad_data", `invalid parameter "query": 1:22: parse error`},
		{"a bad start", QueryRangePath + "?query=up&start=soon&end=1&step=1", 400, "bad_data", `invalid parameter "start": cannot parse "soon" to a valid timestamp`},
		{"end before start", rangeQueryURL(`up`, end, t0, "1"), 400, "bad_data", `invalid parameter "end": end timestamp must not be before start time`},
		{"no step", rangeQueryURL(`up`, t0, end, "0"), 400, "bad_data", "zero or negative query resolution step widths are not accepted"},
		{"a bad step", rangeQueryURL(`up`, t0, end, "fast"), 400, "bad_data", `invalid parameter "step": cannot parse "fast" to a valid duration`},
		{"too many points", rangeQueryURL(`up`, t0, end, "0.001"), 400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries"},
		{"an instant query", "/api/v1/query?query=up", 404, "not_found", "only /api/v1/query_range and /api/v1/status/config are served here"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, s, c.target)
			assert.Equal(t, c.status, code)
			assert.Equal(t, "error", body["status"])
			assert.Equal(t, c.kind, body["errorType"])
			assert.Contains(t, body["error"], c.msg)
		})
	}
}

// The provider sees the refusal as a bad query, with the fake's words.
func TestTheProviderSeesARefusal(t *testing.T) {
	s, _ := scraped(t, 1)
	p := provider(t, s)
	_, err := p.Samples(context.Background(), metrics.Query{Template: `rate(model_requests_total{model="{{.Model}}"}[1m])`,
		Model: "fraud", Version: "1.0.0", Start: t0, End: t0.Add(time.Minute), Step: time.Second})
	var merr *metrics.Error
	require.ErrorAs(t, err, &merr)
	assert.Equal(t, metrics.ErrBadQuery, merr.Kind)
	assert.Contains(t, err.Error(), "the fake Prometheus evaluates no PromQL")
}

func TestParseSelection(t *testing.T) {
	sel, err := parseSelection(` m{a="x", b!="y\"z", c=~"5..", d!~"a|b"} `)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{`__name__="m"`, `a="x"`, `b!="y\"z"`, `c=~"5.."`, `d!~"a|b"`}, matcherStrings(sel.matchers))
	assert.Zero(t, sel.last, "an instant selector")
	sel, err = parseSelection(`last_over_time(m{a="x"}[1500ms])`)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{`__name__="m"`, `a="x"`}, matcherStrings(sel.matchers))
	assert.Equal(t, 1500*time.Millisecond, sel.last)
	for _, bad := range []string{`sum(m)`, `m{a="x"`, `{a=~".*"}`, `m @ 100`, `m[5m]`, `1`, `"m"`, `m + m`, ``,
		`last_over_time(m[5m:1m])`, `last_over_time(m[5m] @ 100)`, `first_over_time(m[5m])`, `last_over_time(rate(m[1m])[5m:])`} {
		_, err := parseSelection(bad)
		assert.Error(t, err, bad)
	}
}

func matcherStrings(ms []*labels.Matcher) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

// FuzzParseSelection: any query is read or refused, never a panic, and a
// selector read comes back with the same matchers when written out again.
func FuzzParseSelection(f *testing.F) {
	for _, s := range []string{`m{a="x"}`, `m`, `m{a="x",b="y\"z"}`, `sum(m)`, `m{a=~"x"}`, `{__name__="m",le!~"1|2"}`,
		`m offset 5m`, `m{a="x"}[1m]`, `{"utf8.name"}`, `m{a=~"("}`, `last_over_time(m{a="x"}[3s])`, `last_over_time(m[1m:])`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		sel, err := parseSelection(q)
		if err != nil {
			return
		}
		written := (&parser.VectorSelector{LabelMatchers: sel.matchers}).String()
		again, err := parseSelection(written)
		require.NoError(t, err, "%q written as %q", q, written)
		assert.ElementsMatch(t, matcherStrings(sel.matchers), matcherStrings(again.matchers), written)
	})
}

// FuzzQueryRange: any request parameters get a success or a 400
// bad_data answer in Prometheus's envelope, never a panic or another
// status.
func FuzzQueryRange(f *testing.F) {
	s, _ := scraped(f, 2)
	f.Add(`model_requests_total`, "1796119200", "1796119202", "1")
	f.Add(`up{job="models"}`, "2026-12-01T10:00:00Z", "2026-12-01T10:00:02.5Z", "250ms")
	f.Add(`rate(up[1m])`, "0", "1e15", "1e12")
	f.Add(`up`, "-1e15", "1e15", "NaN")
	f.Add(`up`, "1796119200", "1796119200", "1e-9")
	f.Fuzz(func(t *testing.T, query, start, end, step string) {
		v := url.Values{"query": {query}, "start": {start}, "end": {end}, "step": {step}}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, QueryRangePath, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		s.ServeHTTP(rec, req)
		var body struct {
			Status, ErrorType string
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
		switch rec.Code {
		case http.StatusOK:
			assert.Equal(t, "success", body.Status)
		case http.StatusBadRequest:
			assert.Equal(t, "error", body.Status)
			assert.Equal(t, "bad_data", body.ErrorType)
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}
