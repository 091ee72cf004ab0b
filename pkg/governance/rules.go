package governance

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/modelgate/modelgate/pkg/finding"
)

// rule is one conftest rule of one package, as evaluated per document.
type rule struct {
	namespace string // "modelgate.lineage"
	name      string // "deny_cycle"
	id        string // "modelgate.lineage.deny_cycle"
	ref       ast.Ref
	severity  finding.Severity // from the name, or METADATA custom.severity
	// ownSeverity says whether a severity a rule gives (METADATA
	// custom.severity, a message's severity) is obeyed: only in modelgate's
	// own namespaces (modelgate.*). Elsewhere the name decides, as in
	// conftest, so that a conftest policy keeps conftest's verdict.
	ownSeverity bool
	// annotatedSeverity is set once METADATA has given the severity.
	annotatedSeverity bool
	title             string
	desc              string
	// exceptionName is what an exception rule lists to silence this rule:
	// the name without its deny_/warn_/violation_ prefix, "" for deny,
	// violation and warn themselves (conftest's removeRulePrefix).
	exceptionName string
}

// selectNamespaces returns the packages to evaluate: the user's (main by
// default, or all), plus the default bundle's; never modelgate.authz.
func selectNamespaces(c *ast.Compiler, defaults map[string]bool, opts Options) (map[string]bool, error) {
	known := map[string]bool{}
	for _, m := range c.Modules {
		known[namespaceOf(m)] = true
	}
	selected := map[string]bool{}
	for ns := range defaults {
		selected[ns] = true
	}
	switch {
	case opts.AllNamespaces:
		for ns := range known {
			selected[ns] = true
		}
	case len(opts.Namespaces) == 0:
		selected[DefaultNamespace] = true
	default:
		for _, ns := range opts.Namespaces {
			if !known[ns] {
				return nil, fmt.Errorf("namespace %q: no policy declares this package (packages: %s)", ns, strings.Join(sortedKeys(known), ", "))
			}
			selected[ns] = true
		}
	}
	delete(selected, AuthzNamespace)
	return selected, nil
}

// discoverRules finds the deny/violation/warn rules of the selected
// packages, with their METADATA, sorted by id.
func discoverRules(c *ast.Compiler, namespaces map[string]bool) []*rule {
	byID := map[string]*rule{}
	for _, m := range c.Modules {
		ns := namespaceOf(m)
		if !namespaces[ns] {
			continue
		}
		for _, r := range m.Rules {
			name, ok := conftestName(r)
			if !ok {
				continue
			}
			id := ns + "." + name
			cr := byID[id]
			if cr == nil {
				cr = newRule(m, ns, name)
				byID[id] = cr
			}
			cr.annotate(r.Annotations)
		}
	}
	rules := make([]*rule, 0, len(byID))
	for _, r := range byID {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].id < rules[j].id })
	return rules
}

// conftestName returns the rule's name when it is a conftest rule: a plain
// (not ref-headed) deny/violation/warn rule.
func conftestName(r *ast.Rule) (string, bool) {
	ref := r.Head.Ref()
	if len(ref) != 1 {
		return "", false
	}
	name := ref[0].Value.(ast.Var).String()
	_, _, ok := ruleKind(name)
	return name, ok
}

// ruleKind parses conftest's rule names: deny, violation and warn,
// optionally followed by _suffix parts of letters and digits
// (deny_missing_owner). suffix is what an exception names ("missing_owner";
// "" for deny, violation and warn themselves).
func ruleKind(name string) (sev finding.Severity, suffix string, ok bool) {
	for _, k := range []struct {
		prefix string
		sev    finding.Severity
	}{{"deny", finding.Error}, {"violation", finding.Error}, {"warn", finding.Warning}} {
		rest, found := strings.CutPrefix(name, k.prefix)
		if !found {
			continue
		}
		if rest == "" {
			return k.sev, "", true
		}
		return k.sev, rest[1:], validSuffix(rest)
	}
	return "", "", false
}

// validSuffix matches (_[a-zA-Z0-9]+)+.
func validSuffix(s string) bool {
	rest, ok := strings.CutPrefix(s, "_")
	if !ok {
		return false
	}
	for part := range strings.SplitSeq(rest, "_") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

func newRule(m *ast.Module, ns, name string) *rule {
	sev, suffix, _ := ruleKind(name)
	return &rule{
		namespace:     ns,
		name:          name,
		id:            ns + "." + name,
		ref:           m.Package.Path.Append(ast.StringTerm(name)),
		severity:      sev,
		ownSeverity:   OwnsSeverity(ns),
		exceptionName: suffix,
	}
}

// OwnsSeverity says whether rules of a namespace may set their findings'
// severity (METADATA custom.severity, a message's severity field): those
// of modelgate's namespaces, modelgate.*, which include an organization's
// own packages put there. Elsewhere a deny or violation is an error and a
// warn a warning whatever the policy says, as in conftest: a severity never
// changes a conftest policy's verdict.
func OwnsSeverity(namespace string) bool {
	return strings.HasPrefix(namespace, "modelgate.")
}

// annotate takes title, description and custom.severity from the first
// METADATA block of any of the rule's definitions that sets them.
func (r *rule) annotate(annots []*ast.Annotations) {
	for _, a := range annots {
		if r.title == "" {
			r.title = a.Title
		}
		if r.desc == "" {
			r.desc = strings.TrimSpace(a.Description)
		}
		if word, ok := a.Custom["severity"].(string); ok && r.ownSeverity && !r.annotatedSeverity {
			if sev, ok := finding.ParseSeverity(strings.ToLower(word)); ok {
				r.severity, r.annotatedSeverity = sev, true
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
