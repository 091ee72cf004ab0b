package gitrepo

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/gittest"
)

func TestAddedAndExport(t *testing.T) {
	g := gittest.New(t)
	g.Write("sub/models/a/model.yaml", "a: 1\n")
	g.Write("sub/other/x.txt", "x\n")
	first := g.Commit("first")
	g.Write("sub/models/b/model.yaml", "b: 1\n")
	g.Write("sub/models/a/model.yaml", "a: 2\n")
	g.Commit("second")
	ctx := context.Background()

	repo, err := Open(ctx, filepath.Join(g.Dir, "sub"))
	require.NoError(t, err)
	added, err := repo.Added(ctx)
	require.NoError(t, err)
	want := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, map[string]time.Time{"models/a/model.yaml": want, "models/b/model.yaml": want, "other/x.txt": want}, added)

	commit, err := repo.Resolve(ctx, "HEAD~1")
	require.NoError(t, err)
	assert.Equal(t, first, commit)
	_, err = repo.Resolve(ctx, "nope")
	assert.ErrorIs(t, err, ErrUnknownRevision)

	changed, err := repo.ChangedFiles(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, []string{"models/a/model.yaml", "models/b/model.yaml"}, changed)

	dest := t.TempDir()
	require.NoError(t, repo.Export(ctx, first, dest, "models"))
	got, err := os.ReadFile(filepath.Join(dest, "models/a/model.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "a: 1\n", string(got))
	assert.NoFileExists(t, filepath.Join(dest, "models/b/model.yaml"))
	assert.NoFileExists(t, filepath.Join(dest, "other/x.txt"), "only the paths asked for")

	require.NoError(t, repo.Export(ctx, first, t.TempDir(), "missing-dir"), "a path absent at that commit exports nothing")
	assert.Error(t, repo.Export(ctx, "0000000000000000000000000000000000000000", t.TempDir()))
}

func TestOpenOutsideGit(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir())
	assert.ErrorIs(t, err, ErrNotRepository)
	assert.ErrorContains(t, err, "not a git repository (or any of the parent directories)", "git's own reason")
}

func TestExtractRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "/etc/evil", "a/../../evil"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, tw.Close())
		err = extract(&buf, t.TempDir())
		assert.ErrorContains(t, err, "leads outside the export", name)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}))
	require.NoError(t, tw.Close())
	dest := t.TempDir()
	require.NoError(t, extract(&buf, dest))
	_, err := os.Lstat(filepath.Join(dest, "link"))
	assert.True(t, os.IsNotExist(err), "symbolic links are not exported")
}
