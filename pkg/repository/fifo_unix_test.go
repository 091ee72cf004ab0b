//go:build unix

package repository

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamedPipeDoesNotHang(t *testing.T) {
	root := t.TempDir()
	write(t, root, "models/a/model.yaml", manifestYAML("a", "lineage.json"))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "models/a/lineage.json"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "models/b.yaml"), 0o644))
	repo, err := Load(t.Context(), Options{Root: root, Glob: "models/**/*.yaml"})
	require.NoError(t, err)
	assert.Equal(t, []string{"models/a/model.yaml:7 lineage/file", "models/b.yaml:1 file"}, rules(repo.Findings))
	for _, f := range repo.Findings {
		assert.Contains(t, f.Message, "not a regular file")
	}
}
