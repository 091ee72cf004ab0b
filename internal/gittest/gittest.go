// Package gittest builds throwaway git repositories for tests.
package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/modelgate/modelgate/internal/needs"
)

// Repo is a git work tree in a temporary directory.
type Repo struct {
	t   testing.TB
	Dir string
}

// New makes an empty repository, or skips the test when git is missing
// (failing instead when CI=true, where git must be installed).
func New(t testing.TB) *Repo {
	t.Helper()
	needs.Command(t, "git", "apt-get install -y git")
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Git runs a git command in the repository with a fixed identity and date,
// and returns its output.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.Dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Write writes a file of the work tree.
func (r *Repo) Write(rel, content string) {
	r.t.Helper()
	path := filepath.Join(r.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// CopyDir copies a directory tree into the work tree.
func (r *Repo) CopyDir(src string) {
	r.t.Helper()
	if err := os.CopyFS(r.Dir, os.DirFS(src)); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything and commits it, returning the commit id.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Head()
}

// Head returns the current commit id.
func (r *Repo) Head() string {
	r.t.Helper()
	out := r.Git("rev-parse", "HEAD")
	return out[:len(out)-1]
}
