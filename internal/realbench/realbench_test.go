package realbench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/metrics"
)

// TestShort is a bounded run of the real-data benchmark: a real Prometheus
// scraping the test exporter for two and a half minutes, A/A and doubled errors at
// both splits, judged through the engine's code. It checks what a run this
// small can tell apart; the full measurement is cmd/realbench.
func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("records two and a half minutes of traffic")
	}
	if _, err := exec.LookPath("prometheus"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("SKIPPED, NOT TESTED: realbench: a real Prometheus is needed (Debian: apt-get install -y prometheus)")
	}
	opts := DefaultOptions()
	opts.Pairs, opts.Record, opts.Dir = 10, 150*time.Second, t.TempDir()
	all := Scenarios()
	opts.Scenarios = []Scenario{all[0], all[1], all[5], all[6], all[7], all[11]}
	opts.Logf = t.Logf
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, res.WriteMarkdown(&b))
	t.Log("\n" + b.String())
	for _, sc := range opts.Scenarios {
		c := res.Cells[Key{sc.Name, "ratio + histogram"}]
		require.GreaterOrEqual(t, c.Windows, 10, sc.Name)
		if sc.AA {
			assert.LessOrEqual(t, c.Rollbacks, 1, "%s: A/A rolled back", sc.Name)
			assert.Zero(t, c.Paused, "%s: an A/A stage paused", sc.Name)
		}
	}
	for _, name := range []string{"errors 0.5 % -> 2 %, equal traffic"} {
		assert.GreaterOrEqual(t, res.Cells[Key{name, "ratio"}].Rate(), 0.95, name)
	}
	assert.Contains(t, res.Refused, "a look needs 10 to fail")
}

// TestSimulated records with the fake Prometheus in simulated time: no
// scrape fails, the query plans are left out, and doubled errors are
// caught.
func TestSimulated(t *testing.T) {
	opts := DefaultOptions()
	opts.Pairs, opts.Record, opts.Simulated = 4, 150*time.Second, true
	all := Scenarios()
	opts.Scenarios = []Scenario{all[0], all[5]}
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	assert.NotContains(t, res.Judges, "query p99 [5s]", "the fake answers no query")
	assert.Contains(t, res.Judges, "ratio + histogram")
	for _, sc := range opts.Scenarios {
		c := res.Cells[Key{sc.Name, "ratio"}]
		assert.Equal(t, 8, c.Windows, sc.Name)
		assert.Zero(t, c.Gaps, "%s: a simulated scrape never fails", sc.Name)
	}
	assert.Equal(t, 1.0, res.Cells[Key{all[5].Name, "ratio"}].Rate(), "errors 0.5 %% -> 2 %% at 400 requests/s")
	var b bytes.Buffer
	require.NoError(t, res.WriteMarkdown(&b))
	assert.Contains(t, b.String(), "by the fake Prometheus in simulated time, seed 1")
}

// A simulated recording is the seed's: the same counts again, other
// counts with another seed.
func TestSimulatedRecordingIsTheSeeds(t *testing.T) {
	opts := DefaultOptions()
	opts.Record, opts.Simulated = 30*time.Second, true
	counts := func(seed uint64) []float64 {
		opts.Seed = seed
		rec, err := recordSimulated(context.Background(), opts, pairs(opts, Scenarios()[:1]), t.Logf)
		require.NoError(t, err)
		defer rec.close()
		p, err := metrics.NewPrometheus(rec.url, 10*time.Second)
		require.NoError(t, err)
		in, err := p.Counts(context.Background(), metrics.CountQuery{Selector: `model_requests_total{model="{{.Model}}",version="{{.Version}}"}`,
			Model: model(0, 0), Version: canaryVersion, Start: rec.from, Slice: time.Second, Slices: 20})
		require.NoError(t, err)
		return in.Groups[""]
	}
	first := counts(1)
	assert.InEpsilon(t, 400*20, sum(first), 0.35, "400 requests a second, ±30 % of drift")
	assert.Equal(t, first, counts(1))
	assert.NotEqual(t, first, counts(2))
}
