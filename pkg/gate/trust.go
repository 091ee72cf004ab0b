package gate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/pkg/config"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gitrepo"
	"github.com/modelgate/modelgate/pkg/governance"
)

// Trusted holds the rules a pull request is judged by, read from its base
// commit: a pull request cannot change the rules that judge it.
type Trusted struct {
	// Dir holds the base commit's configuration, policies and data, at
	// the same paths as in the repository.
	Dir string
	// Commit is the base commit they were read from.
	Commit string
	// Config is the base commit's .github/modelgate.yml.
	Config *config.Config
	// Files lists every file the pull request changes (added, modified or
	// deleted) since it branched from the base, relative to the root.
	Files []string
	// Changed lists the policy, data and configuration files among them.
	Changed []string
}

// LoadTrusted exports .github/modelgate.yml, and the policy and data paths
// it names, from the base revision of the repository at root, together with
// extra paths (policies named by the action's inputs, relative to root).
// An unreadable base is an error: without it the check cannot be trusted.
// Close removes the export.
func LoadTrusted(ctx context.Context, root, baseRef string, extra []string) (*Trusted, error) {
	repo, err := gitrepo.Open(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("read the base's policies: %w", err)
	}
	commit, err := repo.Resolve(ctx, baseRef)
	if err != nil {
		return nil, fmt.Errorf("read the base's policies: %w", err)
	}
	dir, err := os.MkdirTemp("", "modelgate-trusted-")
	if err != nil {
		return nil, err
	}
	t := &Trusted{Dir: dir, Commit: commit}
	if err := t.load(ctx, repo, extra); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Trusted) load(ctx context.Context, repo *gitrepo.Repo, extra []string) error {
	if err := repo.Export(ctx, t.Commit, t.Dir, config.Path); err != nil {
		return fmt.Errorf("read the base's configuration: %w", err)
	}
	cfg, err := config.Load(t.Dir)
	if err != nil {
		return fmt.Errorf("the base's configuration: %w", err)
	}
	t.Config = cfg
	paths := append(cfg.PolicyPaths(), extra...)
	for _, p := range paths[1:] { // the configuration itself is exported
		if err := repo.Export(ctx, t.Commit, t.Dir, path.Clean(filepath.ToSlash(p))); err != nil {
			return fmt.Errorf("read the base's policy %s: %w", p, err)
		}
		if _, err := os.Stat(t.Path(p)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("policy path %s: no such file or directory at the base commit %s, whose policies judge this pull request (a path the pull request adds is obeyed once it is merged)", p, short(t.Commit))
		}
	}
	since := t.Commit
	if head, err := repo.Resolve(ctx, "HEAD"); err == nil {
		if mb, err := repo.MergeBase(ctx, t.Commit, head); err == nil {
			since = mb // what the pull request changes, not what the base did since
		}
	}
	changed, err := repo.ChangedFiles(ctx, since)
	if err != nil {
		return err
	}
	t.Files = changed
	for _, f := range changed {
		if underAny(f, paths) {
			t.Changed = append(t.Changed, f)
		}
	}
	slices.Sort(t.Changed)
	return nil
}

// underAny reports whether file is one of paths or inside one of them.
func underAny(file string, paths []string) bool {
	for _, p := range paths {
		p = strings.TrimSuffix(path.Clean(filepath.ToSlash(p)), "/")
		if file == p || strings.HasPrefix(file, p+"/") || p == "." {
			return true
		}
	}
	return false
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Path returns where a repository path of the base's policies is in Dir.
func (t *Trusted) Path(rel string) string { return filepath.Join(t.Dir, filepath.FromSlash(rel)) }

// RulePolicyChanged is the rule of the findings that say the pull request
// changes a policy, data or configuration file.
const RulePolicyChanged = "trust/policy-changed"

// Findings warns on each policy file the pull request changes: the change
// is reported, not obeyed.
func (t *Trusted) Findings() []finding.Finding {
	out := make([]finding.Finding, 0, len(t.Changed))
	for _, f := range t.Changed {
		out = append(out, finding.Finding{
			Rule: RulePolicyChanged, Title: "Policy changed in this pull request", Severity: finding.Warning,
			File: f, Line: 1, Column: 1,
			Message: "policy changed in this pull request; evaluated with the base branch's policy",
		})
	}
	return out
}

// Close removes the exported files.
func (t *Trusted) Close() error { return os.RemoveAll(t.Dir) }

// RuleChanges says which policy rules a pull request adds, removes or
// changes, by id (package.rule): what the job summary shows reviewers, since
// the change itself is not applied.
type RuleChanges struct {
	Added, Removed, Changed []string
}

// RuleChanges compares the rules of the changed Rego files in the working
// tree at root with the base's. Files that do not parse count as removing
// their rules.
func (t *Trusted) RuleChanges(root string) RuleChanges {
	head, base := map[string]string{}, map[string]string{}
	for _, f := range t.Changed {
		if !strings.HasSuffix(f, ".rego") {
			continue
		}
		addRules(head, f, filepath.Join(root, filepath.FromSlash(f)))
		addRules(base, f, t.Path(f))
	}
	var rc RuleChanges
	for id, body := range head {
		old, ok := base[id]
		switch {
		case !ok:
			rc.Added = append(rc.Added, id)
		case old != body:
			rc.Changed = append(rc.Changed, id)
		}
	}
	for id := range base {
		if _, ok := head[id]; !ok {
			rc.Removed = append(rc.Removed, id)
		}
	}
	slices.Sort(rc.Added)
	slices.Sort(rc.Removed)
	slices.Sort(rc.Changed)
	return rc
}

// addRules records the rules of one Rego file: id -> the text of every
// definition of it. A file that does not read or parse adds none.
func addRules(into map[string]string, name, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		return
	}
	rules, err := governance.RuleTexts(name, data)
	if err != nil {
		return
	}
	maps.Copy(into, rules)
}
