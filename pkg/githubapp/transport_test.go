package githubapp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted answers each request with the next of its responses.
func scripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen-Body", string(body))
		i := int(n.Add(1)) - 1
		if i >= len(answers) {
			w.WriteHeader(200)
			return
		}
		answers[i](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		if code == 403 {
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
		}
	}
}

func TestRetryTransport(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		answers  []func(http.ResponseWriter)
		want     int
		requests int32
		waits    []time.Duration
		post     string // a POST to this path; a PATCH, which repeats safely, when empty
	}{
		{"500 then ok", []func(http.ResponseWriter){status(500)}, 200, 2, nil, ""},
		{"502 three times then ok", []func(http.ResponseWriter){status(502), status(502), status(502)}, 200, 4, nil, ""},
		{"5xx gives up after 3 retries", []func(http.ResponseWriter){status(500), status(502), status(503), status(504)}, 504, 4, nil, ""},
		{"404 is not retried", []func(http.ResponseWriter){status(404)}, 404, 1, nil, ""},
		{"403 permission is not retried", []func(http.ResponseWriter){status(403)}, 403, 1, nil, ""},
		{"secondary limit waits Retry-After", []func(http.ResponseWriter){status(403, "Retry-After", "30")}, 200, 2, []time.Duration{30 * time.Second}, ""},
		{"primary limit waits for reset", []func(http.ResponseWriter){
			status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", fmt.Sprint(now.Add(20*time.Second).Unix()))}, 200, 2,
			[]time.Duration{21 * time.Second}, ""},
		{"a POST's 502 may have landed: not retried", []func(http.ResponseWriter){status(502)}, 502, 1, nil, "/repos/o/r/issues/1/comments"},
		{"a POST's rate limit did not land: retried", []func(http.ResponseWriter){status(403, "Retry-After", "1")}, 200, 2,
			[]time.Duration{time.Second}, "/repos/o/r/deployments"},
		{"a reaction repeats safely", []func(http.ResponseWriter){status(500)}, 200, 2, nil, "/repos/o/r/issues/comments/9/reactions"},
		{"a token request repeats safely", []func(http.ResponseWriter){status(502)}, 200, 2, nil, "/app/installations/1/access_tokens"},
		{"429 waits a minute", []func(http.ResponseWriter){status(429)}, 200, 2, []time.Duration{time.Minute}, ""},
		{"a reset beyond MaxWait goes back to the caller", []func(http.ResponseWriter){
			status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", fmt.Sprint(now.Add(time.Hour).Unix()))}, 403, 1, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := scripted(t, tt.answers...)
			var waits []time.Duration
			reg := prometheus.NewRegistry()
			m := NewAPIMetrics(reg)
			rt := &RetryTransport{
				Next: &CountingTransport{Metrics: m}, Metrics: m, BaseDelay: time.Millisecond, MaxWait: 2 * time.Minute,
				Now: func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) error {
					if d >= time.Second {
						waits = append(waits, d)
					}
					return nil
				},
			}
			ctx, calls := WithCallCounter(context.Background())
			method, path := http.MethodPatch, "/x"
			if tt.post != "" {
				method, path = http.MethodPost, tt.post
			}
			req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader("hello"))
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Equal(t, tt.requests, n.Load())
			assert.Equal(t, int(tt.requests), calls.Count(), "every attempt is counted")
			assert.Equal(t, "hello", resp.Header.Get("X-Seen-Body"), "the body is sent again on retry")
			assert.Equal(t, tt.waits, waits)
		})
	}
}

func TestRetryTransportStopsWhenContextEnds(t *testing.T) {
	srv, n := scripted(t, status(502), status(502))
	ctx, cancel := context.WithCancel(context.Background())
	rt := &RetryTransport{Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := rt.RoundTrip(req)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(1), n.Load())
}

func TestRateLimitWaitKeepsBodyReadable(t *testing.T) {
	resp := &http.Response{StatusCode: 403, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(`{"message":"You have exceeded a secondary rate limit."}`))}
	wait, limited := RateLimitWait(resp, time.Now())
	assert.True(t, limited)
	assert.Equal(t, time.Minute, wait)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), "secondary rate limit")
}
