package gate

import (
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/governance"
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

// documentBuilder builds what the policies evaluate for each model version
// of a result: the policy input contract (DESIGN.md, "Policy input").
type documentBuilder struct {
	ev  *evaluation
	res *Result
	pr  *PullRequest
}

// document builds the policy input of one model version, either a version
// of the head or a deleted one (taken from the base). The repository keeps
// only the text of each file, so the manifest, its lineage and its base are
// decoded again here; the context only when a policy may read it.
func (b documentBuilder) document(id string) (governance.Document, error) {
	m := b.res.manifestOf(id)
	d := b.ev.document(m, id)
	doc, err := m.Decode()
	if err != nil {
		return d, fmt.Errorf("policy input: %w", err)
	}
	d.Input, d.Locator = doc.Value, doc
	if b.ev.withContext {
		if d.Context, err = b.res.policyContext(id, m, doc, b.pr); err != nil {
			return d, fmt.Errorf("policy input: %w", err)
		}
	}
	return d, nil
}

// policyContext is modelgate's context of the contract,
// data.modelgate.context, for the version id, whose manifest m decoded to
// doc. The policy's input is that document itself, which the context
// shares (manifest) rather than copies.
func (r *Result) policyContext(id string, m *manifest.Manifest, doc *manifest.Document, pr *PullRequest) (map[string]any, error) {
	change, base := r.Change(id)
	var lin any
	if m.Lineage != nil {
		v, err := m.Lineage.Value(doc)
		if err != nil {
			return nil, err
		}
		lin = v
	}
	var baseValue any
	if base != nil {
		b, err := base.Decode()
		if err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
		baseValue = b.Value
	}
	graph := r.Graph
	if change == Deleted {
		graph = r.Base.Graph
	}
	return map[string]any{
		"file":         m.File,
		"manifest":     doc.Value,
		"lineage":      lin,
		"graph":        graph.Facts(id),
		"base":         baseValue,
		"change":       string(change),
		"pull_request": pr.value(),
		"now":          r.Now.UTC().Format(time.RFC3339),
	}, nil
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
