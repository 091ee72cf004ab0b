// Package repository finds and reads every model manifest of a repository,
// with its lineage, reporting each unreadable or invalid file as a finding
// so that one bad file never stops the others from being checked.
package repository

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// DefaultGlob finds manifests when the user names no other pattern.
const DefaultGlob = "models/**/model.{yaml,yml,json}"

// Rules of the findings this package reports.
const (
	RuleSyntax  = "syntax"
	RuleFile    = "file"
	RuleLineage = "lineage/file"
)

// Options say where and how to look for manifests.
type Options struct {
	// Root is the repository's directory.
	Root string
	// Glob matches manifest paths relative to Root (doublestar syntax,
	// with braces). Empty means DefaultGlob.
	Glob string
	// Limits bound each file; the zero value means manifest.DefaultLimits.
	Limits manifest.Limits
	// Workers is how many files are read at once; 0 means GOMAXPROCS.
	Workers int
	// Schemas validates the files; nil compiles the embedded schemas.
	Schemas *manifest.Schemas
}

// Repository is what was read: the manifests that could be decoded, sorted
// by file, and the findings of reading them.
type Repository struct {
	Root string
	// Files are the manifest files found, relative to Root, sorted.
	Files    []string
	Models   []*manifest.Manifest
	Findings []finding.Finding
}

// Load finds and reads every manifest under opts.Root. It returns an error
// only when the repository itself cannot be read; problems with single files
// are findings.
func Load(ctx context.Context, opts Options) (*Repository, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", opts.Root, err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	files, dirs, err := find(ctx, realRoot, opts.Glob)
	if err != nil {
		return nil, err
	}
	fsys, err := os.OpenRoot(realRoot)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	defer fsys.Close()
	r := reader{root: realRoot, fsys: fsys, walked: dirs, opts: opts}
	results := make([]result, len(files))
	if err := parallel(ctx, len(files), opts.Workers, func(i int) { results[i] = r.read(files[i]) }); err != nil {
		return nil, err
	}
	repo := &Repository{Root: realRoot, Files: files}
	for _, res := range results {
		if res.model != nil {
			repo.Models = append(repo.Models, res.model)
		}
		repo.Findings = append(repo.Findings, res.findings...)
	}
	return repo, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Glob == "" {
		o.Glob = DefaultGlob
	}
	if !doublestar.ValidatePattern(o.Glob) {
		return o, fmt.Errorf("manifest pattern %q is not a valid glob", o.Glob)
	}
	if o.Limits == (manifest.Limits{}) {
		o.Limits = manifest.DefaultLimits()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Schemas == nil {
		s, err := manifest.CompileSchemas()
		if err != nil {
			return o, err
		}
		o.Schemas = s
	}
	return o, nil
}

// find lists the files under root whose relative path matches glob, sorted,
// and the directories it walked (which are real directories, not symbolic
// links). Directories that never hold manifests (.git, node_modules) are
// skipped.
func find(ctx context.Context, root, glob string) (files []string, dirs map[string]bool, err error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("open repository: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("open repository: %s is not a directory", root)
	}
	dirs = make(map[string]bool)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // an unreadable subdirectory holds nothing we can check
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if path == root {
				dirs["."] = true
				return nil
			}
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			dirs[rel] = true
			return nil
		}
		if ok, _ := doublestar.Match(glob, rel); ok {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list manifests: %w", err)
	}
	slices.Sort(files)
	return files, dirs, nil
}

// parallel calls work(i) for i in [0, n) on the given number of goroutines.
func parallel(ctx context.Context, n, workers int, work func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}

// errOutside is returned for a path that leaves the repository.
var errOutside = errors.New("path leads outside the repository")
