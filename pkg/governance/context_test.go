package governance

import (
	"context"
	"path/filepath"
	"testing"

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
