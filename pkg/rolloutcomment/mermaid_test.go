package rolloutcomment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/needs"
)

// checker is tools/mermaid-check, which parses Mermaid with Mermaid itself.
const checker = "../../tools/mermaid-check"

// parsedBlock is what the checker reports of one Mermaid block.
type parsedBlock struct {
	File  string
	Block int
	Type  string
	Error string
	Title string
	XAxis struct {
		Type, Title string
		Min, Max    float64
	}
	YAxis struct{ Min, Max float64 }
	Plots []struct {
		Type   string
		Points int
	}
	Config struct {
		ThemeVariables struct {
			XYChart struct{ PlotColorPalette string }
		}
	}
}

// TestMermaidParses renders the golden views, hostile names and awkward
// values, and has Mermaid's own parser read every chart: each must be an
// xychart with the title the renderer meant, two lines of equal length and
// the two colours the legend names.
func TestMermaidParses(t *testing.T) {
	node := requireChecker(t)
	dir := t.TempDir()
	titles := map[string][]string{}
	write := func(name string, v View) {
		path := filepath.Join(dir, name+".md")
		require.NoError(t, os.WriteFile(path, []byte(Status(v)), 0o644))
		for _, m := range v.Analysis.Metrics {
			if _, why := bucket(v.Analysis.Since, m.BaselineSeries, m.CanarySeries, MaxChartPoints); why == "" {
				titles[path] = append(titles[path], mermaidTitle(m.Name))
			}
		}
	}
	for name, v := range map[string]View{"analysing": analysing(), "rolled_back": rolledBack(), "waiting": waiting(),
		"promoted": promoted()} {
		write(name, v)
	}
	for i, name := range []string{"\"]\nclick A call alert()", "</details><img src=x onerror=alert(1)>", "@org/team",
		"```\n%%{init: {\"securityLevel\": \"loose\"}}%%", "`x`", "title x\ny-axis 0 --> 1", "a;b", "#quot; &amp;", "日本語",
		"accTitle: x", "--> 5", "\\\"", strings.Repeat("é", 500)} {
		v := analysing()
		v.Analysis.Metrics[0].Name = name
		write(fmt.Sprintf("hostile-%d", i), v)
	}
	for i, level := range []float64{0, 1e-9, 1e14, -5, 0.5, 123456789, math.SmallestNonzeroFloat64} {
		v := analysing()
		since := v.Analysis.Since
		v.Analysis.Metrics[0].BaselineSeries = every(since, 7*time.Second, 3000, func(j int) float64 { return level * float64(1+j%3) })
		v.Analysis.Metrics[0].CanarySeries = every(since, 11*time.Second, 1000, func(j int) float64 { return level * float64(j%2) })
		write(fmt.Sprintf("values-%d", i), v)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	require.NoError(t, err)
	blocks := runChecker(t, node, files)
	seen := map[string][]string{}
	for _, b := range blocks {
		require.Empty(t, b.Error, "%s block %d does not parse", b.File, b.Block)
		assert.Equal(t, "xychart", b.Type)
		seen[b.File] = append(seen[b.File], b.Title)
		require.Len(t, b.Plots, 2, b.File)
		assert.Equal(t, b.Plots[0].Points, b.Plots[1].Points, "both lines share the x axis")
		assert.GreaterOrEqual(t, b.Plots[0].Points, 2)
		assert.LessOrEqual(t, b.Plots[0].Points, MaxChartPoints)
		assert.Equal(t, "linear", b.XAxis.Type)
		assert.Zero(t, b.XAxis.Min)
		assert.Less(t, b.YAxis.Min, b.YAxis.Max, b.File)
		assert.Equal(t, baselineColour+", "+canaryColour, b.Config.ThemeVariables.XYChart.PlotColorPalette)
	}
	for _, f := range files {
		assert.Equal(t, titles[f], seen[f], "the titles of %s", f)
	}
}

// requireChecker returns node's path, or skips (fails under CI) when the
// checker's packages are not installed.
func requireChecker(t *testing.T) string {
	t.Helper()
	const install = "install node and run `npm ci` in tools/mermaid-check"
	node := needs.Command(t, "node", install)
	if _, err := os.Stat(filepath.Join(checker, "node_modules", "mermaid")); err != nil {
		needs.Missing(t, "the npm package mermaid", install, err)
	}
	return node
}

func runChecker(t *testing.T, node string, files []string) []parsedBlock {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), node, append([]string{filepath.Join(checker, "check.js")}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var blocks []parsedBlock
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var b parsedBlock
		require.NoError(t, json.Unmarshal(sc.Bytes(), &b), sc.Text())
		blocks = append(blocks, b)
	}
	for _, b := range blocks {
		require.Empty(t, b.Error, "%s block %d does not parse", b.File, b.Block)
	}
	require.NoError(t, err, "check.js: %s", stderr.String())
	require.NotEmpty(t, blocks, "the checker found no chart")
	return blocks
}
