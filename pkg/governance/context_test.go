package governance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	opa "github.com/open-policy-agent/opa/v1/ast"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInputIsTheDocument holds the policy input contract: input is the
// manifest, exactly; modelgate's context is data.modelgate.context and
// conftest's file information data.conftest.file, per document.
func TestInputIsTheDocument(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/context"}})
	plain := testDoc("models/a/model.yaml", nil)
	plain.Context["change"] = "added"
	plain.Path = filepath.Join("repo", "models", "a", "model.yaml")
	odd := testDoc("models/b/model.yaml", func(m map[string]any) {
		m["now"] = "the manifest's own"
		m["change"] = "its own too"
	})
	odd.Context["change"] = "modified"
	got := evaluate(t, e, plain, odd)
	var messages []string
	for _, f := range got {
		messages = append(messages, f.File+": "+f.Message)
	}
	assert.ElementsMatch(t, []string{
		"models/a/model.yaml: change added of models/a/model.yaml",
		"models/a/model.yaml: conftest file model.yaml in " + mustAbs(t, "repo/models/a"),
		"models/a/model.yaml: data.modelgate holds config,context",
		"models/b/model.yaml: top-level field change",
		"models/b/model.yaml: top-level field now",
		"models/b/model.yaml: the manifest's now is the manifest's own, modelgate's 2026-11-25T10:00:00Z",
		"models/b/model.yaml: change modified of models/b/model.yaml",
		"models/b/model.yaml: conftest file model.yaml in " + mustAbs(t, "models/b"),
		"models/b/model.yaml: data.modelgate holds config,context",
	}, messages)
	_, _, seeded := e.seeds.get(opa.MustParseRef("data.main.change"))
	assert.False(t, seeded, "a rule that reads the context is evaluated per document")
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

func TestReservedPaths(t *testing.T) {
	_, err := Load(context.Background(), Options{PolicyDirs: []string{"testdata/reserved"}})
	require.ErrorContains(t, err, "package modelgate.context: data.modelgate.context is set for every manifest; a policy cannot declare it")
	_, err = Load(context.Background(), Options{DataFiles: []string{"testdata/reserveddata"}})
	require.ErrorContains(t, err, "data.conftest.file is set for every manifest; a data file cannot declare it")
	_, err = Verify(context.Background(), VerifyOptions{PolicyDirs: []string{"testdata/reserved"}})
	require.ErrorContains(t, err, "a policy cannot declare it")
}

func TestReadsContext(t *testing.T) {
	tests := []struct {
		name, body string
		reads      bool
	}{
		{"input only", `deny contains "x" if input.spec.framework == "sklearn"`, false},
		{"conftest's file", `deny contains data.conftest.file.name if true`, false},
		{"other modelgate data", `deny contains "x" if data.modelgate.config.strict`, false},
		{"the context", `deny contains "x" if data.modelgate.context.change == "added"`, true},
		{"a field of it by an import", "import data.modelgate.context\ndeny contains context.file if true", true},
		{"data.modelgate whole", `deny contains k if some k, _ in data.modelgate`, true},
		{"a computed key", `deny contains "x" if { some k; data[k].context }`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "p.rego"), []byte("package main\n\n"+tt.body+"\n"), 0o644))
			assert.Equal(t, tt.reads, load(t, Options{PolicyDirs: []string{dir}}).ReadsContext())
		})
	}
	assert.True(t, load(t, Options{DefaultBundle: true}).ReadsContext(), "the default bundle")
}

// TestNowWithoutContext holds time.now_ns() to the run's time when a
// document comes without the context its policies never read.
func TestNowWithoutContext(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.rego"), []byte("package main\n\nwarn contains sprintf(\"%d\", [time.now_ns()]) if true\n"), 0o644))
	e := load(t, Options{PolicyDirs: []string{dir}})
	require.False(t, e.ReadsContext())
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	doc := testDoc("m.yaml", nil)
	doc.Context, doc.Now = nil, now
	fs := evaluate(t, e, doc)
	require.Len(t, fs, 1)
	assert.Equal(t, fmt.Sprint(now.UnixNano()), fs[0].Message)
}
