package gate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gitrepo"
	"github.com/modelgate/modelgate/pkg/lineage"
	"github.com/modelgate/modelgate/pkg/manifest"
	"github.com/modelgate/modelgate/pkg/repository"
)

// Change says how a pull request changed a model version.
type Change string

// The changes of the policy input contract.
const (
	Added     Change = "added"
	Modified  Change = "modified"
	Unchanged Change = "unchanged"
	Deleted   Change = "deleted"
)

// Base is the repository as it was at the commit a pull request is
// compared with.
type Base struct {
	// Ref is what the user named; Commit is the commit compared with.
	Ref    string
	Commit string
	// Name is how reports name the base: the branch, else Ref.
	Name  string
	Repo  *repository.Repository
	Graph *lineage.Graph
	// Unreadable holds the versions whose manifest the change modified into
	// one that no longer loads (a syntax error, say): the file is still
	// there, so they are modified, not deleted. By id, their manifest at
	// the base.
	Unreadable map[string]*manifest.Manifest
}

// ErrBaseUnavailable wraps every reason the base could not be read.
var ErrBaseUnavailable = errors.New("base revision unavailable")

// loadBase exports the manifests of the base revision to a temporary
// directory and loads them with the same options as the head.
func loadBase(ctx context.Context, opts Options) (*Base, error) {
	repo, err := gitrepo.Open(ctx, opts.Root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBaseUnavailable, err)
	}
	commit, err := repo.Resolve(ctx, opts.BaseRef)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBaseUnavailable, err)
	}
	if head, err := repo.Resolve(ctx, "HEAD"); err == nil {
		if mb, err := repo.MergeBase(ctx, commit, head); err == nil {
			commit = mb
		}
	}
	dir, err := os.MkdirTemp("", "modelgate-base-")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBaseUnavailable, err)
	}
	defer os.RemoveAll(dir)
	var paths []string
	if prefix, _ := doublestar.SplitPattern(opts.Glob); prefix != "." {
		paths = []string{prefix}
	}
	if err := repo.Export(ctx, commit, dir, paths...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBaseUnavailable, err)
	}
	loaded, err := repository.Load(ctx, repository.Options{Root: dir, Glob: opts.Glob, Schemas: opts.Schemas})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBaseUnavailable, err)
	}
	name := opts.BaseName
	if name == "" {
		name = opts.BaseRef
	}
	return &Base{Ref: opts.BaseRef, Name: name, Commit: commit, Repo: loaded, Graph: lineage.Build(loaded.Models)}, nil
}

// findUnreadable records the base's versions that the head still has a
// manifest file for, which does not load.
func (b *Base) findUnreadable(head *Result) {
	unloaded := make(map[string]bool, len(head.Repo.Files))
	for _, f := range head.Repo.Files {
		unloaded[f] = true
	}
	for _, m := range head.Repo.Models {
		delete(unloaded, m.File)
	}
	for _, id := range b.Graph.IDs() {
		m := b.Graph.Node(id).Manifest
		if head.Graph.Node(id) == nil && unloaded[m.File] {
			if b.Unreadable == nil {
				b.Unreadable = map[string]*manifest.Manifest{}
			}
			b.Unreadable[id] = m
		}
	}
}

// baseWarning reports that the comparison was skipped, and why.
func baseWarning(ref string, err error) finding.Finding {
	return finding.Finding{
		Rule: "base/unavailable", Title: "No base comparison", Severity: finding.Warning,
		Message: fmt.Sprintf("could not read the base %q, so changes are not compared with it: %v", ref, err),
	}
}

// Change returns how the version id changed since the base, and the
// manifest it is compared with: the same version on the base, or for a new
// version the highest version of the same model there (the one it would
// replace). Without a base every version is Unchanged and has none.
func (r *Result) Change(id string) (Change, *manifest.Manifest) {
	if r.Base == nil {
		return Unchanged, nil
	}
	head := r.Graph.Node(id)
	if head == nil {
		if m := r.Base.Unreadable[id]; m != nil {
			return Modified, m
		}
		if n := r.Base.Graph.Node(id); n != nil {
			return Deleted, n.Manifest
		}
		return Unchanged, nil
	}
	if n := r.Base.Graph.Node(id); n != nil {
		if sameContent(head.Manifest, n.Manifest) {
			return Unchanged, n.Manifest
		}
		return Modified, n.Manifest
	}
	versions := r.Base.Graph.Versions(head.Manifest.Metadata.Name)
	if len(versions) == 0 {
		return Added, nil
	}
	return Added, r.Base.Graph.Node(versions[len(versions)-1]).Manifest
}

// Changed returns the ids of the versions added or modified since the base,
// unreadable ones included, sorted; nil without a base.
func (r *Result) Changed() []string {
	if r.Base == nil {
		return nil
	}
	var out []string
	for _, id := range r.Graph.IDs() {
		if c, _ := r.Change(id); c == Added || c == Modified {
			out = append(out, id)
		}
	}
	for id := range r.Base.Unreadable {
		out = append(out, id)
	}
	slices.SortFunc(out, lineage.CompareIDs)
	return out
}

// Deleted returns the ids of the versions the base has and the head does
// not, sorted: neither as a model nor as a manifest file that no longer
// loads.
func (r *Result) Deleted() []string {
	if r.Base == nil {
		return nil
	}
	var out []string
	for _, id := range r.Base.Graph.IDs() {
		if r.Graph.Node(id) == nil && r.Base.Unreadable[id] == nil {
			out = append(out, id)
		}
	}
	return slices.Clip(out)
}

// Unreadable returns the ids of the versions whose manifest no longer
// loads (see Base.Unreadable), sorted.
func (r *Result) Unreadable() []string {
	if r.Base == nil {
		return nil
	}
	out := slices.Collect(maps.Keys(r.Base.Unreadable))
	slices.SortFunc(out, lineage.CompareIDs)
	return out
}

// Node returns the graph node of a version of the head, or for one whose
// manifest no longer loads its node at the base; nil for neither.
func (r *Result) Node(id string) *lineage.Node {
	if n := r.Graph.Node(id); n != nil {
		return n
	}
	if r.Base != nil && r.Base.Unreadable[id] != nil {
		return r.Base.Graph.Node(id)
	}
	return nil
}

// Versions returns the ids of every version the check knows of in the
// head: those of the graph, and those whose manifest no longer loads.
func (r *Result) Versions() []string {
	if r.Base == nil || len(r.Base.Unreadable) == 0 {
		return r.Graph.IDs()
	}
	out := append(slices.Clone(r.Graph.IDs()), r.Unreadable()...)
	slices.SortFunc(out, lineage.CompareIDs)
	return out
}

// PictureGraph is the graph to draw: the head's, with the base's manifest
// standing in for each version that no longer loads, so that a broken
// change stays in the picture.
func (r *Result) PictureGraph() *lineage.Graph {
	if r.Base == nil || len(r.Base.Unreadable) == 0 {
		return r.Graph
	}
	return lineage.Build(r.knownModels())
}

// sameContent compares two versions by what they say, not how the files
// are laid out: the decoded manifest and lineage. Files of the same text
// say the same, which spares decoding the versions a change leaves alone.
// A file that would not decode again (it did when read) counts as changed.
func sameContent(a, b *manifest.Manifest) bool {
	if (a.Lineage == nil) != (b.Lineage == nil) {
		return false
	}
	if sameText(a, b) {
		return true
	}
	da, errA := a.Decode()
	db, errB := b.Decode()
	if errA != nil || errB != nil || !reflect.DeepEqual(da.Value, db.Value) {
		return false
	}
	if a.Lineage == nil {
		return true
	}
	la, errA := a.Lineage.Value(da)
	lb, errB := b.Lineage.Value(db)
	return errA == nil && errB == nil && reflect.DeepEqual(la, lb)
}

// sameText holds when two versions, both with a lineage or both without,
// have files of the same text: the manifests, and the lineage files unless
// the lineage is inline (and so part of the manifest).
func sameText(a, b *manifest.Manifest) bool {
	if a.Source.Text() != b.Source.Text() {
		return false
	}
	la, lb := a.Lineage, b.Lineage
	return la == nil || la.Prefix == lb.Prefix && (la.Prefix != "" || la.Source.Text() == lb.Source.Text())
}

// Renames pairs each added version with a deleted one that has the same
// artifact digest (the same trained model under a new name or version):
// map from the added id to the deleted id.
func (r *Result) Renames() map[string]string {
	deleted := r.Deleted()
	if len(deleted) == 0 {
		return nil
	}
	byDigest := make(map[string]string, len(deleted))
	for _, id := range deleted {
		if d := r.Base.Graph.Node(id).Manifest.Spec.Artifact.Digest; d != "" {
			byDigest[d] = id
		}
	}
	out := make(map[string]string)
	for _, id := range r.Changed() {
		if c, _ := r.Change(id); c != Added {
			continue
		}
		if old, ok := byDigest[r.Graph.Node(id).Manifest.Spec.Artifact.Digest]; ok {
			out[id] = old
		}
	}
	return out
}

// renameFindings note each rename on the new manifest, so a reviewer sees
// that a deletion is not a loss.
func renameFindings(r *Result) []finding.Finding {
	var out []finding.Finding
	for id, old := range r.Renames() {
		m := r.Graph.Node(id).Manifest
		line, col := 1, 1
		if doc, err := m.Decode(); err == nil { // it decoded when read
			line, col, _ = doc.Locate("metadata.name")
		}
		out = append(out, finding.Finding{
			Rule: "change/renamed", Title: "Renamed model", Severity: finding.Info, Model: id,
			File: m.File, Line: line, Column: col, Path: "metadata.name",
			Message: fmt.Sprintf("%s replaces %s (%s), which this change deletes: same artifact digest", id, old, r.Base.Graph.Node(old).Manifest.File),
		})
	}
	return out
}
