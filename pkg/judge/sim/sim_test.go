package sim

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/judge"
)

var update = flag.Bool("update", false, "rewrite golden files")

func judges(t *testing.T) []Judge {
	t.Helper()
	ours, err := judge.New(judge.DefaultConfig())
	require.NoError(t, err)
	return []Judge{Ours{J: ours}, Ours{J: ours, Fallback: true}, NewKayenta(), MeanRule{}}
}

func pick(t *testing.T, names ...string) []Scenario {
	t.Helper()
	var out []Scenario
	for _, sc := range Scenarios() {
		for _, n := range names {
			if sc.Name == n {
				out = append(out, sc)
			}
		}
	}
	require.Len(t, out, len(names))
	return out
}

// TestSmoke is a small run of the accuracy benchmark at 100 samples per
// side: it keeps the targets honest in CI.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	opts := DefaultOptions()
	opts.Sizes, opts.Reps = []int{100}, 200
	scs := pick(t, "latency A/A outlier spikes (3 % x2-x10)", "error rate A/A 0.5 %, canary at 5 % traffic",
		"latency -10 %", "latency +10 %", "error rate 0.5 % -> 1 %")
	res, err := Run(context.Background(), opts, scs, judges(t))
	require.NoError(t, err)
	rate := func(sc, j string) float64 { return res.Cells[Key{sc, 100, j}].Rate(true) }
	for _, sc := range scs[:3] {
		assert.LessOrEqual(t, rate(sc.Name, oursName), 0.01, sc.Name)
	}
	for _, sc := range scs[3:] {
		assert.GreaterOrEqual(t, rate(sc.Name, oursName), 0.95, sc.Name)
	}
	assert.Greater(t, rate(scs[0].Name, kayentaName), rate(scs[0].Name, oursName),
		"kayenta-style rolls back more A/A canaries with spikes")
}

// TestOverlapIsNotHidden: on samples that overlap or drift, the judge fed
// them as independent draws rolls back unchanged canaries far beyond its
// α, and batch means (what the engine judges for a query) bring it back.
func TestOverlapIsNotHidden(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	ours, err := judge.New(judge.DefaultConfig())
	require.NoError(t, err)
	opts := DefaultOptions()
	opts.Sizes, opts.Reps = []int{60}, 300
	res, err := Run(context.Background(), opts, OverlapScenarios(), []Judge{Ours{J: ours}, Batched{Judge: Ours{J: ours}}, NewKayenta()})
	require.NoError(t, err)
	for _, sc := range OverlapScenarios() {
		raw := res.Cells[Key{sc.Name, 60, oursName}].Rate(true)
		batched := res.Cells[Key{sc.Name, 60, oursName + "+batch-means"}].Rate(true)
		t.Logf("%s: %.1f %% raw, %.1f %% batch means, kayenta %.1f %%", sc.Name, 100*raw, 100*batched,
			100*res.Cells[Key{sc.Name, 60, kayentaName}].Rate(true))
		assert.Greater(t, raw, 0.05, "%s: independent draws would hide this", sc.Name)
		assert.LessOrEqual(t, batched, 0.025, sc.Name)
	}
}

func TestMarkdownGolden(t *testing.T) {
	opts := DefaultOptions()
	opts.Sizes, opts.Reps = []int{10, 30}, 20
	res, err := Run(context.Background(), opts, pick(t, "latency A/A lognormal", "latency +25 %", "F1 -1 point"),
		judges(t), NewBound())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, res.WriteMarkdown(&b, true))
	require.NoError(t, res.WriteMarkdown(&b, false))
	require.NoError(t, res.WriteBoundMarkdown(&b))
	for _, c := range res.Targets() {
		b.WriteString(c.String() + "\n")
	}
	for _, line := range res.BoundSummary() {
		b.WriteString(line + "\n")
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())
}

func TestLookSizes(t *testing.T) {
	assert.Equal(t, []int{5, 6, 7, 8, 9, 10}, LookSizes(10, 10, 5))
	assert.Equal(t, []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, LookSizes(100, 10, 5))
	assert.Equal(t, []int{3}, LookSizes(3, 10, 5))
}

func TestPlannedLooks(t *testing.T) {
	at := func(n, k int) WindowLook { return WindowLook{N: n, Look: judge.Look{Planned: 10, Index: k}} }
	assert.Equal(t, []WindowLook{at(5, 5), at(6, 6), at(7, 7), at(8, 8), at(9, 9), at(10, 10)}, PlannedLooks(10, 10, 5))
	got := PlannedLooks(30, 10, 5)
	assert.Equal(t, at(6, 2), got[0], "look 1 (3 samples) is skipped but keeps its place")
	assert.Equal(t, at(30, 10), got[len(got)-1])
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, DefaultOptions(), Scenarios(), judges(t))
	require.ErrorIs(t, err, context.Canceled)
}

func TestKayentaIgnoresGoodDirection(t *testing.T) {
	base := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	low := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2}
	k := NewKayenta()
	m := judge.Metric{Name: "x", Direction: judge.IncreaseIsBad, Tolerance: 0.05, Baseline: base, Canary: low}
	assert.Equal(t, judge.DecisionPass, k.Decide([]judge.Metric{m}))
	m.Direction = judge.DecreaseIsBad
	assert.Equal(t, judge.DecisionFail, k.Decide([]judge.Metric{m}))
	assert.True(t, strings.HasPrefix(MeanRule{}.Name(), "mean"))
	assert.Equal(t, judge.DecisionFail, MeanRule{}.Decide([]judge.Metric{m}))
}
