package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
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
	pr2 := text[strings.Index(text, "── octo/models#2"):strings.Index(text, "── bot history")]
	assert.Contains(t, pr2, "deploy:rollback of fraud-detector 3.3.0 (baseline 3.2.0) in production: 0 % of the traffic")
	assert.Contains(t, pr2, "→ failure: latency_p99_ms +", "the failed stage's deployment says why")
	assert.Regexp(t, `(?m)^\| 3\.3\.0 \| 3\.2\.0 \| rolled back \| 5 % \|`, text, "the history table ends the drive")
	assert.Regexp(t, `(?m)^\| \*\*3\.2\.0\*\* \(live\) \| 3\.1\.0 \| promoted \| 100 % \|`, text)
	assert.NotContains(t, text, "<!--", "hidden markers stay hidden")
	assert.NotContains(t, text, "xychart-beta", "charts stay folded")
	assert.Empty(t, errOut.String(), "no request GitHub would refuse")
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
