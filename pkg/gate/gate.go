// Package gate is modelgate's check of a repository, read top to bottom:
// load the manifests, build the lineage graph, turn what was found into
// findings. The action's commands are thin wrappers around Run.
package gate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/lineage"
	"github.com/modelgate/modelgate/pkg/manifest"
	"github.com/modelgate/modelgate/pkg/repository"
)

// Options configure one check of a repository.
type Options struct {
	// Root is the repository's directory.
	Root string
	// Glob matches manifests; empty means repository.DefaultGlob.
	Glob string
	// Schemas is shared between runs when set; nil compiles them.
	Schemas *manifest.Schemas
	// Now is the time of the run; zero means time.Now.
	Now time.Time
	// BaseRef, when set, is the revision changes are measured against (a
	// pull request's base branch). When it cannot be read the check goes on
	// without the comparison and says so in a warning.
	BaseRef string
	// BaseName is how reports name the base, a pull request's base branch
	// when BaseRef is its commit; empty: BaseRef.
	BaseName string
	// Policy, when set, evaluates the governance policies on every version
	// (and every version the change deletes). The policies then decide what
	// the lineage graph's problems mean; without policies they are errors.
	Policy *governance.Options
	// PullRequest is what the policies learn of the pull request; nil
	// outside one.
	PullRequest *PullRequest
}

// Result is everything one check found.
type Result struct {
	// Root is the repository's directory as the caller named it.
	Root  string
	Now   time.Time
	Repo  *repository.Repository
	Graph *lineage.Graph
	// Base is the comparison with BaseRef; nil without one.
	Base *Base
	// Findings are sorted worst first.
	Findings []finding.Finding
}

// Run checks the repository at opts.Root. The error is for a check that
// could not run at all; what is wrong with the repository is in Findings.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Glob == "" {
		opts.Glob = repository.DefaultGlob
	}
	if opts.Schemas == nil {
		s, err := manifest.CompileSchemas()
		if err != nil {
			return nil, err
		}
		opts.Schemas = s
	}
	policies, err := newEvaluation(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	repo, err := repository.Load(ctx, repository.Options{Root: opts.Root, Glob: opts.Glob, Schemas: opts.Schemas, Visit: policies.visitor(ctx)})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	graph := lineage.Build(repo.Models)
	findings := repo.Findings
	if opts.Policy == nil {
		findings = append(findings, lineageFindings(graph)...)
	}
	if len(repo.Files) == 0 {
		findings = append(findings, emptyFinding(opts))
	}
	res := &Result{Root: opts.Root, Now: opts.Now, Repo: repo, Graph: graph}
	if opts.BaseRef != "" {
		base, err := loadBase(ctx, opts)
		if err != nil {
			findings = append(findings, baseWarning(opts.BaseRef, err))
		}
		res.Base = base
		if base != nil {
			base.findUnreadable(res)
			findings = append(findings, renameFindings(res)...)
		}
	}
	fs, err := policies.findings(ctx, res, opts.PullRequest)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	findings = append(findings, fs...)
	attachModels(findings, res.knownModels())
	finding.Sort(findings)
	res.Findings = findings
	return res, nil
}

// lineageSeverity is how much a lineage problem matters when no policy says
// otherwise: a missing lineage is worth a warning, anything else is wrong.
func lineageSeverity(kind lineage.ProblemKind) finding.Severity {
	if kind == lineage.MissingLineage {
		return finding.Warning
	}
	return finding.Error
}

func lineageFindings(g *lineage.Graph) []finding.Finding {
	problems := g.Problems()
	out := make([]finding.Finding, 0, len(problems))
	for _, p := range problems {
		out = append(out, finding.Finding{
			Rule: "lineage/" + string(p.Kind), Title: "Lineage", Severity: lineageSeverity(p.Kind), Message: p.Message,
			File: p.File, Line: p.Line, Column: p.Column, Path: p.Path, Model: p.Model,
		})
	}
	return out
}

// emptyFinding fails a check that checked nothing: a typo in the glob or
// the directory must not turn the gate off.
func emptyFinding(opts Options) finding.Finding {
	return finding.Finding{
		Rule: "repository/empty", Title: "No manifests", Severity: finding.Error,
		Message: fmt.Sprintf("no manifest matches the glob %q under %s, so nothing was checked: check the manifests glob and the path", opts.Glob, opts.Root),
	}
}

// knownModels are the manifests findings may be about: the head's, and the
// base's of the versions whose manifest no longer loads.
func (r *Result) knownModels() []*manifest.Manifest {
	if r.Base == nil || len(r.Base.Unreadable) == 0 {
		return r.Repo.Models
	}
	out := slices.Clone(r.Repo.Models)
	for _, id := range r.Unreadable() {
		out = append(out, r.Base.Unreadable[id])
	}
	return out
}

// attachModels names the model of findings that know only their file.
func attachModels(fs []finding.Finding, models []*manifest.Manifest) {
	byFile := make(map[string]string, len(models))
	for _, m := range models {
		byFile[m.File] = m.ID()
		if m.Lineage != nil {
			byFile[m.Lineage.File] = m.ID()
		}
	}
	for i := range fs {
		if fs[i].Model == "" {
			fs[i].Model = byFile[fs[i].File]
		}
	}
}

// Counts returns the number of findings per severity.
func (r *Result) Counts() map[finding.Severity]int { return finding.Count(r.Findings) }

// Failed reports whether any finding is at least as severe as threshold.
func (r *Result) Failed(threshold finding.Severity) bool {
	return finding.Reaches(r.Findings, threshold)
}
