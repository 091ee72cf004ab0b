package jsonl

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/judge"
)

var update = flag.Bool("update", false, "rewrite golden files")

func newJudge(t testing.TB) Judges {
	t.Helper()
	j, err := NewJudges(DefaultConfig())
	require.NoError(t, err)
	return j
}

// TestGolden judges testdata/cases.jsonl, one case per kind of line, and
// compares with testdata/cases.golden.
func TestGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "cases.jsonl"))
	require.NoError(t, err)
	j := newJudge(t)
	var out bytes.Buffer
	for i, line := range bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n")) {
		res := Judge(j, i+1, line)
		require.True(t, json.Valid(res), "line %d: %s", i+1, res)
		require.NotContains(t, string(res), "\n")
		out.Write(append(res, '\n'))
	}
	golden := filepath.Join("testdata", "cases.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), out.String())
}

func TestErrorLines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want string
	}{
		{"empty line", "", `{"line":1,"error":"decode: empty line"}`},
		{"not JSON", "hello", `{"line":1,"error":"decode: invalid character 'h' looking for beginning of value"}`},
		{"NaN is not JSON", `{"id":"a","metrics":[{"baseline":[NaN]}]}`, `{"line":1,"error":"decode: invalid character 'N'`},
		{"unknown field", `{"id":"a","metric":[]}`, `{"id":"a","line":1,"error":"decode: json: unknown field \"metric\""}`},
		{"missing id", `{"metrics":[]}`, `{"line":1,"error":"decode: \"id\" is missing or empty"}`},
		{"numeric id echoed", `{"id":7,"metrics":[]}`, `{"id":7,"line":1,"error":"decode: json: cannot unmarshal number into Go struct field Case.id of type string"}`},
		{"trailing data", `{"id":"a","metrics":[]} {}`, `{"id":"a","line":1,"error":"decode: trailing data after the case object"}`},
		{"no metrics", `{"id":"a","metrics":[]}`, `{"id":"a","line":1,"error":"invalid metric: no metrics"}`},
		{"zero tolerance", `{"id":"a","metrics":[{"name":"m","direction":"increase_is_bad","tolerance":0,"baseline":[1],"canary":[1]}]}`,
			`{"id":"a","line":1,"error":"invalid metric: metric \"m\": tolerance 0: must be a positive relative change (0.05 = 5 %)"}`},
		{"unknown direction", `{"id":"a","metrics":[{"name":"m","direction":"up","tolerance":0.1}]}`, `direction \"up\"`},
		{"overflowing number", `{"id":"a","metrics":[{"name":"m","baseline":[1e400]}]}`,
			`"id":"a","line":1,"error":"decode: metrics[0] (m): baseline: json: cannot unmarshal number 1e400`},
		{"ratio with samples", `{"id":"a","metrics":[{"name":"m","kind":"ratio","baseline":[1,2]}]}`,
			`"error":"decode: metrics[0] (m): baseline: json: cannot unmarshal array into Go value of type judge.Counts"`},
		{"ratio with an unknown field", `{"id":"a","metrics":[{"name":"m","kind":"ratio","baseline":{"errors":[1],"requests":[2]}}]}`,
			`"error":"decode: metrics[0] (m): baseline: json: unknown field \"requests\""`},
		{"quantile of a ratio", `{"id":"a","metrics":[{"name":"m","kind":"ratio","quantile":0.9}]}`,
			`"error":"decode: metrics[0] (m): \"quantile\" and \"le\" belong to a histogram"`},
		{"bad le", `{"id":"a","metrics":[{"name":"m","kind":"histogram","quantile":0.9,"le":["0.1","fast"]}]}`,
			`"error":"decode: metrics[0] (m): le \"fast\" is not a bucket bound"`},
		{"look 0", `{"id":"a","look":{"index":0,"planned":6},"metrics":[{"name":"m","direction":"increase_is_bad","tolerance":0.1}]}`,
			`"error":"invalid look: look 0 of 6: looks count from 1"`},
		{"unknown kind", `{"id":"a","metrics":[{"name":"m","kind":"gauge","direction":"increase_is_bad","tolerance":0.1}]}`,
			`kind \"gauge\"`},
	}
	j := newJudge(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Judge(j, 1, []byte(tt.line)))
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, "decision")
		})
	}
}

// TestLineReplays writes a look's metrics as a line and judges it back:
// the same report as the engine's judge gave.
func TestLineReplays(t *testing.T) {
	j := newJudge(t)
	metrics := []judge.Metric{
		{Name: "error_rate", Kind: judge.KindRatio, Direction: judge.IncreaseIsBad, Tolerance: 0.05, Critical: true,
			Ratio: &judge.Ratio{Baseline: judge.Counts{Errors: []float64{3, 5, 2}, Total: []float64{1200, 1180, 1210}},
				Canary: judge.Counts{Errors: []float64{4, 6, 5}, Total: []float64{61, 58, 60}}}},
		{Name: "latency_p99", Kind: judge.KindHistogram, Direction: judge.IncreaseIsBad, Tolerance: 0.05,
			Histogram: &judge.Histogram{Quantile: 0.99, Le: []float64{0.05, 0.1, 0.25, math.Inf(1)},
				Baseline: judge.Buckets{{900, 250, 40, 1}, {880, 260, 45, 2}}, Canary: judge.Buckets{{41, 15, 3, 0}, {44, 12, 2, 1}}}},
		{Name: "gpu_memory_mb", Direction: judge.IncreaseIsBad, Tolerance: 0.1,
			Baseline: []float64{100, 101, 99, 100, 102}, Canary: []float64{100, 103, 99, 101, 100}},
	}
	line, err := Line("rollout-7/stage-1/look-3", 3, 6, metrics)
	require.NoError(t, err)
	assert.Contains(t, string(line), `"look":{"index":3,"planned":6}`)
	assert.Contains(t, string(line), `"le":["0.05","0.1","0.25","+Inf"]`)
	want, err := j.Replay.JudgeAt(judge.Look{Index: 3, Planned: 6}, metrics)
	require.NoError(t, err)
	wantLine, err := json.Marshal(Encode(json.RawMessage(`"rollout-7/stage-1/look-3"`), want))
	require.NoError(t, err)
	assert.Equal(t, string(wantLine), string(Judge(j, 1, line)))
}

func FuzzJudge(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("testdata", "cases.jsonl"))
	require.NoError(f, err)
	for _, line := range bytes.Split(seeds, []byte("\n")) {
		f.Add(line)
	}
	f.Add([]byte(`{"id":"x","metrics":[{"name":"m","direction":"decrease_is_bad","tolerance":0.5,"baseline":[0,0,0,0,0],"canary":[1,0,0,0,0]}]}`))
	j := newJudge(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		out := Judge(j, 3, line)
		if !json.Valid(out) || bytes.ContainsAny(out, "\n\r") {
			t.Fatalf("output is not one JSON line: %q", out)
		}
		var o Output
		if err := json.Unmarshal(out, &o); err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		if (o.Error == "") == (o.Decision == "") {
			t.Fatalf("want exactly one of decision and error: %s", out)
		}
		if o.Error != "" && o.Line != 3 {
			t.Fatalf("error line without its number: %s", out)
		}
		if _, err := Decode(line); err == nil && o.Error == "" && len(o.ID) == 0 {
			t.Fatalf("judged line lost its id: %s", out)
		}
	})
}
