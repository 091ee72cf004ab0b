package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTestdrive(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"testdrive"}, nil, &out, &errOut)
	require.Equal(t, 0, code, "%s\n%s", errOut.String(), out.String())
	text := out.String()

	// The conversation, in the order it happens.
	inOrder(t, text,
		`── octo/models#1 "fraud-detector 3.2.0"`, "@alice commented", "/canary",
		"@modelgate[bot] reacted 👀", "Canary of `fraud-detector` `3.2.0` against `3.1.0` in `production` started",
		"created deployment", "deploy:canary of fraud-detector 3.2.0 (baseline 3.1.0) in production: 5 % of the traffic, stage 1",
		"deploy workflow shifted the traffic", "→ in_progress: analysing stage 1",
		"25 % of the traffic, stage 2", "deploy:promote of fraud-detector 3.2.0", "→ success: promoted to 100 %", "3.2.0 is promoted to 100 %",
		`── octo/models#2 "fraud-detector 3.3.0"`, "against `3.2.0` in `production` started", "rolled back at stage 1",
		"── bot history",
	)
	pr1 := text[strings.Index(text, "── octo/models#1"):strings.Index(text, "── octo/models#2")]
	pr2 := text[strings.Index(text, "── octo/models#2"):strings.Index(text, "── bot history")]
	assert.Contains(t, pr2, "deploy:rollback of fraud-detector 3.3.0 (baseline 3.2.0) in production: 0 % of the traffic")
	assert.Regexp(t, `→ failure: latency_p99 \+[23]\d\.\d %`, pr2, "the failed stage's deployment says why: 30 % slower")
	assert.Contains(t, pr2, `3.3.0 rolled back at stage 1 \(5 %\)&#58; latency\_p99 +`, "the notice says why")

	// The plan's three kinds of metric are judged on counts, and the
	// comment says how many requests each side served: the stage's share.
	for _, row := range []string{`| error\_rate *(critical)* | ↑ is bad | 50 % |`, `| latency\_p99 *(critical)* | ↑ is bad | 10 % |`,
		`| fraud\_alerts\_confirmed | ↓ is bad | 15 % |`} {
		assert.Contains(t, pr1, row)
		assert.Contains(t, pr2, row)
	}
	assert.Regexp(t, `\| latency\\_p99 \*\(critical\)\* .* \| \+[23]\d\.\d % \[.*\| ❌ fail`, pr2, "the slower version's p99 fails")
	assert.NotContains(t, pr1, "❌", "the healthy version fails nothing")
	assertShare(t, pr1, 25)
	assertShare(t, pr2, 5)
	assert.Regexp(t, `(?m)^\| 3\.3\.0 \| 3\.2\.0 \| rolled back \| 5 % \|`, text, "the history table ends the drive")
	assert.Regexp(t, `(?m)^\| \*\*3\.2\.0\*\* \(live\) \| 3\.1\.0 \| promoted \| 100 % \|`, text)
	assert.NotContains(t, text, "<!--", "hidden markers stay hidden")
	assert.NotContains(t, text, "xychart-beta", "charts stay folded")
	assert.Empty(t, errOut.String(), "no request GitHub would refuse")
}

// assertShare checks the requests counted in the text's last analysis:
// the canary served about traffic percent of them, and each side enough
// to judge (the drive's 200,000 requests a second over 2 s at least).
func assertShare(t *testing.T, text string, traffic float64) {
	t.Helper()
	counted := regexp.MustCompile(`\(baseline ([\d,]+), canary ([\d,]+) so far\)`).FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, counted, "the comment says how many requests were counted")
	last := counted[len(counted)-1]
	number := func(s string) float64 {
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		require.NoError(t, err)
		return f
	}
	base, canary := number(last[1]), number(last[2])
	assert.Greater(t, base+canary, 300_000.0, last[0])
	assert.InDelta(t, traffic, 100*canary/(base+canary), traffic/5, "the canary's share of the requests: %s", last[0])
}

func inOrder(t *testing.T, text string, parts ...string) {
	t.Helper()
	rest := text
	for _, p := range parts {
		i := strings.Index(rest, p)
		if !assert.GreaterOrEqual(t, i, 0, "%q, after what came before, in:\n%s", p, text) {
			return
		}
		rest = rest[i+len(p):]
	}
}

func TestTestdriveOutsideTheRepository(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.Chdir(wd) })
	require.NoError(t, os.Chdir(t.TempDir()))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"testdrive"}, nil, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Regexp(t, regexp.MustCompile(`bot testdrive runs in a clone of modelgate`), errOut.String())
}
