package lineage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/pkg/manifest"
)

// ProblemKind names a kind of lineage problem. Policies match on it.
type ProblemKind string

// The kinds of lineage problems.
const (
	SelfParent        ProblemKind = "self_parent"
	Cycle             ProblemKind = "cycle"
	UnknownVersion    ProblemKind = "unknown_version"
	ModelIDMismatch   ProblemKind = "model_id_mismatch"
	VersionMismatch   ProblemKind = "version_mismatch"
	LengthMismatch    ProblemKind = "length_mismatch"
	MalformedChecksum ProblemKind = "malformed_checksum"
	MissingLineage    ProblemKind = "missing_lineage"
	DuplicateVersion  ProblemKind = "duplicate_version"
)

// Problem is one fact about a model version's lineage that a policy may
// treat as an error.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	Model   string      `json:"model"`
	Message string      `json:"message"`
	// File and Path say where the problem is: the lineage file (or the
	// manifest, for inline lineage) and the field within it.
	File   string `json:"file"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Members lists a cycle's versions in order, the first repeated last.
	Members []string `json:"members,omitempty"`
}

// wellFormedChecksum holds for sha256:<64 lowercase hex> and
// sha512:<128 lowercase hex>: the pattern
// ^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$ without a regular expression,
// which took a tenth of building the graph.
func wellFormedChecksum(s string) bool {
	var digest string
	switch {
	case strings.HasPrefix(s, "sha256:"):
		digest = s[len("sha256:"):]
		if len(digest) != 64 {
			return false
		}
	case strings.HasPrefix(s, "sha512:"):
		digest = s[len("sha512:"):]
		if len(digest) != 128 {
			return false
		}
	default:
		return false
	}
	for i := 0; i < len(digest); i++ {
		if c := digest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkNode runs the checks that need only the node's own lineage.
func checkNode(n *Node) {
	m, l := n.Manifest, n.Manifest.Lineage
	if l == nil {
		if m.Spec.LineageRef != "" {
			return // the lineage file could not be read; that is reported where it is read
		}
		n.add(Problem{Kind: MissingLineage, Path: "spec", Message: "manifest declares no lineage (spec.lineage)"})
		return
	}
	if l.ModelID != "" && l.ModelID != m.Metadata.Name {
		n.add(Problem{Kind: ModelIDMismatch, Path: l.Path("model_id"), Message: fmt.Sprintf("lineage model_id %q differs from the manifest's name %q", l.ModelID, m.Metadata.Name)})
	}
	if l.Version != "" && l.Version != m.Metadata.Version {
		n.add(Problem{Kind: VersionMismatch, Path: l.Path("version"), Message: fmt.Sprintf("lineage version %q differs from the manifest's version %q", l.Version, m.Metadata.Version)})
	}
	td := l.TrainingData
	if len(td.Versions) != len(td.Checksums) {
		n.add(Problem{Kind: LengthMismatch, Path: l.Path("training_data.checksums"), Message: fmt.Sprintf("training data lists %d versions but %d checksums; give one checksum per version", len(td.Versions), len(td.Checksums))})
	}
	for i, c := range td.Checksums {
		if !wellFormedChecksum(c) {
			n.add(Problem{Kind: MalformedChecksum, Path: l.Path(indexPath("training_data.checksums", i)), Message: fmt.Sprintf("checksum %q is not sha256:<64 lowercase hex> or sha512:<128 lowercase hex>", truncate(c, 80))})
		}
	}
}

func duplicateProblem(m, first *manifest.Manifest) Problem {
	pos := manifest.Position{Line: 1, Column: 1}
	if doc, err := m.Source.Decode(); err == nil { // it decoded when read
		pos, _ = doc.Positions.Nearest("metadata.version")
	}
	return Problem{
		Kind: DuplicateVersion, Model: m.ID(), File: m.File, Path: "metadata.version", Line: pos.Line, Column: pos.Column,
		Message: fmt.Sprintf("%s is also declared by %s; each version needs exactly one manifest", m.ID(), first.File),
	}
}

// findCycles finds the strongly connected components of the parent edges
// (Tarjan's algorithm, iterative so deep chains cannot overflow the stack)
// and reports each cycle to every member.
func (g *Graph) findCycles() {
	for _, scc := range g.components() {
		if len(scc) < 2 {
			continue
		}
		members := g.cycleOrder(scc)
		for _, id := range scc {
			n := g.nodes[id]
			n.cycle = members
			i := slices.Index(n.Parents, nextInCycle(members, id))
			path := "parent_models"
			if i >= 0 {
				path = indexPath("parent_models", n.parentRefs[i])
			}
			n.add(Problem{Kind: Cycle, Path: n.Manifest.Lineage.Path(path), Members: members,
				Message: "lineage cycle: " + strings.Join(members, " → ")})
		}
	}
}

func nextInCycle(members []string, id string) string {
	for i := 0; i+1 < len(members); i++ {
		if members[i] == id {
			return members[i+1]
		}
	}
	return ""
}

// cycleOrder walks parent edges inside one component from its smallest id
// back to itself, and returns that path with the start repeated at the end.
func (g *Graph) cycleOrder(scc []string) []string {
	in := make(map[string]bool, len(scc))
	for _, id := range scc {
		in[id] = true
	}
	start := slices.Min(scc)
	prev := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, p := range g.nodes[id].Parents {
			if !in[p] {
				continue
			}
			if p == start {
				return append(pathTo(prev, id), start)
			}
			if _, seen := prev[p]; !seen {
				prev[p] = id
				queue = append(queue, p)
			}
		}
	}
	return append(slices.Sorted(slices.Values(scc)), start)
}

func pathTo(prev map[string]string, id string) []string {
	var out []string
	for ; id != ""; id = prev[id] {
		out = append(out, id)
	}
	slices.Reverse(out)
	return out
}

// components returns the strongly connected components of the parent edges.
func (g *Graph) components() [][]string {
	index := make(map[string]int, len(g.ids))
	low := make(map[string]int, len(g.ids))
	onStack := make(map[string]bool)
	var stack []string
	var out [][]string
	type frame struct {
		id   string
		next int
	}
	for _, root := range g.ids {
		if _, seen := index[root]; seen {
			continue
		}
		calls := []frame{{id: root}}
		index[root], low[root] = len(index), len(index)
		stack, onStack[root] = append(stack, root), true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			parents := g.nodes[f.id].Parents
			if f.next < len(parents) {
				p := parents[f.next]
				f.next++
				if _, seen := index[p]; !seen {
					index[p], low[p] = len(index), len(index)
					stack, onStack[p] = append(stack, p), true
					calls = append(calls, frame{id: p})
				} else if onStack[p] {
					low[f.id] = min(low[f.id], index[p])
				}
				continue
			}
			id := f.id
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				caller := calls[len(calls)-1].id
				low[caller] = min(low[caller], low[id])
			}
			if low[id] == index[id] {
				var scc []string
				for {
					top := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[top] = false
					scc = append(scc, top)
					if top == id {
						break
					}
				}
				out = append(out, scc)
			}
		}
	}
	return out
}

// Problems returns every problem of the graph, in id order.
func (g *Graph) Problems() []Problem {
	out := slices.Clone(g.dups)
	for _, id := range g.ids {
		out = append(out, g.nodes[id].problems...)
	}
	return out
}

// ProblemsOf returns the problems of one model version.
func (g *Graph) ProblemsOf(id string) []Problem {
	if n := g.nodes[id]; n != nil {
		return n.problems
	}
	return nil
}

// Cycle returns the cycle a version is part of (first member repeated
// last), or nil.
func (g *Graph) Cycle(id string) []string {
	if n := g.nodes[id]; n != nil {
		return n.cycle
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
