package gate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// evaluation is the policies' part of a check. It loads the policies before
// the repository is read, and runs them on every version of the head and
// every version the change deletes. Each version's policy input is built
// when it is evaluated and dropped after, so that memory holds the inputs
// of the versions in evaluation only. When no policy reads modelgate's
// context (the graph, the base), the input is the manifest alone: each head
// version is then evaluated as it is read, with the document just decoded.
type evaluation struct {
	run *governance.Run
	// withContext: the policies may read data.modelgate.context.
	withContext bool
	// root is the repository's absolute directory.
	root string
	now  time.Time
	mu   sync.Mutex
	// read holds the findings of the manifests evaluated as they were
	// read; nil when the versions are evaluated after the graph is built.
	read map[*manifest.Manifest][]finding.Finding
}

// newEvaluation loads the policies. Without a rule to run (no default
// bundle, no policy of the user's) it returns nil: no policy input is built.
// The policies' file built-ins read the repository's files unless the
// options say otherwise.
func newEvaluation(ctx context.Context, opts Options) (*evaluation, error) {
	if opts.Policy == nil {
		return nil, nil
	}
	policy := *opts.Policy
	if policy.Repository == "" {
		policy.Repository = opts.Root
	}
	engine, err := governance.Load(ctx, policy)
	if err != nil {
		return nil, err // it says "load policies: ..." itself
	}
	if len(engine.Rules()) == 0 {
		return nil, nil
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", opts.Root, err)
	}
	ev := &evaluation{run: engine.NewRun(), withContext: engine.ReadsContext(), root: root, now: opts.Now}
	if !ev.withContext && !engine.Traces() { // traces come in version order after the graph
		ev.read = map[*manifest.Manifest][]finding.Finding{}
	}
	return ev, nil
}

// visitor evaluates each manifest as the repository reads it, when the
// policies read the manifest alone; nil otherwise.
func (ev *evaluation) visitor(ctx context.Context) func(*manifest.Manifest, *manifest.Document) {
	if ev == nil || ev.read == nil {
		return nil
	}
	return func(m *manifest.Manifest, doc *manifest.Document) {
		d := ev.document(m, m.ID())
		d.Input, d.Locator = doc.Value, doc
		fs := ev.run.Document(ctx, &d)
		ev.mu.Lock()
		ev.read[m] = fs
		ev.mu.Unlock()
	}
}

// document is the policy input of a manifest before its decoded value
// (Input, Locator) and context are set.
func (ev *evaluation) document(m *manifest.Manifest, id string) governance.Document {
	return governance.Document{
		File: m.File, Model: id, Path: filepath.Join(ev.root, filepath.FromSlash(m.File)),
		Now: ev.now.UTC().Truncate(time.Second), // the context's now, to the second
	}
}

// findings returns the findings of the policies on every version of the
// head, then every version the change deletes; nil without rules.
func (ev *evaluation) findings(ctx context.Context, res *Result, pr *PullRequest) ([]finding.Finding, error) {
	if ev == nil {
		return nil, nil
	}
	ids := append(res.Graph.IDs(), res.Deleted()...)
	var fs []finding.Finding
	if ev.read != nil {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("evaluate policies: %w", err)
		}
		for _, id := range res.Graph.IDs() {
			fs = append(fs, ev.read[res.Graph.Node(id).Manifest]...)
		}
		ids = ids[len(res.Graph.IDs()):] // the deleted versions, read from the base
	}
	build := documentBuilder{ev: ev, res: res, pr: pr}
	rest, err := ev.run.Each(ctx, len(ids), func(i int) (governance.Document, error) {
		return build.document(ids[i])
	})
	if err != nil {
		return nil, err
	}
	fs = append(fs, rest...)
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
