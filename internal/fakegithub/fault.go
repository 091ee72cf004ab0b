package fakegithub

import (
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// Fault is a failure the fake answers instead of the real response.
type Fault int

// The faults a test can inject.
const (
	ServerError          Fault = iota + 1 // 500 Internal Server Error
	BadGateway                            // 502 Bad Gateway
	NotFound                              // 404 Not Found
	RateLimited                           // 403, primary rate limit: x-ratelimit-remaining 0, x-ratelimit-reset in 2 s
	SecondaryRateLimited                  // 403, secondary rate limit: retry-after 1 (s)
)

// rateLimit is the primary rate limit of an installation.
const rateLimit = 5000

// setRateHeaders sets the rate-limit headers GitHub sends on every answer:
// the nth request of the server leaves rateLimit-n, but never 0, which only
// the RateLimited fault answers.
func setRateHeaders(h http.Header, n int, reset time.Time) {
	h.Set("X-RateLimit-Limit", fmt.Sprint(rateLimit))
	h.Set("X-RateLimit-Remaining", fmt.Sprint(max(rateLimit-n, 1)))
	h.Set("X-RateLimit-Used", fmt.Sprint(min(n, rateLimit-1)))
	h.Set("X-RateLimit-Reset", fmt.Sprint(reset.Unix()))
	h.Set("X-RateLimit-Resource", "core")
}

// faultRule answers the next n matching requests with a fault.
type faultRule struct {
	method  string
	pattern string
	n       int
	fault   Fault
}

// FailNext makes the next n requests whose method and path match answer with
// fault. method "" matches any method; pattern is a path.Match pattern on the
// path under BasePath, e.g. "/repos/o/r/issues/*/comments". Requests are
// still validated and recorded. Rules are tried in the order they were added.
func (s *Server) FailNext(method, pattern string, n int, fault Fault) {
	if _, err := path.Match(pattern, "/"); err != nil {
		s.t.Fatalf("fakegithub: FailNext pattern %q: %v", pattern, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{method: strings.ToUpper(method), pattern: pattern, n: n, fault: fault})
}

// takeFault returns the fault to answer for a request, if any, and counts it.
func (s *Server) takeFault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.faults {
		if r.n <= 0 || (r.method != "" && r.method != method) {
			continue
		}
		if ok, _ := path.Match(r.pattern, p); ok {
			r.n--
			f := r.fault
			return &f
		}
	}
	return nil
}

// write answers the fault as GitHub would, with waits short enough for
// tests (GitHub's are minutes). Reset times are on the real clock, which the
// clients compare them with.
func (f Fault) write(w http.ResponseWriter) {
	switch f {
	case ServerError:
		writeError(w, http.StatusInternalServerError, "Server Error")
	case BadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	case NotFound:
		writeError(w, http.StatusNotFound, "Not Found")
	case RateLimited:
		h := w.Header()
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", fmt.Sprint(rateLimit))
		h.Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(2*time.Second).Unix()))
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "API rate limit exceeded for installation ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
		})
	case SecondaryRateLimited:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
	default:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("fakegithub: unknown fault %d", f))
	}
}
