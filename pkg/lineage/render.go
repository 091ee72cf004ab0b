package lineage

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Status colours a node in a rendered graph.
type Status string

// The statuses a rendering knows, worst first.
const (
	StatusError   Status = "error"
	StatusWarning Status = "warning"
	StatusChanged Status = "changed"
	StatusOK      Status = "ok"
)

// View selects and colours what a rendering shows.
type View struct {
	// Only, when not empty, limits the picture to these ids plus their
	// ancestors and descendants; empty shows the whole graph.
	Only []string
	// Status colours nodes; nodes without a status are drawn plainly.
	Status map[string]Status
}

// members returns the ids to draw, sorted.
func (g *Graph) members(v View) []string {
	if len(v.Only) == 0 {
		return g.ids
	}
	var out []string
	for _, id := range v.Only {
		if g.nodes[id] == nil {
			continue
		}
		out = append(out, id)
		out = append(out, g.Ancestors(id)...)
		out = append(out, g.Descendants(id)...)
	}
	slices.SortFunc(out, CompareIDs)
	return slices.Compact(out)
}

// edge is a parent → child line of the picture. Parent is an id or, for an
// external parent, its name.
type edge struct {
	parent, child string
	external      bool
}

func (g *Graph) edges(ids []string) []edge {
	var out []edge
	for _, id := range ids {
		n := g.nodes[id]
		for _, p := range n.Parents {
			out = append(out, edge{parent: p, child: id})
		}
		for _, p := range n.External {
			out = append(out, edge{parent: p, child: id, external: true})
		}
	}
	return out
}

// Mermaid writes the graph as a Mermaid flowchart, parents above children.
// Node ids are generated, and every label is escaped, so names taken from a
// pull request cannot add Mermaid directives (click, style, links).
func (g *Graph) Mermaid(w io.Writer, v View) error {
	bw := bufio.NewWriter(w)
	ids := g.members(v)
	key := make(map[string]string)
	fmt.Fprintln(bw, "flowchart TD")
	for i, id := range ids {
		key[id] = "m" + strconv.Itoa(i)
		n := g.nodes[id]
		label := mermaidText(n.Manifest.Metadata.Name) + "<br/>" + mermaidText(n.Manifest.Metadata.Version)
		if stage := n.Manifest.Spec.Lifecycle.Stage; stage != "" {
			label += "<br/><i>" + mermaidText(stage) + "</i>"
		}
		fmt.Fprintf(bw, "  %s[\"%s\"]\n", key[id], label)
	}
	ext := 0
	for _, e := range g.edges(ids) {
		if e.external {
			k := "x" + strconv.Itoa(ext)
			ext++
			fmt.Fprintf(bw, "  %s([\"%s<br/><i>external</i>\"]):::external -.-> %s\n", k, mermaidText(e.parent), key[e.child])
			continue
		}
		if _, drawn := key[e.parent]; drawn {
			fmt.Fprintf(bw, "  %s --> %s\n", key[e.parent], key[e.child])
		}
	}
	writeMermaidClasses(bw, ids, key, v.Status, ext > 0)
	return bw.Flush()
}

func writeMermaidClasses(w io.Writer, ids []string, key map[string]string, status map[string]Status, external bool) {
	styles := []struct {
		status Status
		style  string
	}{
		{StatusError, "fill:#ffebe9,stroke:#cf222e,color:#1f2328"},
		{StatusWarning, "fill:#fff8c5,stroke:#9a6700,color:#1f2328"},
		{StatusChanged, "fill:#ddf4ff,stroke:#0969da,color:#1f2328"},
		{StatusOK, "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"},
	}
	for _, s := range styles {
		var nodes []string
		for _, id := range ids {
			if status[id] == s.status {
				nodes = append(nodes, key[id])
			}
		}
		if len(nodes) > 0 {
			fmt.Fprintf(w, "  classDef %s %s\n  class %s %s\n", s.status, s.style, strings.Join(nodes, ","), s.status)
		}
	}
	if external {
		fmt.Fprintln(w, "  classDef external fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#59636e")
	}
}

// mermaidText escapes text for a quoted Mermaid label: quotes, markup and
// the characters Mermaid treats specially become entity codes, and line
// breaks become spaces so nothing can start a new statement.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"', '<', '>', '&', '#', '%', '`', '\\', '|', '[', ']', '{', '}', '(', ')', ';', ':', '@':
			fmt.Fprintf(&b, "#%d;", r)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// DOT writes the graph in Graphviz's DOT language.
func (g *Graph) DOT(w io.Writer, v View) error {
	bw := bufio.NewWriter(w)
	ids := g.members(v)
	colour := map[Status]string{StatusError: "#cf222e", StatusWarning: "#9a6700", StatusChanged: "#0969da", StatusOK: "#1a7f37"}
	fmt.Fprintln(bw, "digraph lineage {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];")
	for _, id := range ids {
		n := g.nodes[id]
		attrs := "label=" + dotText(n.Manifest.Metadata.Name+"\n"+n.Manifest.Metadata.Version+stageSuffix(n))
		if c, ok := colour[v.Status[id]]; ok {
			attrs += ", color=" + dotText(c) + ", penwidth=2"
		}
		fmt.Fprintf(bw, "  %s [%s];\n", dotText(id), attrs)
	}
	for _, e := range g.edges(ids) {
		if e.external {
			fmt.Fprintf(bw, "  %s [label=%s, style=\"rounded,dashed\", color=\"#8c959f\"];\n", dotText("external:"+e.parent), dotText(e.parent+"\nexternal"))
			fmt.Fprintf(bw, "  %s -> %s [style=dashed];\n", dotText("external:"+e.parent), dotText(e.child))
			continue
		}
		if slices.Contains(ids, e.parent) {
			fmt.Fprintf(bw, "  %s -> %s;\n", dotText(e.parent), dotText(e.child))
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

func stageSuffix(n *Node) string {
	if s := n.Manifest.Spec.Lifecycle.Stage; s != "" {
		return "\n(" + s + ")"
	}
	return ""
}

// dotText quotes a DOT identifier or label.
func dotText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
