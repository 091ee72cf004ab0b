package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// inputFile is a policy input stored as JSON, with the positions a
// manifest parser would have recorded.
type inputFile struct {
	File      string         `json:"file"`
	Model     string         `json:"model"`
	Positions fakeLocator    `json:"positions"`
	Manifest  map[string]any `json:"manifest"`
	Extra     map[string]any `json:"extra"`
}

// readDocument builds a Document the way the action does: the manifest as
// input and in the context beside the extra fields, numbers as json.Number.
func readDocument(t testing.TB, name string) Document {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "inputs", name))
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var f inputFile
	require.NoError(t, dec.Decode(&f))
	ctx := maps.Clone(f.Extra)
	if ctx == nil {
		ctx = map[string]any{}
	}
	ctx["manifest"] = f.Manifest
	ctx["file"] = f.File
	return Document{File: f.File, Model: f.Model, Input: f.Manifest, Context: ctx, Locator: manifestLocator{f.Manifest, f.Positions}}
}

func TestDefaultBundleRules(t *testing.T) {
	e := load(t, Options{DefaultBundle: true})
	for _, r := range e.rules {
		assert.NotEmpty(t, r.title, "%s has no METADATA title", r.id)
		assert.NotEmpty(t, r.desc, "%s has no METADATA description", r.id)
		assert.True(t, strings.HasPrefix(r.id, "modelgate."), r.id)
		assert.NotEqual(t, AuthzNamespace, r.namespace)
	}
	assert.Len(t, e.rules, 33)
}

func TestDefaultBundleGolden(t *testing.T) {
	e := load(t, Options{DefaultBundle: true})
	got := evaluate(t, e, readDocument(t, "bad.json"))
	finding.Sort(got)
	out, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "golden", "bad.findings.json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, append(out, '\n'), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(out))
}

func TestDefaultBundleWithUserPoliciesAndData(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "thresholds.yaml"), []byte(`
modelgate:
  config:
    thresholds:
      high:
        f1: {min: 0.5}
        latency_p99_ms: {max: 1000}
`), 0o644))
	e := load(t, Options{
		DefaultBundle: true,
		PolicyDirs:    []string{"testdata/conftest"},
		DataFiles:     []string{filepath.Join(dir, "thresholds.yaml")},
	})
	rules := byRule(evaluate(t, e, readDocument(t, "bad.json")))
	assert.Empty(t, rules["modelgate.metrics.deny_below_min"], "the user's data overrides the default threshold")
	assert.Empty(t, rules["modelgate.metrics.deny_above_max"])
	assert.Len(t, rules["modelgate.metrics.warn_missing"], 2, "the default data the user kept still applies")
	assert.NotEmpty(t, rules["main.warn"], "user namespaces are evaluated with the default bundle")
}

func TestAuthorize(t *testing.T) {
	request := func(permission string, approvals int) map[string]any {
		doc := readDocument(t, "bad.json")
		return map[string]any{
			"command":      map[string]any{"name": "promote", "args": []any{}, "model": "churn", "environment": "production"},
			"commenter":    map[string]any{"login": "bob", "permission": permission},
			"manifest":     doc.Input,
			"pull_request": map[string]any{"number": 12, "author": "carol", "approvals": approvals, "draft": false},
			"rollout":      map[string]any{"stage": 0, "traffic_percent": 50},
		}
	}
	e := load(t, Options{DefaultBundle: true})
	tests := []struct {
		name  string
		input map[string]any
		want  []string
	}{
		{"admin with approvals", request("admin", 2), nil},
		{"maintainer to 100 %", request("maintain", 2), []string{
			"/promote: only admin may take a high-risk model to 100 % of the traffic; @bob has maintain",
		}},
		{"reader with one approval", request("read", 1), []string{
			"/promote needs write permission; @bob has read",
			"/promote: a high-risk model needs 2 approvals before it leaves 5 % of the traffic; this pull request has 1",
			"/promote: only admin may take a high-risk model to 100 % of the traffic; @bob has read",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Authorize(context.Background(), tt.input)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAuthorizeExtensionsAndErrors(t *testing.T) {
	ctx := context.Background()
	ext := load(t, Options{DefaultBundle: true, PolicyDirs: []string{"testdata/authzext"}})
	got, err := ext.Authorize(ctx, map[string]any{
		"command":   map[string]any{"name": "status"},
		"commenter": map[string]any{"login": "bob", "permission": "read"},
		"friday":    true,
	})
	require.NoError(t, err)
	assert.Empty(t, got, "the organization's rule only refuses deployments")
	got, err = ext.Authorize(ctx, map[string]any{
		"command":   map[string]any{"name": "canary"},
		"commenter": map[string]any{"login": "bob", "permission": "write"},
		"friday":    true,
	})
	require.NoError(t, err)
	assert.Contains(t, got, "no deployments on Fridays")

	none := load(t, Options{PolicyDirs: []string{"testdata/namespaces"}, AllNamespaces: true})
	got, err = none.Authorize(ctx, map[string]any{"command": map[string]any{"name": "canary"}})
	require.NoError(t, err)
	assert.Nil(t, got, "without authorization rules everything is allowed")

	_, err = ext.Authorize(ctx, map[string]any{"command": map[string]any{"name": make(chan int)}})
	require.ErrorContains(t, err, "authorize: evaluation failed")
}

func TestAuthorizeWrongType(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.rego"), []byte("package modelgate.authz\n\ndeny contains 3 if true\n"), 0o644))
	e := load(t, Options{PolicyDirs: []string{dir}})
	_, err := e.Authorize(context.Background(), map[string]any{})
	require.ErrorContains(t, err, "modelgate.authz.deny: returned the message 3; expected a string or an object with msg")
}
