package githubapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// RetryTransport retries GitHub API requests that failed for a passing
// reason: 5xx answers and network errors with exponential backoff, primary
// and secondary rate limits by waiting as GitHub asks (Retry-After,
// x-ratelimit-reset). A wait longer than MaxWait is not sat out: the
// response goes back to the caller, which reschedules the work. A POST
// that creates something is not sent again after a 5xx or a network
// error, which it may have outlived on GitHub's side (a comment or a
// deployment made twice): its caller looks for what landed before it
// tries again.
type RetryTransport struct {
	Next       http.RoundTripper
	MaxRetries int           // retries after a 5xx or network error; default 3
	BaseDelay  time.Duration // first backoff; default 500ms, doubling
	MaxWait    time.Duration // longest rate-limit wait to sit out; default 90s
	Metrics    *APIMetrics
	Now        func() time.Time
	// Sleep waits d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// RoundTrip sends req, retrying as described on RetryTransport.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	serverRetries, limitRetries := 0, 0
	for {
		resp, err := t.next().RoundTrip(req)
		wait, reason := t.decide(req, resp, err, serverRetries, limitRetries)
		if reason == "" || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}
		if reason == "rate_limit" {
			limitRetries++
		} else {
			serverRetries++
		}
		if t.Metrics != nil {
			code := "error"
			if resp != nil {
				code = strconv.Itoa(resp.StatusCode)
			}
			t.Metrics.retries.WithLabelValues(reason, code).Inc()
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("wait to retry %s %s: %w", req.Method, req.URL.Path, err)
		}
		if req, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

// decide says how long to wait and why, or "" for no retry.
func (t *RetryTransport) decide(req *http.Request, resp *http.Response, err error, serverRetries, limitRetries int) (time.Duration, string) {
	maxRetries := t.MaxRetries
	if maxRetries == 0 {
		maxRetries = 3
	}
	switch {
	case (err != nil || resp.StatusCode >= 500) && !repeatable(req):
		return 0, ""
	case err != nil:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || serverRetries >= maxRetries {
			return 0, ""
		}
		return t.backoff(serverRetries), "network"
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		if serverRetries >= maxRetries {
			return 0, ""
		}
		return t.backoff(serverRetries), "server_error"
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		wait, limited := RateLimitWait(resp, t.now())
		if !limited || limitRetries >= 2 || wait > t.maxWait() {
			return 0, ""
		}
		return wait, "rate_limit"
	}
	return 0, ""
}

// repeatable says a request may be sent again though it may have landed:
// every method but POST, and the POSTs GitHub answers a repeat of with
// what the first made (a reaction) or that make nothing (a token).
func repeatable(req *http.Request) bool {
	if req.Method != http.MethodPost {
		return true
	}
	p := req.URL.Path
	return strings.HasSuffix(p, "/reactions") || strings.HasSuffix(p, "/access_tokens")
}

// RateLimitWait reads how long GitHub asks to wait from a 403 or 429:
// Retry-After first, then x-ratelimit-reset when nothing remains, then a
// minute for a secondary limit that names no time. limited is false for a
// 403 that is not about rate limits (a permission refusal).
func RateLimitWait(resp *http.Response, now time.Time) (wait time.Duration, limited bool) {
	h := resp.Header
	if s := h.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now)+time.Second, 0), true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || mentionsRateLimit(resp) {
		return time.Minute, true
	}
	return 0, false
}

// mentionsRateLimit peeks at the body of a 403 for GitHub's secondary-limit
// message, leaving the body readable for the caller.
func mentionsRateLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return bytes.Contains(bytes.ToLower(head), []byte("rate limit"))
}

func (t *RetryTransport) backoff(attempt int) time.Duration {
	base := t.BaseDelay
	if base == 0 {
		base = 500 * time.Millisecond
	}
	d := base << attempt
	return d/2 + rand.N(d/2+1) // jitter, so retries of a burst spread out
}

func (t *RetryTransport) maxWait() time.Duration {
	if t.MaxWait == 0 {
		return 90 * time.Second
	}
	return t.MaxWait
}

func (t *RetryTransport) next() http.RoundTripper {
	if t.Next == nil {
		return http.DefaultTransport
	}
	return t.Next
}

func (t *RetryTransport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *RetryTransport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rewind returns a copy of req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.GetBody == nil {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewind body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// CallCounter counts the GitHub API requests made on behalf of one piece of work.
type CallCounter struct{ n atomic.Int64 }

// Count returns the requests counted so far.
func (c *CallCounter) Count() int { return int(c.n.Load()) }

type counterKey struct{}

// WithCallCounter returns a context whose GitHub requests are counted by the counter.
func WithCallCounter(ctx context.Context) (context.Context, *CallCounter) {
	c := &CallCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// CountingTransport counts each request sent, in the context's CallCounter
// and in the Prometheus metrics. Put it under RetryTransport so that every
// attempt counts.
type CountingTransport struct {
	Next    http.RoundTripper
	Metrics *APIMetrics
}

// RoundTrip counts and sends req.
func (t *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if c, ok := req.Context().Value(counterKey{}).(*CallCounter); ok {
		c.n.Add(1)
	}
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if t.Metrics != nil {
		code := "error"
		if resp != nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		t.Metrics.calls.WithLabelValues(strings.ToUpper(req.Method), code).Inc()
	}
	return resp, err
}

// CallsFrom returns the requests counted so far in ctx's CallCounter, or 0.
func CallsFrom(ctx context.Context) int {
	if c, ok := ctx.Value(counterKey{}).(*CallCounter); ok {
		return c.Count()
	}
	return 0
}
