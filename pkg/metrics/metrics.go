// Package metrics reads the time series that a canary analysis judges from metrics providers.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Provider answers the reads of a canary analysis for one model version;
// the rollout engine calls it for each metric and version every analysis
// interval. Prometheus is one.
type Provider interface {
	// Samples renders q.Template for q.Model and q.Version and returns the
	// one series it yields between q.Start and q.End. An empty result is
	// not an error: Series.Samples is empty and the judge says nodata.
	Samples(ctx context.Context, q Query) (Series, error)
	// Counts reads counters at the ends of disjoint slices and returns
	// their increments (see Prometheus.Counts).
	Counts(ctx context.Context, q CountQuery) (Increments, error)
	// ScrapeInterval is the longest interval between two samples of a
	// series.
	ScrapeInterval(ctx context.Context) (time.Duration, error)
}

var _ Provider = (*Prometheus)(nil)

// Query is one metric of a rollout plan asked for one version over a window.
type Query struct {
	Template string // PromQL with {{.Model}} and {{.Version}} inside string literals
	Model    string // a DNS label
	Version  string // a semantic version
	Start    time.Time
	End      time.Time
	Step     time.Duration // the plan's analysis.interval, or finer
}

// Sample is one value of a series at one instant.
type Sample struct {
	Time  time.Time
	Value float64
}

// Series is what a provider found for one query.
type Series struct {
	Samples  []Sample
	Dropped  int      // NaN and ±Inf values left out of Samples
	Warnings []string // what the provider warned about, for the user to read
}

// Errors a provider returns, to be told apart with errors.Is.
var (
	// ErrUnavailable means no answer this time (connection refused, 5xx,
	// timeout, a malformed answer): the interval is inconclusive, a later
	// one may succeed.
	ErrUnavailable = errors.New("metrics provider unavailable")
	// ErrBadQuery means the query itself is wrong (it does not parse, it
	// yields several series, its values are not valid): retrying will not help.
	ErrBadQuery = errors.New("bad metrics query")
)

// Error is a failed query: its Kind (ErrUnavailable or ErrBadQuery), the
// query as sent, and what went wrong in the provider's own words.
type Error struct {
	Kind  error
	Query string
	Msg   string
	Err   error // the underlying error, if any
}

func (e *Error) Error() string {
	if e.Query == "" {
		return fmt.Sprintf("%v: %s", e.Kind, e.Msg)
	}
	return fmt.Sprintf("%v: %s (query: %s)", e.Kind, e.Msg, e.Query)
}

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// check reports what is wrong with q's window, before anything is sent.
func (q Query) check(maxPoints int) error {
	switch {
	case q.Step <= 0:
		return fmt.Errorf("step %v: must be positive", q.Step)
	case q.End.Before(q.Start):
		return fmt.Errorf("window %s to %s: end before start", q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339))
	}
	// Prometheus's own rule: range/step may not exceed the limit.
	if n := q.End.Sub(q.Start) / q.Step; n > time.Duration(maxPoints) {
		return fmt.Errorf("window %v at step %v is %d steps, over the limit of %d: use a larger step",
			q.End.Sub(q.Start), q.Step, n, maxPoints)
	}
	return nil
}
