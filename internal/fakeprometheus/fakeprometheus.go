// Package fakeprometheus is a small Prometheus for bot testdrive: it
// scrapes in-process targets (any http.Handler that writes the text
// exposition format, such as internal/exporter's request streams) at a
// fixed interval, keeps their samples in memory, and answers the requests
// the bot's Prometheus provider (pkg/metrics) sends, as Prometheus's HTTP
// API answers them:
//
//   - /api/v1/query_range of a plain series selector (name{label="value"},
//     any of =, !=, =~ and !~), each step seeing a series' latest sample
//     of the last five minutes, as Prometheus's lookback does, or of
//     last_over_time(selector[range]), each step seeing a series' latest
//     sample in the range that is not a staleness marker, and of
//     max(timestamp(selector)), the time of the newest of those samples,
//     by which the provider tells a fresh value from one the lookback
//     carried over a gap in scraping;
//   - /api/v1/status/config, whose scrape interval the provider reads.
//
// Any other query (another function, an aggregation, a range) is a 400
// bad_data error that says so: the fake does not evaluate PromQL.
//
// Scrapes behave as Prometheus's: each sample gets the scrape's time and
// the target's job and instance labels, a target that fails its scrape
// gets up=0, and a series that is gone from a scrape (or from a failed
// one) gets a staleness marker, after which queries no longer see it.
package fakeprometheus

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// Lookback is how far back a query looks for a series' latest sample, as
// Prometheus's default -query.lookback-delta.
const Lookback = 5 * time.Minute

// Target is a scrape target: its metrics handler and the labels
// Prometheus gives its series.
type Target struct {
	Job, Instance string
	Handler       http.Handler
}

// Server scrapes its targets and answers queries; it is safe for
// concurrent use.
type Server struct {
	interval time.Duration
	targets  []Target
	mu       sync.Mutex
	series   map[string]*series
	scraped  []map[string]bool // per target, the series of its last scrape
}

// series is one series' samples, in time order.
type series struct {
	labels labels.Labels
	ts     []int64 // milliseconds
	vs     []float64
}

// New returns a server that scrapes the targets every interval once Run
// or Scrape is called; it holds no samples yet.
func New(interval time.Duration, targets ...Target) *Server {
	return &Server{interval: interval, targets: targets, series: map[string]*series{},
		scraped: make([]map[string]bool, len(targets))}
}

// Interval is the scrape interval.
func (s *Server) Interval() time.Duration { return s.interval }

// Run scrapes every interval until ctx is done, the first scrape at once.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	s.Scrape(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.Scrape(ctx, now)
		}
	}
}

// Scrape scrapes every target once, as of now, and returns the errors of
// the targets that failed (each is also up=0 and its series stale).
func (s *Server) Scrape(ctx context.Context, now time.Time) []error {
	var errs []error
	for i, t := range s.targets {
		if err := s.scrapeOne(ctx, i, t, now); err != nil {
			errs = append(errs, fmt.Errorf("scrape %s/%s: %w", t.Job, t.Instance, err))
		}
	}
	return errs
}

// sample is one parsed sample of a scrape.
type sample struct {
	labels labels.Labels
	t      int64
	v      float64
}

func (s *Server) scrapeOne(ctx context.Context, i int, t Target, now time.Time) error {
	ms := now.UnixMilli()
	samples, err := scrapeTarget(ctx, t, ms)
	up := 1.0
	if err != nil {
		samples, up = nil, 0
	}
	samples = append(samples, sample{labels.FromStrings(labels.MetricName, "up", "job", t.Job, "instance", t.Instance), ms, up})
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]bool, len(samples))
	for _, x := range samples {
		key := x.labels.String()
		seen[key] = true
		s.appendSample(key, x)
	}
	for key := range s.scraped[i] {
		if !seen[key] {
			s.appendSample(key, sample{s.series[key].labels, ms, math.Float64frombits(value.StaleNaN)})
		}
	}
	s.scraped[i] = seen
	return err
}

// appendSample adds a sample to its series; like Prometheus, it drops a
// sample not newer than the series' last.
func (s *Server) appendSample(key string, x sample) {
	sr, ok := s.series[key]
	if !ok {
		sr = &series{labels: x.labels}
		s.series[key] = sr
	}
	if n := len(sr.ts); n > 0 && x.t <= sr.ts[n-1] {
		return
	}
	sr.ts, sr.vs = append(sr.ts, x.t), append(sr.vs, x.v)
}

// scrapeTarget reads a target's metrics at ms and labels them with the
// target's job and instance; labels of those names in the exposition are
// kept as exported_job and exported_instance, as Prometheus does.
func scrapeTarget(ctx context.Context, t Target, ms int64) ([]sample, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("server returned HTTP status %d", rec.Code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, f := range families {
		for _, m := range f.Metric {
			at := ms
			if m.TimestampMs != nil {
				at = m.GetTimestampMs()
			}
			for _, x := range flatten(f, m) {
				x.labels, x.t = targetLabels(x.labels, t), at
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// flatten turns one metric of a family into its series, as Prometheus
// stores a scrape of the text format: a histogram's _bucket series (le
// formatted as Prometheus formats it), _sum and _count, a summary's
// quantiles, _sum and _count.
func flatten(f *dto.MetricFamily, m *dto.Metric) []sample {
	name := f.GetName()
	with := func(suffix string, v float64, extra ...string) sample {
		b := labels.NewBuilder(labels.EmptyLabels())
		for _, lp := range m.Label {
			b.Set(lp.GetName(), lp.GetValue())
		}
		b.Set(labels.MetricName, name+suffix)
		for i := 0; i+1 < len(extra); i += 2 {
			b.Set(extra[i], extra[i+1])
		}
		return sample{labels: b.Labels(), v: v}
	}
	switch {
	case m.Counter != nil:
		return []sample{with("", m.Counter.GetValue())}
	case m.Gauge != nil:
		return []sample{with("", m.Gauge.GetValue())}
	case m.Untyped != nil:
		return []sample{with("", m.Untyped.GetValue())}
	case m.Histogram != nil:
		h := m.Histogram
		var out []sample
		for _, b := range h.Bucket {
			n := b.GetCumulativeCountFloat()
			if b.CumulativeCount != nil {
				n = float64(b.GetCumulativeCount())
			}
			out = append(out, with("_bucket", n, "le", labels.FormatOpenMetricsFloat(b.GetUpperBound())))
		}
		if h.SampleSum != nil {
			out = append(out, with("_sum", h.GetSampleSum()))
		}
		switch {
		case h.SampleCount != nil:
			out = append(out, with("_count", float64(h.GetSampleCount())))
		case h.SampleCountFloat != nil:
			out = append(out, with("_count", h.GetSampleCountFloat()))
		}
		return out
	case m.Summary != nil:
		var out []sample
		for _, q := range m.Summary.Quantile {
			out = append(out, with("", q.GetValue(), "quantile", labels.FormatOpenMetricsFloat(q.GetQuantile())))
		}
		return append(out, with("_sum", m.Summary.GetSampleSum()), with("_count", float64(m.Summary.GetSampleCount())))
	}
	return nil
}

func targetLabels(l labels.Labels, t Target) labels.Labels {
	b := labels.NewBuilder(l)
	for name, v := range map[string]string{"job": t.Job, "instance": t.Instance} {
		if old := l.Get(name); old != "" {
			b.Set("exported_"+name, old)
		}
		b.Set(name, v)
	}
	return b.Labels()
}

// point is one value of a query's result.
type point struct {
	t int64
	v float64
	// sampled is when the value was scraped (milliseconds).
	sampled int64
}

// selectRange evaluates a selection at start, start+step, … end
// (milliseconds): each series that matches, with its values where it has
// one (series.at).
func (s *Server) selectRange(sel selection, start, end, step int64) ([]labels.Labels, [][]point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*series
	for _, sr := range s.series {
		if matches(sr.labels, sel.matchers) {
			found = append(found, sr)
		}
	}
	slices.SortFunc(found, func(a, b *series) int { return labels.Compare(a.labels, b.labels) })
	var names []labels.Labels
	var values [][]point
	for _, sr := range found {
		var ps []point
		for k := int64(0); k <= (end-start)/step; k++ {
			t := start + k*step
			if sampled, v, ok := sr.at(t, sel.last); ok {
				ps = append(ps, point{t: t, v: v, sampled: sampled})
			}
		}
		if len(ps) > 0 {
			names, values = append(names, sr.labels), append(values, ps)
		}
	}
	return names, values
}

// at is the series' value seen at t, and when it was scraped. Read as an instant selector (last
// 0): its latest sample at or before t and after t minus the lookback,
// unless that sample marks it stale. Read as last_over_time over last:
// its latest sample at or before t and after t minus last that is not a
// staleness marker, since a range selector skips them.
func (sr *series) at(t int64, last time.Duration) (sampled int64, v float64, ok bool) {
	i, found := slices.BinarySearch(sr.ts, t)
	if !found {
		i--
	}
	if last == 0 {
		if i < 0 || sr.ts[i] <= t-Lookback.Milliseconds() || value.IsStaleNaN(sr.vs[i]) {
			return 0, 0, false
		}
		return sr.ts[i], sr.vs[i], true
	}
	for ; i >= 0 && sr.ts[i] > t-last.Milliseconds(); i-- {
		if !value.IsStaleNaN(sr.vs[i]) {
			return sr.ts[i], sr.vs[i], true
		}
	}
	return 0, 0, false
}

func matches(l labels.Labels, matchers []*labels.Matcher) bool {
	for _, m := range matchers {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}
