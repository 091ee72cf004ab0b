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
// A line is a one-shot judgement: the only look of its plan (judge.Look
// {Planned: 1, Index: 1}), so each metric gets a fixed-sample one-sided
// test, its p-value and its confidence interval; DefaultConfig spends the
// whole α on that look.
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
	Metrics []Metric `json:"metrics"`
}

// Metric is one metric of a case, as in the rollout plan plus samples.
type Metric struct {
	Name      string    `json:"name"`
	Direction string    `json:"direction"`
	Tolerance float64   `json:"tolerance"`
	Critical  bool      `json:"critical"`
	Baseline  []float64 `json:"baseline"`
	Canary    []float64 `json:"canary"`
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
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Case{}, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Case{}, errors.New("decode: trailing data after the case object")
	}
	if c.ID == "" {
		return Case{}, errors.New(`decode: "id" is missing or empty`)
	}
	return c, nil
}

// Judge judges one input line (number n, from 1) and returns its output
// line without the newline. It never fails: problems become an error line.
func Judge(j *judge.Judge, n int, line []byte) []byte {
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

func judgeLine(j *judge.Judge, line []byte) Output {
	c, err := Decode(line)
	if err != nil {
		return Output{Error: err.Error()}
	}
	id, _ := json.Marshal(c.ID)
	metrics := make([]judge.Metric, len(c.Metrics))
	for i, m := range c.Metrics {
		metrics[i] = judge.Metric{Name: m.Name, Direction: judge.Direction(m.Direction),
			Tolerance: m.Tolerance, Critical: m.Critical, Baseline: m.Baseline, Canary: m.Canary}
	}
	rep, err := j.JudgeAt(judge.Look{Planned: 1, Index: 1}, metrics) // a line is a one-shot judgement
	if err != nil {
		return Output{ID: id, Error: err.Error()}
	}
	return Encode(id, rep)
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
