package repository

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/manifest"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func manifestYAML(name, lineage string) string {
	return fmt.Sprintf("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n  name: %s\n  version: 1.0.0\nspec:\n  lineage: %s\n", name, lineage)
}

const goodLineage = `{"model_id": "a", "version": "1.0.0", "parent_models": []}`

func load(t *testing.T, root string) *Repository {
	t.Helper()
	repo, err := Load(context.Background(), Options{Root: root})
	require.NoError(t, err)
	return repo
}

// rules lists "file:line rule" for every finding, for compact assertions.
func rules(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	return out
}

func TestLoadReadsManifestsAndLineage(t *testing.T) {
	repo := load(t, "../../testdata/example")
	assert.Len(t, repo.Files, 7)
	assert.Len(t, repo.Models, 7)
	assert.Empty(t, repo.Findings)
	for _, m := range repo.Models {
		require.NotNil(t, m.Lineage, m.File)
		assert.Equal(t, m.Metadata.Name, m.Lineage.ModelID, m.File)
	}
}

func TestLoadReportsBadFilesAndChecksTheRest(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		want  []string
		msg   string
	}{
		{
			name:  "invalid yaml",
			setup: func(t *testing.T, root string) { write(t, root, "models/b/model.yaml", "a: b\n  c: d\n") },
			want:  []string{"models/b/model.yaml:2 syntax"},
			msg:   "invalid YAML",
		},
		{
			name: "lineage path escapes the repository",
			setup: func(t *testing.T, root string) {
				write(t, root, "models/b/model.yaml", manifestYAML("b", "../../../../etc/passwd"))
			},
			want: []string{"models/b/model.yaml:7 lineage/file"},
			msg:  "path leads outside the repository",
		},
		{
			name: "absolute lineage path",
			setup: func(t *testing.T, root string) {
				write(t, root, "models/b/model.yaml", manifestYAML("b", "/etc/passwd"))
			},
			want: []string{"models/b/model.yaml:7 lineage/file"},
			msg:  "path leads outside the repository",
		},
		{
			name: "lineage file is a symlink out of the repository",
			setup: func(t *testing.T, root string) {
				outside := filepath.Join(t.TempDir(), "secret.json")
				require.NoError(t, os.WriteFile(outside, []byte(goodLineage), 0o644))
				write(t, root, "models/b/model.yaml", manifestYAML("b", "lineage.json"))
				require.NoError(t, os.Symlink(outside, filepath.Join(root, "models/b/lineage.json")))
			},
			want: []string{"models/b/model.yaml:7 lineage/file"},
			msg:  "symbolic link",
		},
		{
			name: "manifest is a symlink out of the repository",
			setup: func(t *testing.T, root string) {
				outside := filepath.Join(t.TempDir(), "model.yaml")
				require.NoError(t, os.WriteFile(outside, []byte(manifestYAML("b", "x.json")), 0o644))
				require.NoError(t, os.MkdirAll(filepath.Join(root, "models/b"), 0o755))
				require.NoError(t, os.Symlink(outside, filepath.Join(root, "models/b/model.yaml")))
			},
			want: []string{"models/b/model.yaml:1 file"},
			msg:  "symbolic link",
		},
		{
			name:  "missing lineage file",
			setup: func(t *testing.T, root string) { write(t, root, "models/b/model.yaml", manifestYAML("b", "nope.json")) },
			want:  []string{"models/b/model.yaml:7 lineage/file"},
			msg:   "models/b/nope.json does not exist",
		},
		{
			name: "invalid lineage json",
			setup: func(t *testing.T, root string) {
				write(t, root, "models/b/model.yaml", manifestYAML("b", "lineage.json"))
				write(t, root, "models/b/lineage.json", "{\n\"model_id\": }")
			},
			want: []string{"models/b/lineage.json:2 syntax"},
			msg:  "invalid JSON",
		},
		{
			name: "lineage of the wrong shape",
			setup: func(t *testing.T, root string) {
				write(t, root, "models/b/model.yaml", manifestYAML("b", "lineage.json"))
				write(t, root, "models/b/lineage.json", "{\n\"parent_models\": \"a\"}")
			},
			want: []string{"models/b/lineage.json:2 schema"},
			msg:  "want array",
		},
		{
			name: "file over the size limit",
			setup: func(t *testing.T, root string) {
				write(t, root, "models/b/model.yaml", "a: \""+strings.Repeat("x", 2<<20)+"\"\n")
			},
			want: []string{"models/b/model.yaml:1 file"},
			msg:  "over the limit of 1048576 bytes",
		},
		{
			name:  "manifest without identity",
			setup: func(t *testing.T, root string) { write(t, root, "models/b/model.yaml", "kind: Model\n") },
			want:  []string{"models/b/model.yaml:1 schema"},
			msg:   "missing properties",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "models/a/model.yaml", manifestYAML("a", "lineage.json"))
			write(t, root, "models/a/lineage.json", goodLineage)
			tt.setup(t, root)
			repo := load(t, root)
			assert.Equal(t, tt.want, rules(repo.Findings))
			require.NotEmpty(t, repo.Findings)
			assert.Contains(t, repo.Findings[0].Message, tt.msg)
			require.NotEmpty(t, repo.Models)
			assert.Equal(t, "a@1.0.0", repo.Models[0].ID(), "the good manifest is still read")
			assert.NotNil(t, repo.Models[0].Lineage)
		})
	}
}

func TestLoadEmptyRepository(t *testing.T) {
	repo := load(t, t.TempDir())
	assert.Empty(t, repo.Files)
	assert.Empty(t, repo.Findings)
}

func TestLoadFailsOnUnreadableRoot(t *testing.T) {
	_, err := Load(context.Background(), Options{Root: filepath.Join(t.TempDir(), "missing")})
	assert.ErrorContains(t, err, "open repository")
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = Load(context.Background(), Options{Root: file})
	assert.ErrorContains(t, err, "not a directory")
	_, err = Load(context.Background(), Options{Root: ".", Glob: "models/[.yaml"})
	assert.ErrorContains(t, err, "not a valid glob")
}

func TestLoadGlobAndSkippedDirectories(t *testing.T) {
	root := t.TempDir()
	write(t, root, "models/a/model.yaml", manifestYAML("a", "{}"))
	write(t, root, "models/b/model.json", `{"apiVersion":"modelgate.dev/v1","kind":"Model","metadata":{"name":"b","version":"1.0.0"},"spec":{}}`)
	write(t, root, "node_modules/models/c/model.yaml", manifestYAML("c", "{}"))
	write(t, root, "models/a/other.yaml", "not: a manifest")
	repo := load(t, root)
	assert.Equal(t, []string{"models/a/model.yaml", "models/b/model.json"}, repo.Files)
	custom, err := Load(context.Background(), Options{Root: root, Glob: "**/other.yaml"})
	require.NoError(t, err)
	assert.Equal(t, []string{"models/a/other.yaml"}, custom.Files)
}

func TestLoadManyManifestsInOneDirectory(t *testing.T) {
	root := t.TempDir()
	const n = 10_000
	for i := range n {
		write(t, root, fmt.Sprintf("models/m%05d.yaml", i), manifestYAML(fmt.Sprintf("m%05d", i), "{}"))
	}
	repo, err := Load(context.Background(), Options{Root: root, Glob: "models/*.yaml"})
	require.NoError(t, err)
	assert.Len(t, repo.Models, n)
	assert.Empty(t, repo.Findings)
}

func TestLoadStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, Options{Root: "../../testdata/example"})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWalkStartsAtThePatternsDirectory(t *testing.T) {
	root := t.TempDir()
	write(t, root, "models/a/model.yaml", manifestYAML("a", "{}"))
	write(t, root, "data/models/b/model.yaml", manifestYAML("b", "{}"))
	repo := load(t, root)
	assert.Equal(t, []string{"models/a/model.yaml"}, repo.Files)

	all, err := Load(context.Background(), Options{Root: root, Glob: "**/model.yaml"})
	require.NoError(t, err)
	assert.Equal(t, []string{"data/models/b/model.yaml", "models/a/model.yaml"}, all.Files)

	none, err := Load(context.Background(), Options{Root: root, Glob: "nothing/**/model.yaml"})
	require.NoError(t, err)
	assert.Empty(t, none.Files)

	outside := t.TempDir()
	write(t, outside, "x/model.yaml", manifestYAML("x", "{}"))
	linked := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(linked, "models")))
	viaLink, err := Load(context.Background(), Options{Root: linked})
	require.NoError(t, err)
	assert.Empty(t, viaLink.Files, "a models directory that links out of the repository is not walked")
}

// TestLoadVisitsEveryModelWithItsDocument checks Visit: once for every
// manifest that joins Models, with the document it was decoded to, and
// never for a file that cannot join (no identity, invalid).
func TestLoadVisitsEveryModelWithItsDocument(t *testing.T) {
	var mu sync.Mutex
	visited := map[*manifest.Manifest]int{}
	repo, err := Load(context.Background(), Options{Root: "../../testdata/broken", Visit: func(m *manifest.Manifest, doc *manifest.Document) {
		again, err := m.Decode()
		assert.NoError(t, err, m.File)
		assert.Equal(t, again.Value, doc.Value, m.File)
		mu.Lock()
		visited[m]++
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.Less(t, len(repo.Models), len(repo.Files), "some files cannot join")
	want := map[*manifest.Manifest]int{}
	for _, m := range repo.Models {
		want[m] = 1
	}
	assert.Equal(t, want, visited)
}
