package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ErrNoCounts means the counters were read but cannot be turned into
// counts of requests: a reset, a missing slice, a series that appears
// only after the window opened, a value that is not a number. Retrying
// will not help; the metric has no data for this window.
var ErrNoCounts = errors.New("counters cannot be counted")

// ErrNoSeries is wrapped by the ErrNoCounts of a selector that matches no
// series at all in the window.
var ErrNoSeries = errors.New("no series")

// CountQuery asks for the increments of counter series over disjoint,
// back-to-back slices of a window.
type CountQuery struct {
	// Selector is a template of a plain series selector (CheckSelector).
	Selector       string
	Model, Version string
	// Start is the window's start, the first slice's start.
	Start time.Time
	// Slice is each slice's length, and Slices how many there are.
	Slice  time.Duration
	Slices int
	// Buckets reads the histogram Selector names: its _bucket series,
	// summed by le.
	Buckets bool
	// Sparse says the selector's series may appear at any time, such as
	// errors by status code, whose counters client libraries create at
	// their first increment: no series yet at a slice end is no count, not
	// a gap. The total a ratio's errors are counted among must not be
	// sparse, so that a gap is still seen there.
	Sparse bool
	// Lookback is how old a counter's value at a slice end may be: each
	// end reads every series' latest sample within Lookback before it, so
	// that a scrape that failed at that instant (which leaves a staleness
	// marker in every series of the target) does not hide the counter. The
	// engine bridges a few scrape intervals; 0 reads the instant's value,
	// which a failed scrape hides.
	Lookback time.Duration
}

// Increments are the counts a CountQuery found: per group (the le bound
// of a bucket as Prometheus writes it, or "" for a plain counter), the
// increase over each slice, summed over the series of the group.
type Increments struct {
	Groups map[string][]float64
	// Series is how many series were read.
	Series int
	// Gaps counts the slice ends where no series had a value (a failed
	// scrape): each such slice's requests are counted in the next slice.
	Gaps int
}

// Counts reads the counters q selects at the end of every slice (the
// window's start included) and returns their increments, summed over the
// series. The values at the slice ends are the counters themselves, each
// series' latest sample at or before the end (within q.Lookback, so that
// a failed scrape there moves the slice's requests to the next slice
// instead of leaving the end without a value), so the slices are disjoint
// and together cover every request between the first and the last read:
// unlike increase() over disjoint ranges, nothing between two ranges is
// lost and nothing is extrapolated. A series that appears during the window is
// counted from 0 (client libraries create a labelled counter at its first
// increment); one that goes away adds nothing after its last value. A
// counter that goes down (a restarted process), a slice end where none of
// the series has a value, values that are not numbers, and a selector
// with no series at the window's start are ErrNoCounts.
func (p *Prometheus) Counts(ctx context.Context, q CountQuery) (Increments, error) {
	sel, err := countSelector(q)
	if err != nil {
		return Increments{}, err
	}
	query := bridged(sel, q.Lookback)
	if q.Slices < 1 || q.Slice < time.Millisecond {
		return Increments{}, &Error{Kind: ErrBadQuery, Query: query, Msg: fmt.Sprintf("%d slices of %v: want at least one of positive length", q.Slices, q.Slice)}
	}
	end := q.Start.Add(time.Duration(q.Slices) * q.Slice)
	window := Query{Start: q.Start, End: end, Step: q.Slice}
	if err := window.check(MaxPoints); err != nil {
		return Increments{}, &Error{Kind: ErrBadQuery, Query: query, Msg: err.Error()}
	}
	r := v1.Range{Start: q.Start, End: end, Step: q.Slice}
	matrix, err := p.matrix(ctx, query, r)
	if err != nil {
		return Increments{}, err
	}
	var ages []time.Duration
	if !q.Sparse {
		// Of the plain selector: timestamp() of last_over_time would be
		// the evaluation's time, not the sample's.
		if ages, err = p.ages(ctx, sel, r, q.Slices+1); err != nil {
			return Increments{}, err
		}
	}
	incs, err := increments(matrix, q, ages)
	if err != nil {
		return Increments{}, &Error{Kind: ErrNoCounts, Query: query, Msg: err.Error(), Err: err}
	}
	return incs, nil
}

// StaleSlices is how many slices old the newest sample at a slice end may
// be: a slice is at least the scrape interval long, so a target scraped
// on time always has a sample that recent.
const StaleSlices = 2

// ages reads, at each of n slice ends, how old the newest sample of the
// query's series is (-1 where none is seen). Prometheus's lookback shows a
// series' last value for minutes; when Prometheus itself stopped scraping
// (it was down), no staleness marker ends that, and a value carried over
// the gap would count its requests in the slice after it.
func (p *Prometheus) ages(ctx context.Context, query string, r v1.Range, n int) ([]time.Duration, error) {
	matrix, err := p.matrix(ctx, newestQuery(query), r)
	if err != nil {
		return nil, err
	}
	ages := make([]time.Duration, n)
	for i := range ages {
		ages[i] = -1
	}
	for _, s := range matrix {
		for _, v := range s.Values {
			k := endIndex(v.Timestamp, r.Start, r.Step)
			if k < 0 || k >= n || math.IsNaN(float64(v.Value)) {
				continue
			}
			end := r.Start.Add(time.Duration(k) * r.Step)
			ages[k] = max(end.Sub(time.UnixMilli(int64(math.Round(float64(v.Value)*1000)))), 0)
		}
	}
	return ages, nil
}

// newestQuery is the time of the newest sample of query's series.
func newestQuery(query string) string { return "max(timestamp(" + query + "))" }

// endIndex is the slice end nearest a sample's timestamp: Prometheus
// evaluates a range at start + k·step, to the millisecond.
func endIndex(ts model.Time, start time.Time, step time.Duration) int {
	return int(math.Round(float64(int64(ts)-start.UnixMilli()) / float64(step.Milliseconds())))
}

// countSelector renders q's selector, as its _bucket series for a
// histogram.
func countSelector(q CountQuery) (string, error) {
	query, err := Render(q.Selector, q.Model, q.Version)
	if err != nil {
		return "", err
	}
	if q.Buckets {
		if query, err = bucketSelector(query); err != nil {
			return "", err
		}
	} else if _, err := selector(query); err != nil {
		return "", err
	}
	return query, nil
}

// bridged is the query read at the slice ends: with a lookback, each
// series' latest sample within it, since a range selector skips the
// staleness markers a failed scrape leaves.
func bridged(sel string, lookback time.Duration) string {
	if lookback <= 0 {
		return sel
	}
	return fmt.Sprintf("last_over_time(%s[%s])", sel, model.Duration(lookback.Truncate(time.Millisecond)))
}

// matrix runs a range query and returns its series, float samples only.
func (p *Prometheus) matrix(ctx context.Context, query string, r v1.Range) (model.Matrix, error) {
	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	value, _, _, err := p.api.QueryRange(reqCtx, query, r, v1.WithTimeout(p.timeout))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("query %s: %w", query, ctx.Err())
		}
		return nil, p.classify(query, err)
	}
	matrix, ok := value.(model.Matrix)
	if !ok {
		return nil, &Error{Kind: ErrUnavailable, Query: query, Msg: fmt.Sprintf("malformed answer: %v, want a range", value)}
	}
	for _, s := range matrix {
		if len(s.Histograms) > 0 {
			return nil, &Error{Kind: ErrBadQuery, Query: query, Msg: "the series are native histograms: export classic buckets (_bucket series with le)"}
		}
	}
	return matrix, nil
}

// increments turns the counters' values at the slice ends into the
// increments per slice and group. ages (nil: not read) are how old the
// newest sample is at each end: an end whose newest is more than
// StaleSlices old has no value, as after a failed scrape.
func increments(matrix model.Matrix, q CountQuery, ages []time.Duration) (Increments, error) {
	ends := make([]time.Time, q.Slices+1)
	for i := range ends {
		ends[i] = q.Start.Add(time.Duration(i) * q.Slice)
	}
	stale := make([]bool, len(ends))
	for i := range stale {
		stale[i] = i < len(ages) && ages[i] > StaleSlices*q.Slice
	}
	out := Increments{Groups: map[string][]float64{}, Series: len(matrix)}
	seen := make([]bool, len(ends)) // some series has a value at end i
	for _, s := range matrix {
		group := ""
		if q.Buckets {
			group = string(s.Metric["le"])
		}
		incs, ok := out.Groups[group]
		if !ok {
			incs = make([]float64, q.Slices)
			out.Groups[group] = incs
		}
		if err := addSeries(incs, s, ends, seen, stale); err != nil {
			return Increments{}, err
		}
	}
	if len(matrix) == 0 {
		return Increments{}, fmt.Errorf("%w: the selector matches nothing for this version in the window", ErrNoSeries)
	}
	if q.Sparse {
		return out, nil
	}
	first := slices.Index(seen, true)
	if first < 0 {
		return Increments{}, fmt.Errorf("%w: the selector's series have no value in the window", ErrNoSeries)
	}
	switch {
	case first > 0 && stale[0]:
		return Increments{}, fmt.Errorf("no series has a value at the window's start %s: the newest sample is %v old, "+
			"Prometheus was not scraping (down, or just restarted); the first fresh value appears %v later",
			stamp(ends[0]), ages[0].Round(time.Millisecond), ends[first].Sub(ends[0]))
	case first > 0:
		return Increments{}, fmt.Errorf("no series has a value at the window's start %s; the first appears %v later: "+
			"the version was not scraped when its window opened", stamp(ends[0]), ends[first].Sub(ends[0]))
	}
	// A scrape that failed leaves every series stale at the slice ends it
	// covers: the requests of such a slice are counted in the next one,
	// whose end has values again; the last end must have them.
	for i := range seen {
		if !seen[i] {
			out.Gaps++
		}
	}
	if last := len(seen) - 1; !seen[last] {
		return Increments{}, fmt.Errorf("no series has a value at %s, the end of the window (slice %d of %d): the target was not scraped",
			stamp(ends[last]), last, q.Slices)
	}
	return out, nil
}

// addSeries adds one series' increments to incs, skipping its values at
// stale ends.
func addSeries(incs []float64, s *model.SampleStream, ends []time.Time, seen, stale []bool) error {
	values := make(map[int]float64, len(s.Values))
	for _, v := range s.Values {
		k := endIndex(v.Timestamp, ends[0], ends[1].Sub(ends[0]))
		if k >= 0 && k < len(ends) && !stale[k] {
			values[k] = float64(v.Value)
		}
	}
	last, has := 0.0, false
	for i, end := range ends {
		v, ok := values[i]
		if !ok {
			continue
		}
		seen[i] = true
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("%s is %v at %s", s.Metric, v, stamp(end))
		case has && v < last:
			return fmt.Errorf("%s went down from %g to %g by %s: a counter reset (a restarted process) loses the requests since its last scrape",
				s.Metric, last, v, stamp(end))
		case i > 0 && has:
			incs[i-1] += v - last
		case i > 0:
			incs[i-1] += v // a series created during the window starts at 0
		}
		last, has = v, true
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Bounds returns the le groups of a histogram's increments, ascending, +Inf
// last, or why they are not a histogram.
func (in Increments) Bounds() ([]float64, []string, error) {
	type bound struct {
		le   float64
		name string
	}
	var bs []bound
	for name := range in.Groups {
		le, err := parseLe(name)
		if err != nil {
			return nil, nil, err
		}
		bs = append(bs, bound{le, name})
	}
	slices.SortFunc(bs, func(a, b bound) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].le, 1) {
		return nil, nil, fmt.Errorf("%w: buckets %v: want at least one finite le and +Inf", ErrNoCounts, in.names())
	}
	les, names := make([]float64, len(bs)), make([]string, len(bs))
	for i, b := range bs {
		if i > 0 && b.le == bs[i-1].le {
			return nil, nil, fmt.Errorf("%w: le %q and %q are the same bound", ErrNoCounts, bs[i-1].name, b.name)
		}
		les[i], names[i] = b.le, b.name
	}
	return les, names, nil
}

func (in Increments) names() []string {
	var out []string
	for n := range in.Groups {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func parseLe(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("%w: le %q is not a bucket bound", ErrNoCounts, s)
	}
	return v, nil
}

// ScrapeInterval returns the longest scrape interval of the server's
// configuration (its global one, and every job's): a sample of any series
// is at most that old, so that samples closer together repeat a value.
func (p *Prometheus) ScrapeInterval(ctx context.Context) (time.Duration, error) {
	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	cfg, err := p.api.Config(reqCtx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("read the scrape interval: %w", ctx.Err())
		}
		return 0, p.classify("", err)
	}
	d, err := longestScrape(cfg.YAML)
	if err != nil {
		return 0, &Error{Kind: ErrUnavailable, Msg: "malformed configuration: " + err.Error()}
	}
	return d, nil
}

// longestScrape reads the longest scrape interval of a configuration;
// Prometheus's default is one minute.
func longestScrape(text string) (time.Duration, error) {
	var cfg struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		return 0, err
	}
	parse := func(s string, def time.Duration) (time.Duration, error) {
		if s == "" {
			return def, nil
		}
		d, err := model.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("scrape_interval %q: %w", s, err)
		}
		return time.Duration(d), nil
	}
	global, err := parse(cfg.Global.ScrapeInterval, time.Minute)
	if err != nil {
		return 0, err
	}
	longest := global
	for _, sc := range cfg.ScrapeConfigs {
		d, err := parse(sc.ScrapeInterval, global)
		if err != nil {
			return 0, err
		}
		longest = max(longest, d)
	}
	return longest, nil
}
