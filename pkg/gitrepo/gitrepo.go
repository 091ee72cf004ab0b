// Package gitrepo reads what modelgate needs from a repository's history by
// running the git command: when files were added, and files as they are at
// another commit.
package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNotRepository is returned when the directory is not in a git work tree
// git will read (or git is not installed); the error carries git's own
// reason, "detected dubious ownership" among them.
var ErrNotRepository = errors.New("not a git repository")

// Repo is a directory inside a git work tree.
type Repo struct {
	Dir string
}

// Open checks that dir is inside a git work tree, and says why not in
// git's own words.
func Open(ctx context.Context, dir string) (*Repo, error) {
	r := &Repo{Dir: dir}
	out, err := r.git(ctx, "rev-parse", "--is-inside-work-tree")
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) {
			return nil, fmt.Errorf("%s: %w: git says: %s", dir, ErrNotRepository, ge.msg)
		}
		return nil, fmt.Errorf("%s: %w: %w", dir, ErrNotRepository, err)
	}
	if strings.TrimSpace(string(out)) != "true" {
		return nil, fmt.Errorf("%s: %w: it is inside a .git directory, not a work tree", dir, ErrNotRepository)
	}
	return r, nil
}

// gitError is a git command that failed, with what git printed.
type gitError struct {
	args []string
	msg  string
}

func (e *gitError) Error() string { return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), e.msg) }

// git runs a git command in the repository and returns its standard output.
func (r *Repo) git(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", r.Dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("git is not installed: %w", err)
		}
		msg := oneLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, &gitError{args: args, msg: msg}
	}
	return out, nil
}

// oneLine joins git's lines of advice into one, for a single message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Added returns, for every file under the directory that the history adds,
// when it was first added. Paths are relative to the directory, with
// forward slashes, as git prints them with --relative.
func (r *Repo) Added(ctx context.Context) (map[string]time.Time, error) {
	out, err := r.git(ctx, "log", "--relative", "--diff-filter=A", "--no-renames", "--name-only", "--format=%x00%ct", "--", ".")
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	added := make(map[string]time.Time)
	var when time.Time
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "\x00"):
			secs, err := strconv.ParseInt(line[1:], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("read history: bad commit time %q", line[1:])
			}
			when = time.Unix(secs, 0).UTC()
		case line != "":
			// The log runs newest first, so the last time seen is the first add.
			added[line] = when
		}
	}
	return added, sc.Err()
}
