package gate

import (
	"time"

	"github.com/modelgate/modelgate/pkg/manifest"
)

// PullRequest is what policies learn about the pull request being checked.
type PullRequest struct {
	Number int
	Author string
	Labels []string
	// Approvals is the number of distinct approving reviewers; -1 when it
	// is unknown (no token to ask GitHub), which policies see as null.
	Approvals int
}

// value is the pull_request object of the policy context.
func (pr *PullRequest) value() any {
	if pr == nil {
		return nil
	}
	labels := make([]any, len(pr.Labels))
	for i, l := range pr.Labels {
		labels[i] = l
	}
	var approvals any
	if pr.Approvals >= 0 {
		approvals = pr.Approvals
	}
	return map[string]any{"number": pr.Number, "author": pr.Author, "labels": labels, "approvals": approvals}
}

// PolicyContext builds modelgate's context of the policy input contract
// (DESIGN.md, "Policy input"), data.modelgate.context, for one model
// version: either a version of the head, or a deleted one (taken from the
// base). The policy's input is the manifest document itself, which the
// context shares (manifest) rather than copies.
func (r *Result) PolicyContext(id string, pr *PullRequest) map[string]any {
	change, base := r.Change(id)
	m := r.manifestOf(id)
	var lin any
	if m.Lineage != nil {
		lin = m.Lineage.Value()
	}
	var baseValue any
	if base != nil {
		baseValue = base.Doc.Value
	}
	graph := r.Graph
	if change == Deleted {
		graph = r.Base.Graph
	}
	return map[string]any{
		"file":         m.File,
		"manifest":     m.Doc.Value,
		"lineage":      lin,
		"graph":        graph.Facts(id),
		"base":         baseValue,
		"change":       string(change),
		"pull_request": pr.value(),
		"now":          r.Now.UTC().Format(time.RFC3339),
	}
}

// manifestOf finds a version in the head, or else in the base; nil when
// neither has it.
func (r *Result) manifestOf(id string) *manifest.Manifest {
	if n := r.Graph.Node(id); n != nil {
		return n.Manifest
	}
	if r.Base != nil {
		if n := r.Base.Graph.Node(id); n != nil {
			return n.Manifest
		}
	}
	return nil
}
