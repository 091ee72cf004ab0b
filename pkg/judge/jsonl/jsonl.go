// Package jsonl is the wire format of `bot judge`: one canary case per JSON
// line in, one decision per line out (DESIGN.md, "bot judge lines").
//
// In:  {"id":"c1","metrics":[{"name":"latency_p99_ms","direction":"increase_is_bad",
//
//	"tolerance":0.05,"critical":true,"baseline":[...],"canary":[...]}]}
//
// Out: {"id":"c1","decision":"pass","metrics":[{"name":"latency_p99_ms",
//
//	"verdict":"pass","change":0.031,"ci":[-0.01,0.07],"p":0.2}]}
//
// A line without "look" is a one-shot judgement: the only look of its plan
// (judge.Look{Planned: 1, Index: 1}), so each metric gets a fixed-sample
// one-sided test, its p-value and its confidence interval; DefaultConfig
// spends the whole α on that look, for each metric.
//
// A line with "look" ({"index": k, "planned": K}) replays a look of the
// engine, with the engine's judge (judge.DefaultConfig: Holm's step-down
// over the metrics, α kept for looks beyond the plan), so that a decision
// the bot took can be reproduced from the counts its audit trail keeps
// (Line writes them).
//
// Count kinds ("kind": "ratio" or "histogram") carry one entry per
// disjoint slice: a ratio's baseline and canary are {"errors":[...],
// "total":[...]}; a histogram's are rows of per-bucket (not cumulative)
// counts, one per slice, in the order of "le" (bounds as Prometheus writes
// them, "+Inf" last), with its "quantile".
//
// Choices beyond the contract: decoding is strict (unknown fields, a
// missing id, trailing data and non-numbers are errors); a line that cannot
// be judged gets {"id":...,"line":N,"error":"..."} with the id echoed when
// it could be read, and no decision; a metric with verdict "nodata" has
// null change, ci and p and a "reason"; numbers have 6 significant digits.
package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/modelgate/modelgate/pkg/judge"
)

// Case is one input line.
type Case struct {
	ID      string   `json:"id"`
	Look    *Look    `json:"look,omitempty"`
	Metrics []Metric `json:"metrics"`
}

// Look places a line in the engine's plan of looks.
type Look struct {
	Index   int `json:"index"`
	Planned int `json:"planned"`
}

// Metric is one metric of a case, as in the rollout plan plus its data:
// Baseline and Canary hold samples (a list of numbers) for a query,
// Counts for a ratio, rows of bucket counts for a histogram.
type Metric struct {
	Name      string          `json:"name"`
	Kind      string          `json:"kind,omitempty"`
	Direction string          `json:"direction"`
	Tolerance float64         `json:"tolerance"`
	Critical  bool            `json:"critical"`
	Quantile  float64         `json:"quantile,omitempty"`
	Le        []string        `json:"le,omitempty"`
	Baseline  json.RawMessage `json:"baseline"`
	Canary    json.RawMessage `json:"canary"`
}

// Judges are the judges of the two kinds of line.
type Judges struct {
	// Line judges lines without a look (DefaultConfig).
	Line *judge.Judge
	// Replay judges lines with a look, as the engine does.
	Replay *judge.Judge
}

// NewJudges returns the judges for lines, one-shot with cfg and replayed
// with the engine's configuration at cfg's confidence and scores.
func NewJudges(cfg judge.Config) (Judges, error) {
	line, err := judge.New(cfg)
	if err != nil {
		return Judges{}, err
	}
	engine := judge.DefaultConfig()
	engine.Confidence, engine.PassScore, engine.MarginalScore = cfg.Confidence, cfg.PassScore, cfg.MarginalScore
	replay, err := judge.New(engine)
	if err != nil {
		return Judges{}, err
	}
	return Judges{Line: line, Replay: replay}, nil
}

// Output is one output line.
type Output struct {
	ID       json.RawMessage `json:"id,omitempty"`
	Line     int             `json:"line,omitempty"`
	Decision string          `json:"decision,omitempty"`
	Metrics  []MetricOutput  `json:"metrics,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// MetricOutput is one metric's result on an output line.
type MetricOutput struct {
	Name    string      `json:"name"`
	Verdict string      `json:"verdict"`
	Change  *float64    `json:"change"`
	CI      *[2]float64 `json:"ci"`
	P       *float64    `json:"p"`
	Reason  string      `json:"reason,omitempty"`
}

// DefaultConfig is judge.DefaultConfig for one-shot lines: no α is kept for
// looks beyond the plan, since a line has no further look, and each metric
// is judged at the whole α, as lines always were.
func DefaultConfig() judge.Config {
	cfg := judge.DefaultConfig()
	cfg.OverrunShare, cfg.Multiplicity = 0, judge.PerMetric
	return cfg
}

// Decode parses one line strictly.
func Decode(line []byte) (Case, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return Case{}, errors.New("decode: empty line")
	}
	var c Case
	if err := strict(line, &c); err != nil {
		return Case{}, fmt.Errorf("decode: %w", err)
	}
	if c.ID == "" {
		return Case{}, errors.New(`decode: "id" is missing or empty`)
	}
	return c, nil
}

// strict decodes one JSON value into v: unknown fields and trailing data
// are errors.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the case object")
	}
	return nil
}

// Judge judges one input line (number n, from 1) and returns its output
// line without the newline. It never fails: problems become an error line.
func Judge(j Judges, n int, line []byte) []byte {
	out := judgeLine(j, line)
	if out.Error != "" {
		out.ID, out.Line = peekID(line), n
	}
	b, err := json.Marshal(out)
	if err != nil { // unreachable: every float is finite
		b, _ = json.Marshal(Output{Line: n, Error: "encode: " + err.Error()})
	}
	return b
}

func judgeLine(j Judges, line []byte) Output {
	c, err := Decode(line)
	if err != nil {
		return Output{Error: err.Error()}
	}
	id, _ := json.Marshal(c.ID)
	metrics, err := c.JudgeMetrics()
	if err != nil {
		return Output{ID: id, Error: err.Error()}
	}
	jj, look := j.Line, judge.Look{Planned: 1, Index: 1} // a line is a one-shot judgement
	if c.Look != nil {
		jj, look = j.Replay, judge.Look{Planned: c.Look.Planned, Index: c.Look.Index}
	}
	rep, err := jj.JudgeAt(look, metrics)
	if err != nil {
		return Output{ID: id, Error: err.Error()}
	}
	return Encode(id, rep)
}

// JudgeMetrics decodes each metric's data for its kind.
func (c Case) JudgeMetrics() ([]judge.Metric, error) {
	out := make([]judge.Metric, len(c.Metrics))
	for i, m := range c.Metrics {
		jm, err := m.judgeMetric()
		if err != nil {
			return nil, fmt.Errorf("decode: metrics[%d] (%s): %w", i, m.Name, err)
		}
		out[i] = jm
	}
	return out, nil
}

func (m Metric) judgeMetric() (judge.Metric, error) {
	jm := judge.Metric{Name: m.Name, Kind: judge.Kind(m.Kind), Direction: judge.Direction(m.Direction),
		Tolerance: m.Tolerance, Critical: m.Critical}
	if jm.Kind != judge.KindHistogram && (m.Quantile != 0 || m.Le != nil) {
		return jm, errors.New(`"quantile" and "le" belong to a histogram`)
	}
	switch jm.Kind {
	case judge.KindRatio:
		r := &judge.Ratio{}
		if err := side(m.Baseline, &r.Baseline, "baseline"); err != nil {
			return jm, err
		}
		if err := side(m.Canary, &r.Canary, "canary"); err != nil {
			return jm, err
		}
		jm.Ratio = r
	case judge.KindHistogram:
		h := &judge.Histogram{Quantile: m.Quantile}
		for _, le := range m.Le {
			v, err := strconv.ParseFloat(le, 64)
			if err != nil {
				return jm, fmt.Errorf("le %q is not a bucket bound", le)
			}
			h.Le = append(h.Le, v)
		}
		if err := side(m.Baseline, &h.Baseline, "baseline"); err != nil {
			return jm, err
		}
		if err := side(m.Canary, &h.Canary, "canary"); err != nil {
			return jm, err
		}
		jm.Histogram = h
	default:
		if err := side(m.Baseline, &jm.Baseline, "baseline"); err != nil {
			return jm, err
		}
		if err := side(m.Canary, &jm.Canary, "canary"); err != nil {
			return jm, err
		}
	}
	return jm, nil
}

// side decodes one side's data strictly; absent or null is no data.
func side(raw json.RawMessage, v any, name string) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if err := strict(raw, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Line writes the line that replays a look of the engine: the metrics as
// the judge was given them, at look index of planned. Histogram bounds are
// written as Prometheus writes them.
func Line(id string, index, planned int, metrics []judge.Metric) ([]byte, error) {
	c := Case{ID: id, Look: &Look{Index: index, Planned: planned}}
	for _, m := range metrics {
		wm := Metric{Name: m.Name, Kind: string(m.Kind), Direction: string(m.Direction), Tolerance: m.Tolerance, Critical: m.Critical}
		var base, can any = m.Baseline, m.Canary
		switch {
		case m.Ratio != nil:
			base, can = m.Ratio.Baseline, m.Ratio.Canary
		case m.Histogram != nil:
			wm.Quantile = m.Histogram.Quantile
			for _, le := range m.Histogram.Le {
				wm.Le = append(wm.Le, strconv.FormatFloat(le, 'g', -1, 64))
			}
			base, can = m.Histogram.Baseline, m.Histogram.Canary
		}
		var err error
		if wm.Baseline, err = json.Marshal(base); err != nil {
			return nil, fmt.Errorf("encode %s: %w", m.Name, err)
		}
		if wm.Canary, err = json.Marshal(can); err != nil {
			return nil, fmt.Errorf("encode %s: %w", m.Name, err)
		}
		c.Metrics = append(c.Metrics, wm)
	}
	return json.Marshal(c)
}

// Encode turns a report into an output line's value.
func Encode(id json.RawMessage, rep judge.Report) Output {
	out := Output{ID: id, Decision: string(rep.Decision), Metrics: make([]MetricOutput, len(rep.Metrics))}
	for i, r := range rep.Metrics {
		mo := MetricOutput{Name: r.Name, Verdict: string(r.Verdict)}
		if r.Verdict == judge.NoData {
			mo.Reason = r.Reason
		} else {
			mo.Change, mo.P = finite(r.Change), finite(r.P)
			if lo, hi := finite(r.CI[0]), finite(r.CI[1]); lo != nil && hi != nil {
				mo.CI = &[2]float64{*lo, *hi}
			}
		}
		out.Metrics[i] = mo
	}
	return out
}

// finite returns a pointer to x rounded to 6 significant digits (stable
// across platforms, and more than the statistics are worth), or nil (JSON
// null) when x is not finite.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return &r
}

// peekID reads the id of a line that failed, if the line starts with a
// valid JSON object that has one.
func peekID(line []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	err := json.NewDecoder(bytes.NewReader(line)).Decode(&probe)
	if err != nil || len(probe.ID) == 0 || bytes.Equal(probe.ID, []byte("null")) {
		return nil
	}
	return probe.ID
}
