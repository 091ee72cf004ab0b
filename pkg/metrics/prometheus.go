package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Defaults of a Prometheus provider.
const (
	DefaultTimeout = 10 * time.Second
	// MaxPoints is Prometheus's limit of steps in one range query.
	MaxPoints = 11000
)

// Prometheus is a Provider that sends range queries to a Prometheus server;
// it is safe for concurrent use.
type Prometheus struct {
	api     v1.API
	timeout time.Duration
}

// NewPrometheus returns a provider for the Prometheus server at address
// (http or https); each query gives up after timeout (DefaultTimeout if 0).
func NewPrometheus(address string, timeout time.Duration) (*Prometheus, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus address %q: want an http or https URL like http://prometheus:9090", address)
	}
	client, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("prometheus address %q: %w", address, err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Prometheus{api: v1.NewAPI(client), timeout: timeout}, nil
}

// Samples runs q as a range query and returns its one series.
func (p *Prometheus) Samples(ctx context.Context, q Query) (Series, error) {
	query, err := Render(q.Template, q.Model, q.Version)
	if err != nil {
		return Series{}, err
	}
	if err := q.check(MaxPoints); err != nil {
		return Series{}, &Error{Kind: ErrBadQuery, Query: query, Msg: err.Error()}
	}
	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	r := v1.Range{Start: q.Start, End: q.End, Step: q.Step}
	value, warnings, infos, err := p.api.QueryRange(reqCtx, query, r, v1.WithTimeout(p.timeout))
	if err != nil {
		if ctx.Err() != nil {
			return Series{}, fmt.Errorf("query %s: %w", query, ctx.Err())
		}
		return Series{}, p.classify(query, err)
	}
	if value == nil {
		return Series{}, &Error{Kind: ErrUnavailable, Query: query, Msg: "malformed answer: no result"}
	}
	series, err := oneSeries(value)
	if err != nil {
		return Series{}, &Error{Kind: ErrBadQuery, Query: query, Msg: err.Error()}
	}
	series.Warnings = append(prefixed("warning: ", warnings), prefixed("info: ", infos)...)
	return series, nil
}

// classify sorts a client error into ErrUnavailable and ErrBadQuery.
func (p *Prometheus) classify(query string, err error) error {
	var apiErr *v1.Error
	if !errors.As(err, &apiErr) {
		msg := err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("no answer within %v", p.timeout)
		}
		return &Error{Kind: ErrUnavailable, Query: query, Msg: msg, Err: err}
	}
	msg := apiErr.Msg
	if detail := strings.TrimSpace(apiErr.Detail); detail != "" {
		msg += ": " + truncate(detail, 200)
	}
	kind := ErrUnavailable
	switch apiErr.Type {
	case v1.ErrBadData, v1.ErrExec:
		kind = ErrBadQuery // 400 and 422: Prometheus could not parse or run it
	case v1.ErrBadResponse:
		msg = "malformed answer: " + msg
	}
	return &Error{Kind: kind, Query: query, Msg: msg, Err: err}
}

// oneSeries returns the only series of a range query's result.
func oneSeries(value model.Value) (Series, error) {
	matrix, ok := value.(model.Matrix)
	if !ok {
		return Series{}, fmt.Errorf("result is a %s, want a range of one series", value.Type())
	}
	switch len(matrix) {
	case 0:
		return Series{}, nil
	case 1:
	default:
		return Series{}, fmt.Errorf("query yields %d series (%s), want one: aggregate it, e.g. with sum(...)",
			len(matrix), seriesNames(matrix))
	}
	stream := matrix[0]
	if len(stream.Histograms) > 0 {
		return Series{}, fmt.Errorf("query yields native histograms, want floats: use histogram_quantile(...)")
	}
	var s Series
	for _, v := range stream.Values {
		f := float64(v.Value)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			s.Dropped++
			continue
		}
		s.Samples = append(s.Samples, Sample{Time: v.Timestamp.Time().UTC(), Value: f})
	}
	return s, nil
}

// seriesNames lists the first few series' labels, for an error message.
func seriesNames(m model.Matrix) string {
	const shown = 3
	var names []string
	for i, s := range m {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(m)-shown))
			break
		}
		names = append(names, s.Metric.String())
	}
	return strings.Join(names, ", ")
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, prefix+l)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
