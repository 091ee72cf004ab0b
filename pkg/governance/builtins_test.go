package governance

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
)

// TestFileBuiltins runs conftest's parse_config, parse_config_file and
// parse_combined_config_files, sandboxed in the repository: a path or a
// symbolic link out of it, a missing file and an unknown parser each fail
// the rule that called them, visibly.
func TestFileBuiltins(t *testing.T) {
	const repo = "testdata/builtins/repo"
	e := load(t, Options{PolicyDirs: []string{repo + "/policy"}, Repository: repo})
	got := byRule(evaluate(t, e, testDoc("m.yaml", nil)))
	assert.Empty(t, got["main.deny"], "risk@example.com is on the list read from conf/owners.yaml")
	assert.ElementsMatch(t, []string{
		"4 configurations: testdata/builtins/repo/conf/multi.yaml,testdata/builtins/repo/conf/multi.yaml,testdata/builtins/repo/conf/owners.yaml,testdata/builtins/repo/conf/teams.json",
		"inline team risk",
		"json 1.5",
	}, messagesOf(got["main.warn"]))
	assert.Empty(t, got[ErrorRule])

	other := testDoc("m.yaml", func(m map[string]any) { m["metadata"].(map[string]any)["owner"] = "eve@example.com" })
	assert.Equal(t, []string{"owner eve@example.com is not on the list"}, messagesOf(byRule(evaluate(t, e, other))["main.deny"]))

	for label, want := range map[string]string{
		"outside": "files.rego:25: eval_builtin_error: parse_config_file: testdata/builtins/outside.yaml is outside the repository",
		"link":    "files.rego:30: eval_builtin_error: parse_config_file: read testdata/builtins/repo/conf/link.yaml: openat conf/link.yaml: path escapes from parent",
		"missing": "files.rego:35: eval_builtin_error: parse_config_file: read testdata/builtins/repo/conf/nope.yaml: openat conf/nope.yaml: no such file",
		"toml":    `files.rego:40: eval_builtin_error: parse_config: parser "toml": modelgate parses json and yaml`,
	} {
		t.Run(label, func(t *testing.T) {
			doc := testDoc("m.yaml", func(m map[string]any) {
				m["metadata"].(map[string]any)["labels"] = map[string]any{label: "true"}
			})
			errs := byRule(evaluate(t, e, doc))[ErrorRule]
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Message, want)
			assert.Equal(t, finding.Error, errs[0].Severity)
		})
	}

	closed := load(t, Options{PolicyDirs: []string{repo + "/policy"}})
	errs := byRule(evaluate(t, closed, testDoc("m.yaml", nil)))[ErrorRule]
	require.NotEmpty(t, errs)
	assert.Contains(t, errs[0].Message, "no repository to read files from")
}

func messagesOf(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Message)
	}
	return out
}

func TestParseConfigText(t *testing.T) {
	v, err := parseConfigText("a.json", []byte("\xef\xbb\xbf{\"a\": 1}"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": json.Number("1")}, v)
	v, err = parseConfigText("a.yaml", []byte("pii: yes\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"pii": "yes"}, v, "YAML 1.2, as modelgate reads manifests")
	v, err = parseConfigText("a.yaml", nil)
	require.NoError(t, err)
	assert.Nil(t, v)
	_, err = parseConfigText("a.yaml", []byte("a: [\n"))
	assert.ErrorContains(t, err, "a.yaml: invalid YAML")
	_, err = parseConfigText("a.yaml", []byte("a: 1\n---\n? 1\n: y\n"))
	assert.ErrorContains(t, err, "a.yaml: key 1: object keys must be strings")
}

// TestAlias names the policies of an export (a base commit's, in a
// temporary directory) as the repository's own: in messages, and for the
// paths the file built-ins resolve.
func TestAlias(t *testing.T) {
	export := t.TempDir()
	require.NoError(t, os.CopyFS(export, os.DirFS("testdata/builtins/repo")))
	e := load(t, Options{
		PolicyDirs: []string{filepath.Join(export, "policy")},
		Repository: "testdata/builtins/repo",
		Alias:      map[string]string{export: "testdata/builtins/repo"},
	})
	got := byRule(evaluate(t, e, testDoc("m.yaml", nil)))
	assert.Empty(t, got[ErrorRule])
	assert.Contains(t, messagesOf(got["main.warn"]), "inline team risk")

	require.NoError(t, os.WriteFile(filepath.Join(export, "policy", "bad.rego"), []byte("package main\n\ndeny contains x if {\n"), 0o644))
	_, err := Load(context.Background(), Options{PolicyDirs: []string{filepath.Join(export, "policy")}, Alias: map[string]string{export: "."}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy/bad.rego:")
	assert.NotContains(t, err.Error(), export)
	_, err = Load(context.Background(), Options{PolicyDirs: []string{filepath.Join(export, "gone")}, Alias: map[string]string{export: "."}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gone: no such file or directory")
	assert.NotContains(t, err.Error(), export)
}

func TestRuleTexts(t *testing.T) {
	v1, err := RuleTexts("a.rego", []byte("package main\n\ndeny contains \"a\" if input.a\n\ndeny contains \"b\" if input.b\n\nlimit := 3\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"main.deny", "main.limit"}, slices.Sorted(maps.Keys(v1)))
	assert.Equal(t, 2, strings.Count(v1["main.deny"], "deny contains"), "both definitions")
	v0, err := RuleTexts("b.rego", []byte("package team.a\n\ndeny[msg] {\n\tinput.a\n\tmsg := \"a\"\n}\n"))
	require.NoError(t, err)
	assert.Contains(t, v0, "team.a.deny", "Rego v0, as Load reads it")
	_, err = RuleTexts("c.rego", []byte("package\n"))
	assert.ErrorContains(t, err, "parse c.rego")
}
