package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJudgeCommand(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("..", "pkg", "judge", "jsonl", "testdata", "cases.jsonl"))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join("..", "pkg", "judge", "jsonl", "testdata", "cases.golden"))
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"judge"}, bytes.NewReader(in), &stdout, &stderr)
	assert.Equal(t, 1, code, "two lines of the fixture are errors")
	assert.Equal(t, string(want), stdout.String())
	assert.Contains(t, stderr.String(), "2 line(s) could not be judged")
}

func TestJudgeLines(t *testing.T) {
	good := `{"id":"ok","metrics":[{"name":"m","direction":"increase_is_bad","tolerance":0.1,"baseline":[1,2,3,4,5],"canary":[1,2,3,4,6]}]}`
	tests := []struct {
		name  string
		input string
		lines []string // substrings, one per output line
		code  int
	}{
		{"empty input", "", nil, 0},
		{"one line without newline", good, []string{`"id":"ok","decision":"pass"`}, 0},
		{"CRLF", good + "\r\n" + good + "\r\n", []string{`"id":"ok"`, `"id":"ok"`}, 0},
		{"blank line in the middle", good + "\n\n" + good + "\n", []string{`"id":"ok"`, `"line":2,"error":"decode: empty line"`, `"id":"ok"`}, 1},
		{"too long line is skipped", good + "\n" + `{"id":"long","metrics":[` + strings.Repeat("1,", 600) + "1]}\n" + good,
			[]string{`"id":"ok"`, `{"line":2,"error":"line longer than 1000 bytes (see -max-line)"}`, `"id":"ok"`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runJudge(context.Background(), []string{"-max-line", "1000"},
				iotest.OneByteReader(strings.NewReader(tt.input)), &stdout, &stderr)
			assert.Equal(t, tt.code, code, stderr.String())
			got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(tt.lines) == 0 {
				assert.Empty(t, stdout.String())
				return
			}
			require.Len(t, got, len(tt.lines), stdout.String())
			for i, want := range tt.lines {
				assert.Contains(t, got[i], want)
				assert.True(t, json.Valid([]byte(got[i])), got[i])
			}
		})
	}
}

func TestJudgeUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-confidence", "1.5"}, "confidence 1.5"},
		{[]string{"-pass", "50", "-marginal", "60"}, "scores"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runJudge(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestJudgeHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, runJudge(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: bot judge")
	assert.Contains(t, stderr.String(), "-max-line")
}

func TestJudgeReadErrorAndCancel(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runJudge(context.Background(), nil, iotest.ErrReader(io.ErrClosedPipe), &stdout, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "read line 1: io: read/write on closed pipe")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stderr.Reset()
	code = runJudge(ctx, nil, strings.NewReader("{}\n"), &stdout, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "context canceled")
}

// cases returns n JSON lines of realistic cases: two metrics, 100 samples
// per side each (the size of a 100-interval window).
func cases(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	side := func(median, sigma float64) string {
		var b strings.Builder
		for i := range 100 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%.3f", median*math.Exp(sigma*r.NormFloat64()))
		}
		return b.String()
	}
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"id":"c%d","metrics":[`+
			`{"name":"latency_p99_ms","direction":"increase_is_bad","tolerance":0.05,"critical":true,"baseline":[%s],"canary":[%s]},`+
			`{"name":"f1","direction":"decrease_is_bad","tolerance":0.005,"critical":false,"baseline":[%s],"canary":[%s]}]}`+"\n",
			i, side(100, 0.12), side(100+float64(i%3)*5, 0.12), side(0.9, 0.01), side(0.9, 0.01))
	}
	return b.Bytes()
}

// BenchmarkJudge10k judges 10,000 cases through the `bot judge` path.
func BenchmarkJudge10k(b *testing.B) {
	in := cases(10_000)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		var stderr bytes.Buffer
		if code := runJudge(context.Background(), nil, bytes.NewReader(in), io.Discard, &stderr); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}
