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

// TestOpenSaysWhatGitSays passes git's own reason through: a checkout
// owned by another user is refused for "dubious ownership", which is not
// the same as a directory outside any repository.
func TestOpenSaysWhatGitSays(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '$2'\" >&2\necho \"To add an exception for this directory, call:\" >&2\necho \"	git config --global --add safe.directory $2\" >&2\nexit 128\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755))
	t.Setenv("PATH", bin)
	_, err := Open(context.Background(), "/repo")
	require.ErrorIs(t, err, ErrNotRepository)
	assert.Contains(t, err.Error(), "git says: fatal: detected dubious ownership in repository at '/repo' To add an exception for this directory, call: git config --global --add safe.directory /repo")

	t.Setenv("PATH", t.TempDir())
	_, err = Open(context.Background(), "/repo")
	require.ErrorIs(t, err, ErrNotRepository)
	assert.Contains(t, err.Error(), "git is not installed")
}

func TestOpenOutsideGitSaysSo(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir())
	assert.ErrorContains(t, err, "git says: fatal: not a git repository")
}

// TestResolveFallsBackToTheRemoteBranch: actions/checkout leaves only
// origin/main, not main; base-ref: main must still resolve.
func TestResolveFallsBackToTheRemoteBranch(t *testing.T) {
	upstream := gittest.New(t)
	upstream.Write("a.txt", "a")
	main := upstream.Commit("one")
	clone := gittest.New(t)
	clone.Git("remote", "add", "origin", upstream.Dir)
	clone.Git("fetch", "-q", "origin")
	clone.Git("checkout", "-q", "-b", "pr", "origin/main")
	ctx := context.Background()
	repo, err := Open(ctx, clone.Dir)
	require.NoError(t, err)
	got, err := repo.Resolve(ctx, "main")
	require.NoError(t, err)
	assert.Equal(t, main, got)

	_, err = repo.Resolve(ctx, "nope")
	require.ErrorIs(t, err, ErrUnknownRevision)
	assert.ErrorContains(t, err, "neither nope nor origin/nope is in this clone; fetch it (git fetch origin nope)")

	shallow := filepath.Join(t.TempDir(), "shallow")
	clone.Git("clone", "-q", "--depth", "1", "file://"+upstream.Dir, shallow)
	repo, err = Open(ctx, shallow)
	require.NoError(t, err)
	_, err = repo.Resolve(ctx, "HEAD~1")
	assert.ErrorContains(t, err, "the clone is shallow: check out with fetch-depth: 0")
}
