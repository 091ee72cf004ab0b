// Package lineage builds the lineage graph of all model versions in a
// repository and checks it: cycles, self-parents, references to versions
// that do not exist, lineage that disagrees with its manifest, and training
// data checksums. Its findings are facts; policies decide what is an error.
package lineage

import (
	"slices"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/pkg/manifest"
)

// Node is one model version in the graph.
type Node struct {
	// ID is "name@version".
	ID       string
	Manifest *manifest.Manifest
	// Parents are the ids of the parents declared in the repository, in the
	// order the lineage lists them.
	Parents []string
	// External are the declared parents that no manifest declares.
	External []string
	// Children are the ids of the versions that name this one as a parent.
	Children []string
	// parentRefs[i] is the index in the lineage's parent_models of Parents[i].
	parentRefs []int
	problems   []Problem
	cycle      []string
}

// Graph is the lineage of every model version of a repository.
type Graph struct {
	nodes  map[string]*Node
	ids    []string            // sorted
	byName map[string][]string // versions of a name, lowest first
	dups   []Problem
}

// Build makes the graph of the given manifests and runs every check. A
// second manifest for the same name@version is reported and left out.
func Build(models []*manifest.Manifest) *Graph {
	g := &Graph{nodes: make(map[string]*Node, len(models)), byName: make(map[string][]string)}
	for _, m := range models {
		id := m.ID()
		if first, dup := g.nodes[id]; dup {
			g.dups = append(g.dups, duplicateProblem(m, first.Manifest))
			continue
		}
		g.nodes[id] = &Node{ID: id, Manifest: m}
		g.ids = append(g.ids, id)
		g.byName[m.Metadata.Name] = append(g.byName[m.Metadata.Name], id)
	}
	slices.SortFunc(g.ids, CompareIDs)
	for _, versions := range g.byName {
		slices.SortFunc(versions, CompareIDs)
	}
	for _, id := range g.ids {
		g.link(g.nodes[id])
	}
	for _, id := range g.ids {
		n := g.nodes[id]
		slices.SortFunc(n.Children, CompareIDs)
		n.Children = slices.Compact(n.Children)
		checkNode(n)
	}
	g.findCycles()
	for _, id := range g.ids {
		g.nodes[id].place()
	}
	return g
}

// link resolves a node's declared parents and records it as their child.
func (g *Graph) link(n *Node) {
	l := n.Manifest.Lineage
	if l == nil {
		return
	}
	for i, ref := range l.ParentModels {
		parent, p := g.resolve(n, ref)
		if p != nil {
			p.Path = l.Path(indexPath("parent_models", i))
			n.add(*p)
		}
		switch {
		case parent == "":
			if p == nil {
				n.External = append(n.External, ref)
			}
		case parent == n.ID:
			n.add(Problem{Kind: SelfParent, Path: l.Path(indexPath("parent_models", i)), Message: "model lists itself as its own parent (" + ref + ")"})
		default:
			n.Parents = append(n.Parents, parent)
			n.parentRefs = append(n.parentRefs, i)
			g.nodes[parent].Children = append(g.nodes[parent].Children, n.ID)
		}
	}
}

// resolve maps a parent reference to a node id. "name@version" must match a
// manifest exactly when the name is known; a bare "name" means the highest
// version of that name other than the child itself. An unknown name is an
// external parent (empty id, no problem).
func (g *Graph) resolve(child *Node, ref string) (string, *Problem) {
	name, _, pinned := strings.Cut(ref, "@")
	versions, known := g.byName[name]
	if !known {
		return "", nil
	}
	if pinned {
		if _, ok := g.nodes[ref]; ok {
			return ref, nil
		}
		return "", &Problem{Kind: UnknownVersion, Message: "parent " + ref + " does not exist; known versions of " + name + ": " + strings.Join(versionsOf(versions), ", ")}
	}
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i] != child.ID {
			return versions[i], nil
		}
	}
	return child.ID, nil
}

// add records a problem of the node's lineage document (or of its
// manifest when it has no lineage); place puts it on its line.
func (n *Node) add(p Problem) {
	p.Model = n.ID
	p.File, _ = n.document()
	n.problems = append(n.problems, p)
}

// document is the file the node's problems are in, and what was kept of it.
func (n *Node) document() (string, *manifest.Source) {
	if l := n.Manifest.Lineage; l != nil {
		return l.File, l.Source
	}
	return n.Manifest.File, n.Manifest.Source
}

// place puts the node's problems on the lines of their paths (or of their
// closest ancestor), decoding the document once for all of them: the
// repository keeps only its text. It decoded when it was read, so it
// decodes the same again; were it not to, the problems stay on line 1
// rather than be lost.
func (n *Node) place() {
	if len(n.problems) == 0 {
		return
	}
	_, src := n.document()
	doc, err := src.Decode()
	for i := range n.problems {
		p := &n.problems[i]
		pos := manifest.Position{Line: 1, Column: 1}
		if err == nil {
			pos, _ = doc.Positions.Nearest(p.Path)
		}
		p.Line, p.Column = pos.Line, pos.Column
	}
}

// Node returns the node of an id, or nil.
func (g *Graph) Node(id string) *Node { return g.nodes[id] }

// IDs returns every node id, sorted by CompareIDs (the order of every list
// of ids the graph returns).
func (g *Graph) IDs() []string { return g.ids }

// Versions returns the ids of every version of a model name, lowest first.
func (g *Graph) Versions(name string) []string { return g.byName[name] }

// Ancestors returns the ids of every ancestor of id, sorted.
func (g *Graph) Ancestors(id string) []string {
	return g.walk([]string{id}, func(n *Node) []string { return n.Parents })
}

// Descendants returns the ids of every descendant of id, sorted.
func (g *Graph) Descendants(id string) []string {
	return g.walk([]string{id}, func(n *Node) []string { return n.Children })
}

// Impact returns the changed ids that exist in the graph and all their
// descendants: the model versions a change can affect. Sorted.
func (g *Graph) Impact(changed []string) []string {
	var start []string
	for _, id := range changed {
		if g.nodes[id] != nil {
			start = append(start, id)
		}
	}
	out := append(g.walk(start, func(n *Node) []string { return n.Children }), start...)
	slices.SortFunc(out, CompareIDs)
	return slices.Compact(out)
}

// walk returns the nodes reachable from start (excluding start itself
// unless it is reached again) along next, sorted.
func (g *Graph) walk(start []string, next func(*Node) []string) []string {
	seen := make(map[string]bool)
	stack := slices.Clone(start)
	var out []string
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := g.nodes[id]
		if n == nil {
			continue
		}
		for _, m := range next(n) {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
				stack = append(stack, m)
			}
		}
	}
	slices.SortFunc(out, CompareIDs)
	return out
}

func versionsOf(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		_, out[i], _ = strings.Cut(id, "@")
	}
	return out
}

// indexPath is the path of item i of the list at key.
func indexPath(key string, i int) string {
	return key + "[" + strconv.Itoa(i) + "]"
}
