package imagetest

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// DockerIgnore reads the .dockerignore of a build context, as the
// Docker CLI and BuildKit read it.
func DockerIgnore(context string) (func(string) bool, error) {
	f, err := os.Open(filepath.Join(context, ".dockerignore"))
	if os.IsNotExist(err) {
		return func(string) bool { return false }, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		return err == nil && ok
	}, nil
}

// copyTree copies a whole filesystem, as it is (owners, modes, links).
func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %v: %s", src, err, out)
	}
	return nil
}

// copyInto is COPY: src (a path or a glob, relative to srcRoot) into dest,
// a directory when toDir; a directory's contents are copied, not the
// directory itself. ignore, when set, leaves out paths of the context.
func copyInto(srcRoot, src, dest string, toDir bool, ignore func(string) bool) error {
	matches, err := filepath.Glob(filepath.Join(srcRoot, src))
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		return fmt.Errorf("COPY %s: no such file", src)
	}
	for _, m := range matches {
		info, err := os.Lstat(m)
		if err != nil {
			return err
		}
		if info.IsDir() {
			if err := copyDir(srcRoot, m, dest, ignore); err != nil {
				return err
			}
			continue
		}
		target := dest
		if toDir {
			target = filepath.Join(dest, filepath.Base(m))
		}
		if err := copyEntry(m, target, info); err != nil {
			return err
		}
	}
	return nil
}

func copyDir(srcRoot, dir, dest string, ignore func(string) bool) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(srcRoot, path)
		if ignore != nil && rel != "." && ignore(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		inner, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		return copyEntry(path, filepath.Join(dest, inner), info)
	})
}

// copyEntry copies one file, directory or symbolic link, owned by root as
// COPY leaves what it copies.
func copyEntry(src, dst string, info fs.FileInfo) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch {
	case info.IsDir():
		return os.MkdirAll(dst, info.Mode().Perm())
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		os.Remove(dst)
		return os.Symlink(link, dst)
	case info.Mode().IsRegular():
		return copyFile(src, dst, info.Mode().Perm())
	}
	return fmt.Errorf("COPY %s: %s files are not supported", src, strings.ToLower(info.Mode().Type().String()))
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}
