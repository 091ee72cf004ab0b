// Package analysis judges one look of a canary stage: it reads the plan's
// metrics for the baseline and the canary from a metrics provider (counts
// over disjoint slices of the window, or query samples that do not
// overlap), judges them, checks that the canary serves the stage's share
// of the requests, and returns the judged look the rollout state machine
// consumes.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/judge/jsonl"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/rollout"
)

// Provider is what an analysis reads.
type Provider interface {
	Samples(ctx context.Context, q metrics.Query) (metrics.Series, error)
	Counts(ctx context.Context, q metrics.CountQuery) (metrics.Increments, error)
	ScrapeInterval(ctx context.Context) (time.Duration, error)
}

var _ Provider = (*metrics.Prometheus)(nil)

// Request is one look of a stage to judge.
type Request struct {
	Metrics []rollout.Metric
	// Model is the model; Baseline and Canary its two versions.
	Model, Baseline, Canary string
	// Since is when the stage's window opened, and Interval the plan's
	// analysis interval: look k reads the window up to Since + k·Interval.
	Since    time.Time
	Interval time.Duration
	Look     judge.Look
	// Traffic is the stage's traffic for the canary, in percent.
	Traffic float64
}

// End is the end of the window the look reads.
func (r Request) End() time.Time {
	return r.Since.Add(time.Duration(r.Look.Index) * r.Interval)
}

// Outcome is what a look found.
type Outcome string

// The outcomes of a look.
const (
	Pass         Outcome = "pass"
	Fail         Outcome = "fail"
	Inconclusive Outcome = "inconclusive"
	// NoData: the provider did not answer, or no metric has data; the state
	// machine counts it towards the limit that pauses the rollout. (Queries
	// that only lack samples at an early look are Inconclusive: the window
	// has to grow.)
	NoData Outcome = "nodata"
	// TrafficMismatch: the canary's share of the requests is far from the
	// stage's traffic; the rollout pauses with the reason.
	TrafficMismatch Outcome = "traffic_mismatch"
)

// Judged is a judged look.
type Judged struct {
	Outcome Outcome
	Reason  string
	Look    judge.Look
	// End is the end of the window read.
	End time.Time
	// Report is the judge's; empty when the provider failed.
	Report judge.Report
	// Inputs are the data the judge was given, one per metric: counts per
	// slice or samples. They replay the look (Line).
	Inputs []judge.Metric
	// Reads say how each metric was read, in the order of Inputs.
	Reads []Read
	// Split is the canary's share of the requests, when a count metric
	// measured it.
	Split *Split
	// Answered says a NoData look had the provider's answer, without
	// enough data in it: the provider itself is up.
	Answered bool
}

// Read says how one metric was read.
type Read struct {
	Name string
	Kind string
	// Step is the length of a slice (counts) or the step between samples
	// that do not overlap (query).
	Step time.Duration
	// Times are the slice ends, or each sample's time.
	Times []time.Time
	// Batch is how many consecutive samples of a query each judged sample
	// averages (batch means), 0 for counts.
	Batch int
	// Problem is why the metric has no data, in the provider's words.
	Problem string
	// Early says a query has samples on both sides, but too few yet for
	// the judge, at a look before the plan's last: the window has not
	// grown enough, which is no failure of the provider.
	Early bool
	// Notes are what the reading noticed without refusing the data.
	Notes []string
}

// Line is the `bot judge` line that replays the look.
func (j Judged) Line(id string) ([]byte, error) {
	return jsonl.Line(id, j.Look.Index, j.Look.Planned, j.Inputs)
}

// Analyzer judges looks.
type Analyzer struct {
	Judge *judge.Judge
}

// Look reads and judges one look. It returns an error only when ctx is
// done; every other problem is in the Judged look (NoData, a metric
// without data, a traffic mismatch).
func (a Analyzer) Look(ctx context.Context, p Provider, r Request) (Judged, error) {
	data, err := ReadLook(ctx, p, r)
	if err != nil {
		return Judged{}, err
	}
	return a.Decide(r, data), nil
}

// Data is what a look read: each metric's input for the judge and how it
// was read, or why the look cannot be judged at all.
type Data struct {
	Inputs []judge.Metric
	Reads  []Read
	// Unavailable says why the provider could not answer; the look is
	// NoData.
	Unavailable string
}

// ReadLook reads the look's metrics. It returns an error only when ctx is
// done.
func ReadLook(ctx context.Context, p Provider, r Request) (Data, error) {
	var d Data
	scrape, err := p.ScrapeInterval(ctx)
	if ctx.Err() != nil {
		return Data{}, ctx.Err()
	}
	if err != nil {
		return Data{Unavailable: err.Error()}, nil
	}
	rd := reader{p: p, r: r, scrape: scrape}
	for _, m := range r.Metrics {
		in, read, err := rd.read(ctx, m)
		if ctx.Err() != nil {
			return Data{}, ctx.Err()
		}
		if err != nil {
			return Data{Unavailable: fmt.Sprintf("%s: %v", m.Name, err)}, nil
		}
		d.Inputs, d.Reads = append(d.Inputs, in), append(d.Reads, read)
	}
	return d, nil
}

// Decide judges what a look read: the judge's report over the metrics, the
// traffic split, and the outcome.
func (a Analyzer) Decide(r Request, d Data) Judged {
	out := Judged{Look: r.Look, End: r.End(), Inputs: d.Inputs, Reads: d.Reads}
	if d.Unavailable != "" {
		out.Outcome, out.Reason = NoData, d.Unavailable
		return out
	}
	rep, err := a.Judge.JudgeAt(r.Look, d.Inputs)
	if err != nil {
		out.Outcome, out.Reason = NoData, "the judge cannot judge this plan: "+err.Error()
		return out
	}
	for i := range rep.Metrics {
		if p := d.Reads[i].Problem; p != "" && rep.Metrics[i].Verdict == judge.NoData {
			rep.Metrics[i].Reason = p
		}
	}
	out.Report = rep
	out.Outcome, out.Reason = Outcome(rep.Decision), rep.Reason
	if s, ok := split(d.Inputs, r.Traffic); ok {
		out.Split = &s
		if why := s.mismatch(); why != "" {
			out.Outcome, out.Reason = TrafficMismatch, why
			return out
		}
	}
	if why := allNoData(rep); why != "" {
		out.Outcome, out.Reason, out.Answered = NoData, why, true
		if allEarly(d.Reads) {
			out.Outcome = Inconclusive
		}
	}
	return out
}

// allEarly says every metric is a query still short of samples.
func allEarly(reads []Read) bool {
	for _, r := range reads {
		if !r.Early {
			return false
		}
	}
	return len(reads) > 0
}

// allNoData says why no metric of the report could be judged, or "".
func allNoData(rep judge.Report) string {
	var why []string
	for _, r := range rep.Metrics {
		if r.Verdict != judge.NoData {
			return ""
		}
		why = append(why, r.Name+": "+r.Reason)
	}
	return "no data (" + strings.Join(why, "; ") + ")"
}

// Event is the state machine's event for the look. A failure names each
// failing metric with its change, interval and confidence.
func (j Judged) Event() rollout.Event {
	switch j.Outcome {
	case NoData:
		return rollout.AnalysisUnavailable{Look: j.Look.Index, Reason: j.Reason, NoData: j.Answered}
	case TrafficMismatch:
		return rollout.TrafficMismatch{Look: j.Look.Index, Reason: j.Reason}
	}
	ev := rollout.AnalysisResult{Decision: string(j.Outcome), Reason: j.Reason, Look: j.Look.Index}
	if j.Outcome != Fail {
		return ev
	}
	var failed []string
	for _, r := range j.Report.Metrics {
		if r.Verdict == judge.Fail {
			failed = append(failed, r.String())
			ev.Critical = ev.Critical || r.Critical
		}
	}
	if len(failed) > 0 {
		ev.Reason = strings.Join(failed, "; ")
	}
	return ev
}

// problem reports whether err is a problem of the metric's data (it gets
// nodata with the provider's words) rather than of the provider.
func problem(err error) bool {
	return errors.Is(err, metrics.ErrNoCounts)
}
