package lineage

import "github.com/modelgate/modelgate/pkg/manifest"

// Facts returns what policies learn about one model version from the graph:
// data.modelgate.context.graph of the policy input contract. Lists are never nil.
func (g *Graph) Facts(id string) map[string]any {
	n := g.nodes[id]
	if n == nil {
		return map[string]any{
			"parents": []any{}, "ancestors": []any{}, "children": []any{}, "external": []any{},
			"cycle": []any{}, "problems": []any{}, "parent_manifests": map[string]any{},
		}
	}
	problems := make([]any, len(n.problems))
	for i, p := range n.problems {
		problems[i] = map[string]any{"kind": string(p.Kind), "message": p.Message, "path": manifestPath(n, p), "file": p.File}
	}
	parents := make(map[string]any, len(n.Parents))
	for _, pid := range n.Parents {
		parents[pid] = summary(g.nodes[pid])
	}
	return map[string]any{
		"parents":          anyList(n.Parents),
		"ancestors":        anyList(g.Ancestors(id)),
		"children":         anyList(n.Children),
		"external":         anyList(n.External),
		"cycle":            anyList(n.cycle),
		"problems":         problems,
		"parent_manifests": parents,
	}
}

// manifestPath is where a problem is as a path of the manifest: policies see
// every lineage under spec.lineage, inline or in its own file.
func manifestPath(n *Node, p Problem) string {
	l := n.Manifest.Lineage
	if l == nil || l.Prefix != "" || p.File != l.File {
		return p.Path
	}
	inline := manifest.Lineage{Prefix: "spec.lineage"}
	return inline.Path(p.Path)
}

// summary is what a child's policies may need to know of a parent.
func summary(n *Node) map[string]any {
	m := n.Manifest
	metrics := make(map[string]any, len(m.Spec.Metrics))
	for k, v := range m.Spec.Metrics {
		metrics[k] = v
	}
	return map[string]any{
		"name":      m.Metadata.Name,
		"version":   m.Metadata.Version,
		"license":   m.Spec.Governance.License,
		"stage":     m.Spec.Lifecycle.Stage,
		"risk_tier": m.Spec.Governance.RiskTier,
		"metrics":   metrics,
	}
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
