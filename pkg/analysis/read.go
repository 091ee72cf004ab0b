package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// SlicesPerInterval is how many slices an analysis interval is cut into
// for the count kinds (fewer when a slice would be shorter than the scrape
// interval): enough slices at the first look to estimate the dispersion
// between them.
const SlicesPerInterval = 10

// BridgedScrapes is how many scrape intervals a counter's value at a
// slice end may be old: a scrape that failed at a slice end (a target too
// slow to answer once) leaves a staleness marker there, and without the
// bridge the look would have no value at its end, or its window none at
// its start, for good (retrying the look reads the same instant). A target
// not scraped for this long is a gap all the same.
const BridgedScrapes = 3

// SamplesPerInterval caps a query's samples per interval: its step is at
// least the interval divided by this, its longest range and the scrape
// interval.
const SamplesPerInterval = 10

// reader reads one look's metrics.
type reader struct {
	p      Provider
	r      Request
	scrape time.Duration
}

// read returns the judge's input for m and how it was read. An error is
// the provider's: the look cannot be judged. Data that cannot be counted
// give an input without data and the Problem.
func (rd reader) read(ctx context.Context, m rollout.Metric) (judge.Metric, Read, error) {
	in := judge.Metric{Name: m.Name, Kind: judge.Kind(m.MetricKind()), Direction: judge.Direction(m.Direction),
		Tolerance: m.Tolerance, Critical: m.Critical}
	read := Read{Name: m.Name, Kind: m.MetricKind()}
	var err error
	switch m.MetricKind() {
	case rollout.KindRatio:
		err = rd.ratio(ctx, m, &in, &read)
	case rollout.KindHistogram:
		err = rd.histogram(ctx, m, &in, &read)
	default:
		err = rd.query(ctx, m, &in, &read)
	}
	if err != nil && problem(err) {
		read.Problem, err = err.Error(), nil
	}
	return in, read, err
}

// slices returns the slice length and the number of slices in the look's
// window: SlicesPerInterval per interval, none shorter than the scrape
// interval, whole milliseconds (Prometheus's resolution).
func (rd reader) slices() (time.Duration, int) {
	slice := max(rd.r.Interval/SlicesPerInterval, rd.scrape, time.Millisecond).Truncate(time.Millisecond)
	return slice, int(rd.r.End().Sub(rd.r.Since) / slice)
}

// counts reads one selector's increments on one side.
func (rd reader) counts(ctx context.Context, selector, version string, buckets, sparse bool) (metrics.Increments, error) {
	slice, n := rd.slices()
	if n < 1 {
		return metrics.Increments{}, fmt.Errorf("%w: the window %v is shorter than a slice (%v)", metrics.ErrNoCounts, rd.r.End().Sub(rd.r.Since), slice)
	}
	return rd.p.Counts(ctx, metrics.CountQuery{Selector: selector, Model: rd.r.Model, Version: version,
		Start: rd.r.Since, Slice: slice, Slices: n, Buckets: buckets, Sparse: sparse, Lookback: BridgedScrapes * rd.scrape})
}

// sliced records the slices in read: their length and ends.
func (rd reader) sliced(read *Read) {
	slice, n := rd.slices()
	read.Step, read.Times = slice, make([]time.Time, n)
	for i := range read.Times {
		read.Times[i] = rd.r.Since.Add(time.Duration(i+1) * slice)
	}
}

// side is one version of the look, and where its data go.
type side[T any] struct {
	name, version string
	dst           *T
}

func sides[T any](r Request, base, canary *T) []side[T] {
	return []side[T]{{"baseline", r.Baseline, base}, {"canary", r.Canary, canary}}
}

// ratio reads errors and totals on both sides.
func (rd reader) ratio(ctx context.Context, m rollout.Metric, in *judge.Metric, read *Read) error {
	rd.sliced(read)
	r := &judge.Ratio{}
	for _, side := range sides(rd.r, &r.Baseline, &r.Canary) {
		total, err := rd.counts(ctx, m.Total, side.version, false, false)
		if err != nil {
			return fmt.Errorf("%s %s: total: %w", side.name, side.version, err)
		}
		gapNote(read, side.name, total)
		errs, err := rd.counts(ctx, m.Errors, side.version, false, true)
		switch {
		case errors.Is(err, metrics.ErrNoSeries):
			// No series at all: no error happened (error counters are often
			// created at their first increment).
			errs = metrics.Increments{Groups: map[string][]float64{"": make([]float64, len(total.Groups[""]))}}
			read.Notes = append(read.Notes, fmt.Sprintf("%s: the errors selector has no series; counted as no error", side.name))
		case err != nil:
			return fmt.Errorf("%s %s: errors: %w", side.name, side.version, err)
		}
		side.dst.Errors, side.dst.Total = errs.Groups[""], total.Groups[""]
	}
	in.Ratio = r
	return nil
}

// histogram reads the bucket counts of both sides.
func (rd reader) histogram(ctx context.Context, m rollout.Metric, in *judge.Metric, read *Read) error {
	rd.sliced(read)
	h := &judge.Histogram{Quantile: m.Quantile}
	var names []string
	for _, side := range sides(rd.r, &h.Baseline, &h.Canary) {
		incs, err := rd.counts(ctx, m.Histogram, side.version, true, false)
		if err != nil {
			return fmt.Errorf("%s %s: %w", side.name, side.version, err)
		}
		gapNote(read, side.name, incs)
		les, ns, err := incs.Bounds()
		if err != nil {
			return fmt.Errorf("%s %s: %w", side.name, side.version, err)
		}
		if names != nil && fmt.Sprint(ns) != fmt.Sprint(names) {
			return fmt.Errorf("%w: the canary's buckets %v differ from the baseline's %v", metrics.ErrNoCounts, ns, names)
		}
		names, h.Le = ns, les
		*side.dst = rows(incs, ns)
	}
	in.Histogram = h
	return nil
}

// gapNote notes the slice ends a failed scrape left without values.
func gapNote(read *Read, side string, incs metrics.Increments) {
	if incs.Gaps > 0 {
		read.Notes = append(read.Notes, fmt.Sprintf("%s: %d slice ends without a value (a failed scrape); "+
			"their requests are counted in the next slice", side, incs.Gaps))
	}
}

// rows turns cumulative bucket increments into per-slice rows of
// per-bucket counts.
func rows(incs metrics.Increments, names []string) judge.Buckets {
	n := len(incs.Groups[names[0]])
	out := make(judge.Buckets, n)
	for i := range out {
		out[i] = make([]float64, len(names))
		prev := 0.0
		for j, name := range names {
			cum := incs.Groups[name][i]
			out[i][j] = max(cum-prev, 0) // buckets read a scrape apart may cross by a request or two
			prev = max(prev, cum)
		}
	}
	return out
}

// query reads samples of a query at a step no shorter than its longest
// range and the scrape interval, so that no two samples share their input,
// and judges batch means of them (see batchMeans).
func (rd reader) query(ctx context.Context, m rollout.Metric, in *judge.Metric, read *Read) error {
	longest, err := metrics.LongestRange(m.Query)
	if err != nil {
		return err
	}
	step := max(longest, rd.scrape, rd.r.Interval/SamplesPerInterval, time.Millisecond).Truncate(time.Millisecond)
	read.Step = step
	end := rd.r.End()
	start := rd.r.Since.Add(step) // the first sample reads (Since, Since+step]: nothing from before the window
	if start.After(end) {
		return fmt.Errorf("%w: the window %v is shorter than one step of the query (%v)", metrics.ErrNoCounts, end.Sub(rd.r.Since), step)
	}
	q := metrics.Query{Template: m.Query, Model: rd.r.Model, Start: start, End: end, Step: step}
	var sides [2][]float64
	for i, v := range []string{rd.r.Baseline, rd.r.Canary} {
		q.Version = v
		s, err := rd.p.Samples(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		for _, p := range s.Samples {
			sides[i] = append(sides[i], p.Value)
			if i == 0 {
				read.Times = append(read.Times, p.Time)
			}
		}
		if s.Dropped > 0 {
			read.Notes = append(read.Notes, fmt.Sprintf("%s: %d samples were NaN or infinite and left out", v, s.Dropped))
		}
	}
	in.Baseline, in.Canary, read.Batch = BatchMeans(sides[0], sides[1])
	if n, l := min(len(in.Baseline), len(in.Canary)), rd.r.Look; n > 0 && l.Planned > 0 && l.Index < l.Planned && n < judge.DefaultConfig().MinSamples {
		read.Early = true
	}
	return nil
}

// BatchMeans replaces each side's samples, consecutive in time, by the
// means of batches long enough to be close to independent (batchSize),
// and returns the batch length.
func BatchMeans(base, canary []float64) ([]float64, []float64, int) {
	b := batchSize(base, canary)
	return batchMeans(base, b), batchMeans(canary, b), b
}

// batchSize is how many consecutive samples a batch mean averages so that
// batch means are close to independent: judge.BatchLength of the samples'
// lag-1 autocorrelation, both sides pooled, each about its own mean.
func batchSize(sides ...[]float64) int {
	n := 0
	for _, s := range sides {
		n = max(n, len(s))
	}
	return judge.BatchLength(lag1(sides...), n)
}

// lag1 is the pooled lag-1 autocorrelation of the series.
func lag1(series ...[]float64) float64 {
	var num, den float64
	for _, s := range series {
		if len(s) < 2 {
			continue
		}
		var mean float64
		for _, x := range s {
			mean += x
		}
		mean /= float64(len(s))
		for t, x := range s {
			den += (x - mean) * (x - mean)
			if t > 0 {
				num += (x - mean) * (s[t-1] - mean)
			}
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// batchMeans averages consecutive batches of b samples; a last, shorter
// batch is left out.
func batchMeans(xs []float64, b int) []float64 {
	if b <= 1 {
		return xs
	}
	out := make([]float64, 0, len(xs)/b)
	for i := 0; i+b <= len(xs); i += b {
		var sum float64
		for _, x := range xs[i : i+b] {
			sum += x
		}
		out = append(out, sum/float64(b))
	}
	return out
}
