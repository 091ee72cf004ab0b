package gate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// evaluate loads the policies once and runs them on every version of the
// head and every version the change deletes. Each version's policy input is
// built when it is evaluated and dropped after, so that memory holds the
// inputs of the versions in evaluation only. Without a rule to run (no
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
	build := documentBuilder{res: res, root: root, pr: pr, withContext: engine.ReadsContext()}
	fs, err := engine.EvaluateEach(ctx, len(ids), func(i int) (governance.Document, error) {
		return build.document(ids[i])
	})
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
	doc, err := m.Lineage.Source.Decode()
	if err != nil {
		return // it decoded when it was read; were it not to, the finding stays on the manifest
	}
	pos, _ := doc.Positions.Nearest(rel)
	f.File, f.Line, f.Column = m.Lineage.File, pos.Line, pos.Column
}
