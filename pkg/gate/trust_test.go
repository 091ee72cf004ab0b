package gate

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/gittest"
)

func TestLoadTrusted(t *testing.T) {
	repo := gittest.New(t)
	repo.Write(".github/modelgate.yml", "policy:\n  dirs: [policies]\n  data: [data.yaml]\n")
	repo.Write("policies/a.rego", "package main\n")
	repo.Write("data.yaml", "x: 1\n")
	repo.Write("inputs/b.rego", "package b\n")
	repo.Write("models/readme.txt", "not a policy\n")
	base := repo.Commit("base")
	repo.Write("policies/a.rego", "package main\n\ndeny := set()\n")
	repo.Write("policies/new.rego", "package new\n")
	repo.Write("inputs/b.rego", "package b\n# changed\n")
	repo.Write("models/readme.txt", "changed, but not a policy\n")
	repo.Commit("pr")

	tr, err := LoadTrusted(context.Background(), repo.Dir, base, []string{"inputs"})
	require.NoError(t, err)
	defer tr.Close()
	assert.Equal(t, base, tr.Commit)
	assert.Equal(t, []string{"policies"}, tr.Config.Policy.Dirs)
	got, err := os.ReadFile(tr.Path("policies/a.rego"))
	require.NoError(t, err)
	assert.Equal(t, "package main\n", string(got), "the base's version")
	assert.NoFileExists(t, tr.Path("policies/new.rego"))
	assert.FileExists(t, tr.Path("data.yaml"))
	assert.FileExists(t, tr.Path("inputs/b.rego"))
	assert.NoFileExists(t, tr.Path("models/readme.txt"))
	assert.Equal(t, []string{"inputs/b.rego", "policies/a.rego", "policies/new.rego"}, tr.Changed)
	require.Len(t, tr.Findings(), 3)
	assert.Equal(t, "trust/policy-changed", tr.Findings()[0].Rule)

	dir := tr.Dir
	require.NoError(t, tr.Close())
	assert.NoDirExists(t, dir)
}

func TestLoadTrustedFailsWithoutABase(t *testing.T) {
	repo := gittest.New(t)
	repo.Write("a.txt", "a")
	repo.Commit("one")
	_, err := LoadTrusted(context.Background(), repo.Dir, "origin/gone", nil)
	assert.ErrorContains(t, err, "unknown revision")
	_, err = LoadTrusted(context.Background(), t.TempDir(), "main", nil)
	assert.ErrorContains(t, err, "not a git repository")

	_, err = LoadTrusted(context.Background(), repo.Dir, "HEAD", []string{"no-such-dir"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy path no-such-dir: no such file or directory at the base commit")
	assert.NotContains(t, err.Error(), os.TempDir(), "no temporary path in the message")

	repo.Write(".github/modelgate.yml", "polcy: {}\n")
	repo.Commit("bad config")
	_, err = LoadTrusted(context.Background(), repo.Dir, "HEAD", nil)
	assert.ErrorContains(t, err, "the base's configuration")
}
