package gitrepo

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnknownRevision is returned when a ref or commit does not exist in the
// clone, as happens with a shallow clone or a branch that was not fetched.
var ErrUnknownRevision = errors.New("unknown revision")

// Resolve returns the commit a ref names. A branch name that the clone has
// only as origin/<name> (actions/checkout fetches no local branch but the
// one checked out) resolves to the remote branch.
func (r *Repo) Resolve(ctx context.Context, ref string) (string, error) {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("resolve %q: %w", ref, ErrUnknownRevision)
	}
	if commit, ok := r.commit(ctx, ref); ok {
		return commit, nil
	}
	if !strings.HasPrefix(ref, "origin/") {
		if commit, ok := r.commit(ctx, "origin/"+ref); ok {
			return commit, nil
		}
	}
	return "", fmt.Errorf("resolve %q: %w: %s", ref, ErrUnknownRevision, r.whyUnknown(ctx, ref))
}

// commit resolves a ref to a commit, if it names one.
func (r *Repo) commit(ctx context.Context, ref string) (string, bool) {
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// whyUnknown says what the clone lacks: the history of a shallow clone, or
// the branch.
func (r *Repo) whyUnknown(ctx context.Context, ref string) string {
	names := fmt.Sprintf("no branch, tag or commit %s", ref)
	if !strings.HasPrefix(ref, "origin/") {
		names = fmt.Sprintf("neither %s nor origin/%s is in this clone", ref, ref)
	}
	if out, err := r.git(ctx, "rev-parse", "--is-shallow-repository"); err == nil && strings.TrimSpace(string(out)) == "true" {
		return names + "; the clone is shallow: check out with fetch-depth: 0"
	}
	return names + "; fetch it (git fetch origin " + strings.TrimPrefix(ref, "origin/") + ")"
}

// MergeBase returns the best common ancestor of two commits: the point a
// pull request branched from, which is what its changes are measured against.
func (r *Repo) MergeBase(ctx context.Context, a, b string) (string, error) {
	out, err := r.git(ctx, "merge-base", "--end-of-options", a, b)
	if err != nil {
		return "", fmt.Errorf("merge base of %s and %s: %w", a, b, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// location returns the top of the work tree and the directory's path
// inside it ("" at the top).
func (r *Repo) location(ctx context.Context) (top, prefix string, err error) {
	out, err := r.git(ctx, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return "", "", err
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < 2 {
		lines = append(lines, "")
	}
	return lines[0], strings.TrimSuffix(lines[1], "/"), nil
}

// Export writes the files of commit rev that lie under the directory (and
// under one of paths, relative to it, when paths are given) into dest, as
// they were at that commit. Symbolic links are not exported: a link in the
// history must not reach outside dest.
func (r *Repo) Export(ctx context.Context, rev, dest string, paths ...string) error {
	top, prefix, err := r.location(ctx)
	if err != nil {
		return fmt.Errorf("export %s: %w", rev, err)
	}
	// Run from the top, where pathspecs are relative to the tree archived.
	args := []string{"-C", top, "archive", "--format=tar", rev + ":" + prefix}
	if prefix == "" {
		args[len(args)-1] = rev
	}
	args = append(args, "--")
	args = append(args, paths...)
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("export %s: %w", rev, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("export %s: %w", rev, err)
	}
	extractErr := extract(out, dest)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "did not match any files") {
			return nil // none of the paths existed at that commit
		}
		return fmt.Errorf("export %s: git archive: %s", rev, msg)
	}
	if extractErr != nil {
		return fmt.Errorf("export %s: %w", rev, extractErr)
	}
	return nil
}

// extract unpacks the regular files and directories of a tar stream into
// dest, refusing names that would land outside it.
func extract(r io.Reader, dest string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q leads outside the export", hdr.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(target, tr); err != nil {
				return err
			}
		}
	}
}

func writeFile(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ChangedFiles returns the files under the directory that differ between
// commit base and the work tree's HEAD, relative to the directory.
func (r *Repo) ChangedFiles(ctx context.Context, base string) ([]string, error) {
	out, err := r.git(ctx, "diff", "--name-only", "--relative", "--no-renames", "--end-of-options", base, "HEAD", "--")
	if err != nil {
		return nil, fmt.Errorf("changed files since %s: %w", base, err)
	}
	var files []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" {
			files = append(files, line)
		}
	}
	return files, nil
}
