package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"

	"github.com/modelgate/modelgate/pkg/inventory"
	"github.com/modelgate/modelgate/pkg/report"
)

const (
	example = "../testdata/example"
	broken  = "../testdata/broken"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"clean repository", []string{"validate", example}, exitOK, ""},
		{"findings", []string{"validate", broken}, exitFindings, ""},
		{"flags after the directory", []string{"validate", example, "--format", "json"}, exitOK, ""},
		{"no command", nil, exitUsage, "usage"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"validate", "--nope"}, exitUsage, "flag provided but not defined"},
		{"unknown format", []string{"validate", "--format", "xml", example}, exitUsage, `unknown format "xml"`},
		{"two directories", []string{"validate", example, broken}, exitUsage, "expected one directory"},
		{"missing directory", []string{"validate", "no/such/dir"}, exitUsage, "open repository"},
		{"bad glob", []string{"validate", "--manifests", "[", example}, exitUsage, "not a valid glob"},
		{"lineage of an unknown model", []string{"lineage", "--model", "nope@1.0.0", example}, exitUsage, `no model version "nope@1.0.0"`},
		{"lineage unknown format", []string{"lineage", "--format", "png", example}, exitUsage, "unknown format"},
		{"inventory unknown format", []string{"inventory", "--format", "csv", example}, exitUsage, "unknown format"},
		{"help", []string{"validate", "-h"}, exitOK, "-format"},
		{"version", []string{"version"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, stderr, tt.err)
		})
	}
}

func TestValidateText(t *testing.T) {
	_, out, _ := runCLI("validate", broken)
	golden.Assert(t, "broken.txt", out)
	_, out, _ = runCLI("validate", example)
	golden.Assert(t, "example.txt", out)
}

func validateJSON(t *testing.T, args ...string) report.JSONReport {
	t.Helper()
	code, out, stderr := runCLI(append([]string{"validate", "--format", "json"}, args...)...)
	require.Equal(t, exitFindings, code, stderr)
	var rep report.JSONReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, report.JSONVersion, rep.Version)
	assert.False(t, rep.Passed)
	for _, f := range rep.Findings {
		assert.NotEmpty(t, f.File, f.Message)
		assert.Positive(t, f.Line, f.Message)
	}
	return rep
}

func TestValidateJSON(t *testing.T) {
	rep := validateJSON(t, broken)
	at := map[string]bool{}
	for _, f := range rep.Findings {
		at[fmt.Sprintf("%s %s:%d", f.Rule, f.File, f.Line)] = true
	}
	for _, want := range []string{
		"syntax models/bad-yaml/1.0.0/model.yaml:7",
		"modelgate.lineage.deny_cycle models/cycle-a/1.0.0/model.yaml:9",
		"modelgate.lineage.deny_mismatch models/mismatch/1.0.0/lineage.json:2",
		"modelgate.lineage.deny_unknown_parent models/mismatch/1.0.0/lineage.json:4",
		"modelgate.lineage.deny_checksum models/mismatch/1.0.0/lineage.json:7",
	} {
		assert.True(t, at[want], "missing %s", want)
	}

	// Without policies nothing judges the lineage graph's facts: only the
	// files and the schema are checked.
	bare := validateJSON(t, "--no-default-policy", broken)
	assert.Equal(t, report.Summary{Manifests: 10, Models: 7, Errors: 7}, bare.Summary)
}

func TestLineage(t *testing.T) {
	for _, format := range []string{"mermaid", "dot"} {
		code, out, stderr := runCLI("lineage", example, "--format", format)
		require.Equal(t, exitOK, code, stderr)
		golden.Assert(t, "example-lineage."+format, out)
	}
	code, out, _ := runCLI("lineage", example, "--model", "support-router@0.4.0")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "text-encoder")
	assert.NotContains(t, out, "churn-predictor")
}

func TestInventoryAgesFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(example)))
	gitRun := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	gitRun("init", "-q")
	gitRun("add", ".")
	gitRun("commit", "-qm", "models")

	code, out, stderr := runCLI("inventory", dir, "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rows []inventory.Row
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 7)
	for _, r := range rows {
		require.NotNil(t, r.Added, r.Model)
		assert.Equal(t, "2024-01-01T00:00:00Z", r.Added.UTC().Format("2006-01-02T15:04:05Z07:00"))
		assert.Positive(t, *r.AgeDays)
	}
	assert.Equal(t, "fraud-detector", rows[3].Model)
	assert.Equal(t, []string{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, rows[3].Parents)

	code, out, _ = runCLI("inventory", example)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "| fraud-detector | 3.2.0 | staging | risk-ml@example.com | high |")
}

func TestFailFlags(t *testing.T) {
	warns := []string{"--no-default-policy", "--policy", policies + "/conftest", "--data", policies + "/tasks.yaml", example}
	validate := func(flags ...string) []string { return append(append([]string{"validate"}, flags...), warns...) }
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"warnings pass by default", validate(), exitOK, ""},
		{"--fail-on-warn", validate("--fail-on-warn"), exitFindings, ""},
		{"--fail-on warning", validate("--fail-on", "warning"), exitFindings, ""},
		{"--no-fail", []string{"validate", "--no-fail", broken}, exitOK, ""},
		{"--no-fail wins over --fail-on-warn", []string{"validate", "--no-fail", "--fail-on-warn", broken}, exitOK, ""},
		{"--fail-on never", []string{"validate", "--fail-on", "never", broken}, exitOK, ""},
		{"--fail-on bogus", []string{"validate", "--fail-on", "bogus", broken}, exitUsage, `--fail-on: "bogus" is not one of error, warning, never`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, stderr, tt.err)
		})
	}
}

func TestUnknownFlagSaysSoOnce(t *testing.T) {
	for _, cmd := range []string{"validate", "lineage", "inventory", "verify"} {
		code, _, stderr := runCLI(cmd, "--nope")
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, 1, strings.Count(stderr, "flag provided but not defined: -nope"), stderr)
	}
}

func TestPrintAndTrace(t *testing.T) {
	code, out, stderr := runCLI("validate", "--no-default-policy", "--policy", policies+"/debug", "--manifests", "models/fraud-detector/3.2.0/model.yaml", example)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "testdata/policies/debug/debug.rego:4: checking fraud-detector\n", stderr, "print() goes to standard error, as conftest shows it")
	assert.NotContains(t, out, "checking")

	code, _, stderr = runCLI("validate", "--trace", "--no-default-policy", "--policy", policies+"/debug", "--manifests", "models/fraud-detector/3.2.0/model.yaml", example)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "trace of models/fraud-detector/3.2.0/model.yaml (fraud-detector@3.2.0):\n")
	assert.Contains(t, stderr, "Enter data.main.warn")
}

// TestGitHubFormat writes workflow annotations from the CLI, the files
// named from the working directory, where a workflow step runs.
func TestGitHubFormat(t *testing.T) {
	t.Chdir("..")
	code, out, stderr := runCLI("validate", "--format", "github", "testdata/broken")
	require.Equal(t, exitFindings, code, stderr)
	assert.Contains(t, out, "::error col=1,file=testdata/broken/models/bad-yaml/1.0.0/model.yaml,line=7,title=modelgate%3A syntax")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		assert.True(t, strings.HasPrefix(line, "::"), "only workflow commands: %q", line)
	}
}

func TestToolVersion(t *testing.T) {
	assert.NotEmpty(t, toolVersion())
	old := version
	version = "2.0.1"
	defer func() { version = old }()
	assert.Equal(t, "2.0.1", toolVersion(), "the version set at build time wins")
}
