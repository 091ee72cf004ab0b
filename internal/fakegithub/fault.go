package fakegithub

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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
	Unavailable                           // 503 Service Unavailable, as every answer while GitHub is down
	// LostAnswer carries the request out, then answers 502 instead of its
	// result, as when GitHub's front end times out on a write that lands.
	LostAnswer
)

// String names a fault as a table of injected faults shows it.
func (f Fault) String() string {
	switch f {
	case ServerError:
		return "500"
	case BadGateway:
		return "502"
	case NotFound:
		return "404"
	case RateLimited:
		return "primary rate limit"
	case SecondaryRateLimited:
		return "secondary rate limit"
	case Unavailable:
		return "503 (down)"
	case LostAnswer:
		return "502 after the write landed"
	}
	return fmt.Sprintf("fault %d", int(f))
}

// Chaos answers a share of all requests with faults drawn at random, for
// soak tests: Rate is the share (0 to 1), each fault drawn from Faults
// with equal chance, from a generator seeded with Seed so that a run can
// be repeated. A LostAnswer drawn for a read is a plain 502.
type Chaos struct {
	Rate   float64
	Faults []Fault
	Seed   uint64
}

// SetChaos starts (or, with a zero Rate, ends) random faults. Requests
// FailNext matches are answered by its rules first.
func (s *Server) SetChaos(c Chaos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = c
	s.chaosRand = rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
}

// SetDown makes GitHub down, answering every request 503 (after checking
// it against the description), or up again.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Injected counts the faults answered so far, by kind: FailNext's, the
// chaos's and the 503s while down.
func (s *Server) Injected() map[Fault]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Fault]int, len(s.injected))
	for f, n := range s.injected {
		out[f] = n
	}
	return out
}

// isDown says GitHub is down, and counts the 503 it answers.
func (s *Server) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.count(Unavailable)
	}
	return s.down
}

// count records an injected fault; s.mu is held.
func (s *Server) count(f Fault) {
	if s.injected == nil {
		s.injected = map[Fault]int{}
	}
	s.injected[f]++
}

// drawChaos returns the random fault for a request, if one is drawn.
func (s *Server) drawChaos(method string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chaos
	if c.Rate <= 0 || len(c.Faults) == 0 || s.chaosRand.Float64() >= c.Rate {
		return nil
	}
	f := c.Faults[s.chaosRand.IntN(len(c.Faults))]
	if f == LostAnswer && method == http.MethodGet {
		f = BadGateway
	}
	s.count(f)
	return &f
}

// loseAnswer carries the call out as GitHub would and throws its answer
// away, answering 502 instead.
func (s *Server) loseAnswer(w http.ResponseWriter, rec *Request, c *call) {
	s.handle(httptest.NewRecorder(), rec, c)
	BadGateway.write(w)
}

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
			s.count(f)
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
	case Unavailable:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>\n")
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
