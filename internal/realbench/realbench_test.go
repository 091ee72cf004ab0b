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
