package gate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/gittest"
)

func TestBaseComparison(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	base := repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")

	// The pull request: a new fraud-detector version, a changed metric, a
	// deleted retired model, and a renamed directory with the same content.
	src, err := os.ReadFile(filepath.Join(repo.Dir, "models/fraud-detector/3.2.0/model.yaml"))
	require.NoError(t, err)
	repo.Write("models/fraud-detector/3.3.0/model.yaml", strings.ReplaceAll(string(src), "version: 3.2.0", "version: 3.3.0"))
	repo.Write("models/fraud-detector/3.3.0/lineage.json", `{"model_id": "fraud-detector", "version": "3.3.0", "parent_models": ["fraud-detector@3.2.0"]}`)
	f1 := filepath.Join(repo.Dir, "models/text-encoder/1.1.0/model.yaml")
	text, err := os.ReadFile(f1)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f1, []byte(strings.Replace(string(text), "f1: 0.93", "f1: 0.90", 1)), 0o644))
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Dir, "models/churn-predictor/1.0.0")))
	repo.Git("mv", "models/support-router/0.4.0", "models/support-router/v0.4.0")
	// Files of another text that say the same, and a lineage that says more.
	edit(t, filepath.Join(repo.Dir, "models/churn-predictor/2.0.0/model.yaml"), func(s string) string { return "# reviewed\n" + s })
	edit(t, filepath.Join(repo.Dir, "models/fraud-detector/3.1.0/lineage.json"), func(s string) string { return " " + strings.ReplaceAll(s, ",", " ,") })
	edit(t, filepath.Join(repo.Dir, "models/text-encoder/1.0.0/lineage.json"), func(s string) string { return strings.Replace(s, "{", `{"note": "retrained",`, 1) })
	repo.Commit("pr")

	res, err := Run(context.Background(), Options{Root: repo.Dir, BaseRef: "main"})
	require.NoError(t, err)
	require.NotNil(t, res.Base)
	assert.Equal(t, base, res.Base.Commit)
	assert.Empty(t, res.Findings)

	tests := []struct {
		id       string
		change   Change
		baseFrom string
	}{
		{"fraud-detector@3.3.0", Added, "fraud-detector@3.2.0"},
		{"text-encoder@1.1.0", Modified, "text-encoder@1.1.0"},
		{"churn-predictor@1.0.0", Deleted, "churn-predictor@1.0.0"},
		{"support-router@0.4.0", Unchanged, "support-router@0.4.0"},
		{"churn-predictor@2.0.0", Unchanged, "churn-predictor@2.0.0"},
		{"fraud-detector@3.1.0", Unchanged, "fraud-detector@3.1.0"},
		{"text-encoder@1.0.0", Modified, "text-encoder@1.0.0"},
	}
	for _, tt := range tests {
		change, base := res.Change(tt.id)
		assert.Equal(t, tt.change, change, tt.id)
		require.NotNil(t, base, tt.id)
		assert.Equal(t, tt.baseFrom, base.ID(), tt.id)
	}
	assert.Equal(t, []string{"fraud-detector@3.3.0", "text-encoder@1.0.0", "text-encoder@1.1.0"}, res.Changed())
	assert.Equal(t, []string{"churn-predictor@1.0.0"}, res.Deleted())
	assert.Empty(t, res.Renames())
}

func TestRenameIsReported(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	repo.Commit("models")
	old := filepath.Join(repo.Dir, "models/churn-predictor/2.0.0")
	src, err := os.ReadFile(filepath.Join(old, "model.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(old))
	repo.Write("models/retention-scorer/2.0.0/model.yaml", strings.ReplaceAll(string(src), "name: churn-predictor", "name: retention-scorer"))
	repo.Write("models/retention-scorer/2.0.0/lineage.json", `{"model_id": "retention-scorer", "version": "2.0.0"}`)
	repo.Commit("rename")

	res, err := Run(context.Background(), Options{Root: repo.Dir, BaseRef: "HEAD~1"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"retention-scorer@2.0.0": "churn-predictor@2.0.0"}, res.Renames())
	require.Len(t, res.Findings, 1)
	f := res.Findings[0]
	assert.Equal(t, "change/renamed", f.Rule)
	assert.Equal(t, "models/retention-scorer/2.0.0/model.yaml", f.File)
	assert.Equal(t, 4, f.Line)
	assert.Contains(t, f.Message, "replaces churn-predictor@2.0.0")
}

func TestBaseInSubdirectory(t *testing.T) {
	res, err := Run(context.Background(), Options{Root: "../../testdata/example", BaseRef: "HEAD"})
	require.NoError(t, err)
	require.NotNil(t, res.Base, "%v", res.Findings)
}

func TestBaseUnavailable(t *testing.T) {
	tests := []struct {
		name string
		root func(t *testing.T) string
		ref  string
		msg  string
	}{
		{"unknown ref", func(t *testing.T) string {
			r := gittest.New(t)
			r.CopyDir("../../testdata/example")
			r.Commit("one")
			return r.Dir
		}, "origin/nope", "unknown revision"},
		{"option-like ref", func(t *testing.T) string {
			r := gittest.New(t)
			r.CopyDir("../../testdata/example")
			r.Commit("one")
			return r.Dir
		}, "--output=/tmp/x", "unknown revision"},
		{"not a git repository", func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS("../../testdata/example")))
			return dir
		}, "main", "not a git repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Root: tt.root(t), BaseRef: tt.ref})
			require.NoError(t, err)
			assert.Nil(t, res.Base)
			require.Len(t, res.Findings, 1)
			assert.Equal(t, "base/unavailable", res.Findings[0].Rule)
			assert.Contains(t, res.Findings[0].Message, tt.msg)
			change, base := res.Change("fraud-detector@3.2.0")
			assert.Equal(t, Unchanged, change)
			assert.Nil(t, base)
		})
	}
}

// edit rewrites a file of a test repository.
func edit(t *testing.T, path string, change func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(change(string(b))), 0o644))
}

// TestBrokenManifestIsModifiedNotDeleted: a change that leaves a manifest
// unparseable modifies that version; it does not delete it.
func TestBrokenManifestIsModifiedNotDeleted(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	repo.Commit("models")
	repo.Write("models/text-encoder/1.1.0/model.yaml", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: text-encoder\n")
	repo.Commit("broken")

	res, err := Run(context.Background(), Options{Root: repo.Dir, BaseRef: "HEAD~1"})
	require.NoError(t, err)
	const id = "text-encoder@1.1.0"
	change, base := res.Change(id)
	assert.Equal(t, Modified, change)
	require.NotNil(t, base)
	assert.Equal(t, id, base.ID())
	assert.Empty(t, res.Deleted())
	assert.Equal(t, []string{id}, res.Changed())
	assert.Contains(t, res.Versions(), id)
	assert.NotNil(t, res.PictureGraph().Node(id))
	var syntax []string
	for _, f := range res.Findings {
		if f.Rule == "syntax" {
			syntax = append(syntax, f.Model)
		}
	}
	assert.Equal(t, []string{id}, syntax, "the syntax error is about the version")
}
