// Package exporter serves simulated request streams of model versions as
// Prometheus metrics, for tests and benchmarks that need a real Prometheus
// to scrape what a canary analysis reads.
//
// Each version of each model serves requests at a rate, fails a share of
// them, and answers with a lognormal latency; it may be bursty (a calm and
// a burst state, switching at random, with the rate, the errors and the
// latency multiplied in bursts, independently for each version: a flaky
// dependency of one version's pods), and the versions of a model share a
// slow drift (the day's load, which moves both). The exporter does not
// simulate requests one by one: it advances time in ticks and draws each
// tick's increments from the distributions independent requests give,
// which is the same thing in distribution. Arrivals are Poisson, so the
// requests of a tick are a Poisson count; each request fails on its own
// with the tick's error rate, so the errors are binomial given the
// requests; each request's latency falls in a bucket on its own, so the
// bucket counts are multinomial given the requests (drawn as conditional
// binomials). Rates that change between ticks (bursts, drift) make the
// process a Poisson process with a piecewise-constant rate, which is what
// the ticks draw.
//
// Metrics, labelled model and version:
//
//	model_requests_total{code="200"|"500"}   counter (the 500 series appears at the first error, as client libraries do)
//	model_latency_seconds                    histogram (_bucket{le}, _sum, _count)
//
// and, for a version with a Quality signal, its two counters (for
// example fraud_alerts_total and fraud_alerts_confirmed_total).
package exporter

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is one version's request stream.
type Version struct {
	Model, Version string
	// RequestsPerSecond is the mean arrival rate.
	RequestsPerSecond float64
	// ErrorRate is the share of requests that fail.
	ErrorRate float64
	// LatencyMedian (seconds) and LatencySigma (of the log) make the
	// lognormal latency.
	LatencyMedian, LatencySigma float64
	// Burst, when set, makes the stream bursty.
	Burst *Burst
	// Drift is shared by the versions given the same one.
	Drift *Drift
	// Quality, when set, is a model-quality signal of the requests.
	Quality *Quality
}

// Quality is a model-quality signal exported as two counters: a Share of
// the requests raise an event (an alert, a recommendation shown), counted
// by Name_total, and a Good share of those turn out well (the alert
// confirmed, the recommendation accepted), counted by Name_GoodName_total.
// Each event and its outcome are drawn on their own (binomial counts).
type Quality struct {
	Name, GoodName   string
	Share, GoodShare float64
}

func (q *Quality) metrics() (events, good string) {
	return q.Name + "_total", q.Name + "_" + q.GoodName + "_total"
}

// Burst is a two-state stream: calm, or in a burst in which the rate, the
// error rate and the latency are multiplied. Each tick a calm stream
// enters a burst with probability Tick/MeanCalm and a bursting one leaves
// it with probability Tick/MeanBurst.
type Burst struct {
	MeanCalm, MeanBurst       time.Duration
	Rate, Errors, LatencyTime float64
}

// Drift is a slow sinusoidal change of the rate, the error rate and the
// latency, shared by the streams that hold the same Drift.
type Drift struct {
	Period    time.Duration
	Amplitude float64 // 0.2: ±20 % at the extremes
	Phase     float64 // radians
}

// factor is the drift's multiplier at t (since the start).
func (d *Drift) factor(t time.Duration) float64 {
	if d == nil || d.Period <= 0 {
		return 1
	}
	return 1 + d.Amplitude*math.Sin(2*math.Pi*t.Seconds()/d.Period.Seconds()+d.Phase)
}

// Bounds are the latency buckets' upper bounds, in seconds: 40 buckets
// growing by 15 % from 5 ms to about 1.2 s.
func Bounds() []float64 {
	out := make([]float64, 40)
	for i := range out {
		out[i] = 0.005 * math.Pow(1.15, float64(i))
	}
	return out
}

// Exporter serves the streams' metrics; it is safe for concurrent use.
type Exporter struct {
	// Expected makes each tick add the expected increments (rate × tick
	// requests, their expected errors and bucket counts) instead of a
	// random draw: two versions with the same parameters then count the
	// same, for tests that must not fail by chance. Set it before use.
	Expected bool
	tick     time.Duration
	bounds   []float64
	mu       sync.Mutex
	start    time.Time
	now      time.Time // the simulated time reached
	rng      *rand.Rand
	streams  []*stream
}

// stream is one version's state.
type stream struct {
	Version
	bursting bool
	requests float64 // code 200 and 500 together
	errors   float64
	buckets  []float64 // per bucket, not cumulative; the last is +Inf
	sum      float64
	events   float64 // the quality signal's events, and the good ones
	good     float64
	probs    []float64 // scratch: bucket probabilities
}

// New returns an exporter of the versions, starting now, advancing in
// ticks of tick (100 ms if 0), seeded for reproducible draws.
func New(versions []Version, tick time.Duration, seed uint64, now time.Time) *Exporter {
	if tick <= 0 {
		tick = 100 * time.Millisecond
	}
	x := &Exporter{tick: tick, bounds: Bounds(), start: now, now: now, rng: rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))}
	for _, v := range versions {
		x.streams = append(x.streams, &stream{Version: v, buckets: make([]float64, len(x.bounds)+1),
			probs: make([]float64, len(x.bounds)+1)})
	}
	return x
}

// Advance draws the ticks up to t.
func (x *Exporter) Advance(t time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for !x.now.Add(x.tick).After(t) {
		x.now = x.now.Add(x.tick)
		for _, s := range x.streams {
			x.step(s)
		}
	}
}

// step draws one tick of a stream.
func (x *Exporter) step(s *stream) {
	rate, errRate, latency := s.RequestsPerSecond, s.ErrorRate, s.LatencyMedian
	if b := s.Burst; b != nil {
		switch {
		case !s.bursting && x.rng.Float64() < x.tick.Seconds()/b.MeanCalm.Seconds():
			s.bursting = true
		case s.bursting && x.rng.Float64() < x.tick.Seconds()/b.MeanBurst.Seconds():
			s.bursting = false
		}
		if s.bursting {
			rate, errRate, latency = rate*b.Rate, errRate*b.Errors, latency*b.LatencyTime
		}
	}
	f := s.Drift.factor(x.now.Sub(x.start))
	rate, errRate, latency = rate*f, min(errRate*f, 1), latency*f
	if x.Expected {
		x.expected(s, rate*x.tick.Seconds(), errRate, latency)
		return
	}
	n := poisson(x.rng, rate*x.tick.Seconds())
	if n == 0 {
		return
	}
	s.requests += n
	s.errors += binomial(x.rng, n, errRate)
	// Multinomial bucket counts as conditional binomials.
	x.bucketProbs(s, latency)
	left, mass := n, 1.0
	for i, p := range s.probs {
		if left == 0 {
			break
		}
		k := left
		if i < len(s.probs)-1 && mass > 0 {
			k = binomial(x.rng, left, min(p/mass, 1))
		}
		s.buckets[i] += k
		s.sum += k * x.midpoint(i)
		left -= k
		mass -= p
	}
	if q := s.Quality; q != nil {
		events := binomial(x.rng, n, q.Share)
		s.events += events
		s.good += binomial(x.rng, events, q.GoodShare)
	}
}

// bucketProbs sets the probability of each bucket at a median latency.
func (x *Exporter) bucketProbs(s *stream, latency float64) {
	prev := 0.0
	for i, le := range x.bounds {
		c := normalCDF((math.Log(le) - math.Log(latency)) / s.LatencySigma)
		s.probs[i], prev = c-prev, c
	}
	s.probs[len(x.bounds)] = 1 - prev
}

// expected adds a tick's expected increments.
func (x *Exporter) expected(s *stream, n, errRate, latency float64) {
	s.requests += n
	s.errors += n * errRate
	x.bucketProbs(s, latency)
	for i, p := range s.probs {
		s.buckets[i] += n * p
		s.sum += n * p * x.midpoint(i)
	}
	if q := s.Quality; q != nil {
		s.events += n * q.Share
		s.good += n * q.Share * q.GoodShare
	}
}

// midpoint is a latency inside bucket i, for the histogram's sum.
func (x *Exporter) midpoint(i int) float64 {
	switch {
	case i == 0:
		return x.bounds[0] / 2
	case i == len(x.bounds):
		return x.bounds[i-1]
	}
	return (x.bounds[i-1] + x.bounds[i]) / 2
}

// Update changes a stream's parameters from the next tick on: a traffic
// shift, a regression. It reports whether the stream exists.
func (x *Exporter) Update(model, version string, change func(*Version)) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.streams {
		if s.Model == model && s.Version.Version == version {
			change(&s.Version)
			return true
		}
	}
	return false
}

// ServeHTTP advances to the present and writes the metrics in the
// Prometheus text format.
func (x *Exporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	x.Advance(time.Now())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_ = x.Write(w)
}

// Run advances the streams every tick until ctx is done, so that a scrape
// finds the draws made and only writes them: on a busy machine a scrape
// that times out is a gap in every series.
func (x *Exporter) Run(ctx context.Context) {
	t := time.NewTicker(x.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			x.Advance(now)
		}
	}
}

// Write writes the metrics as they stand.
func (x *Exporter) Write(w io.Writer) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var b strings.Builder
	b.WriteString("# TYPE model_requests_total counter\n")
	for _, s := range x.streams {
		l := labels(s.Version)
		fmt.Fprintf(&b, "model_requests_total{%s,code=\"200\"} %s\n", l, num(s.requests-s.errors))
		if s.errors > 0 {
			fmt.Fprintf(&b, "model_requests_total{%s,code=\"500\"} %s\n", l, num(s.errors))
		}
	}
	b.WriteString("# TYPE model_latency_seconds histogram\n")
	for _, s := range x.streams {
		l := labels(s.Version)
		cum := 0.0
		for i, le := range x.bounds {
			cum += s.buckets[i]
			fmt.Fprintf(&b, "model_latency_seconds_bucket{%s,le=\"%s\"} %s\n", l, strconv.FormatFloat(le, 'g', 6, 64), num(cum))
		}
		cum += s.buckets[len(x.bounds)]
		fmt.Fprintf(&b, "model_latency_seconds_bucket{%s,le=\"+Inf\"} %s\n", l, num(cum))
		fmt.Fprintf(&b, "model_latency_seconds_sum{%s} %s\n", l, strconv.FormatFloat(s.sum, 'g', 12, 64))
		fmt.Fprintf(&b, "model_latency_seconds_count{%s} %s\n", l, num(cum))
	}
	x.writeQuality(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeQuality writes the quality signals' counters, each family once.
func (x *Exporter) writeQuality(b *strings.Builder) {
	var names []string
	for _, s := range x.streams {
		if s.Quality == nil {
			continue
		}
		events, good := s.Quality.metrics()
		if !slices.Contains(names, events) {
			names = append(names, events, good)
		}
	}
	for _, name := range names {
		fmt.Fprintf(b, "# TYPE %s counter\n", name)
		for _, s := range x.streams {
			if s.Quality == nil {
				continue
			}
			switch events, good := s.Quality.metrics(); name {
			case events:
				fmt.Fprintf(b, "%s{%s} %s\n", name, labels(s.Version), num(s.events))
			case good:
				fmt.Fprintf(b, "%s{%s} %s\n", name, labels(s.Version), num(s.good))
			}
		}
	}
}

// Totals returns a version's requests and errors so far, for tests.
func (x *Exporter) Totals(model, version string) (requests, errors float64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.streams {
		if s.Model == model && s.Version.Version == version {
			return s.requests, s.errors
		}
	}
	return 0, 0
}

func labels(v Version) string {
	return fmt.Sprintf("model=%q,version=%q", v.Model, v.Version)
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// poisson draws a Poisson count: by multiplication for small means, by
// splitting a large mean into independent parts otherwise (the sum of
// Poisson counts is Poisson), so that it stays exact.
func poisson(r *rand.Rand, mean float64) float64 {
	if mean <= 0 {
		return 0
	}
	var total float64
	for mean > 30 {
		total += poisson(r, 30)
		mean -= 30
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return total + k
		}
		k++
	}
}

// binomial draws a binomial count exactly: by the waiting times between
// successes (geometric) for the rarer outcome, so that it costs about
// n·min(p, 1−p) draws.
func binomial(r *rand.Rand, n, p float64) float64 {
	switch {
	case p <= 0 || n == 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - binomial(r, n, 1-p)
	}
	logQ := math.Log1p(-p)
	var k, pos float64
	for {
		pos += math.Floor(math.Log(1-r.Float64())/logQ) + 1
		if pos > n {
			return k
		}
		k++
	}
}
