package gate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/internal/parallel"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// evaluate loads the policies once and runs them on every version of the
// head and every version the change deletes. Without a rule to run (no
// default bundle, no policy of the user's), it builds no policy input.
func evaluate(ctx context.Context, res *Result, opts governance.Options, pr *PullRequest) ([]finding.Finding, error) {
	engine, err := governance.Load(ctx, opts)
	if err != nil {
		return nil, err // it says "load policies: ..." itself
	}
	if len(engine.Rules()) == 0 {
		return nil, nil
	}
	ids := append(res.Graph.IDs(), res.Deleted()...)
	root, err := filepath.Abs(res.Root)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", res.Root, err)
	}
	docs := make([]governance.Document, len(ids))
	parallel.ForEach(len(ids), func(i int) {
		m := res.manifestOf(ids[i])
		docs[i] = governance.Document{
			File: m.File, Model: ids[i], Path: filepath.Join(root, filepath.FromSlash(m.File)),
			Input: m.Doc.Value, Context: res.PolicyContext(ids[i], pr), Locator: m.Doc,
		}
	})
	fs, err := engine.Evaluate(ctx, docs)
	if err != nil {
		return nil, err
	}
	for i := range fs {
		res.intoLineageFile(&fs[i])
	}
	return fs, nil
}

// intoLineageFile moves a finding about spec.lineage.* of a manifest whose
// lineage is a separate file onto the line of that file, where the problem
// is. Policies see every lineage under spec.lineage, inline or not.
func (r *Result) intoLineageFile(f *finding.Finding) {
	const prefix = "spec.lineage"
	path := manifest.Canonical(f.Path)
	if f.Model == "" || !strings.HasPrefix(path, prefix) {
		return
	}
	m := r.manifestOf(f.Model)
	if m == nil || m.Lineage == nil || m.Lineage.Prefix != "" || m.Lineage.File != f.File && m.File != f.File {
		return
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(path, prefix), ".")
	if rel == "" {
		return // about the reference itself: its line in the manifest
	}
	pos, _ := m.Lineage.Doc.Positions.Nearest(rel)
	f.File, f.Line, f.Column = m.Lineage.File, pos.Line, pos.Column
}
