package governance

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// ErrorRule is the rule id of findings that report a policy that could not
// be evaluated on a document (time limit, runtime error, wrong result type).
const ErrorRule = "policy/error"

// findings turns one rule's value on one document into findings. A value
// that is not a set or array of messages, and messages of the wrong shape,
// become ErrorRule findings; the well-formed messages are kept. When an
// exception rule of the package names the rule, each message is reported
// as an Exception instead, and an exception that silences nothing is
// reported once, as conftest reports every exception that applies.
func (r *rule) findings(doc *Document, v ast.Value, except map[string]bool) []finding.Finding {
	out := r.messages(doc, v)
	if !except[r.exceptionName] {
		return out
	}
	silenced := 0
	for i := range out {
		if out[i].Rule != ErrorRule {
			out[i].Severity = finding.Exception
			silenced++
		}
	}
	if silenced == 0 {
		out = append(out, r.unusedException(doc))
	}
	return out
}

// unusedException reports an exception that named the rule on a document
// where the rule had nothing to say.
func (r *rule) unusedException(doc *Document) finding.Finding {
	return finding.Finding{
		Rule: r.id, Title: r.title, Description: r.desc, Severity: finding.Exception,
		File: doc.File, Model: doc.Model, Line: 1, Column: 1,
		Message: fmt.Sprintf("data.%s.exception names %q (%s); the rule reported nothing here", r.namespace, r.exceptionName, r.name),
	}
}

// messages decodes a rule's value into findings, one per message.
func (r *rule) messages(doc *Document, v ast.Value) []finding.Finding {
	if v == nil {
		return nil
	}
	var out []finding.Finding
	switch c := v.(type) {
	case ast.Set:
		c.Sorted().Foreach(func(t *ast.Term) { out = append(out, r.finding(doc, t.Value)) })
	case *ast.Array:
		c.Foreach(func(t *ast.Term) { out = append(out, r.finding(doc, t.Value)) })
	default:
		out = append(out, errorFinding(doc, fmt.Sprintf(
			"%s returned %s; a rule must produce a set of messages (strings or objects with msg)",
			r.id, ast.ValueName(v))))
	}
	return out
}

// finding decodes one message: a string, or an object {msg, path, rule,
// severity} where only msg is required.
func (r *rule) finding(doc *Document, v ast.Value) finding.Finding {
	f := finding.Finding{
		Rule:        r.id,
		Title:       r.title,
		Description: r.desc,
		Severity:    r.severity,
		File:        doc.File,
		Model:       doc.Model,
	}
	switch m := v.(type) {
	case ast.String:
		f.Message = string(m)
	case ast.Object:
		msg, ok := stringField(m, "msg")
		if !ok {
			return errorFinding(doc, fmt.Sprintf("%s returned a message object without a string msg: %v", r.id, m))
		}
		f.Message = msg
		f.Path = pathOf(m.Get(ast.InternedTerm("path")))
		if s, ok := stringField(m, "rule"); ok && s != "" {
			f.Rule = s
		}
		if s, ok := stringField(m, "severity"); ok && r.ownSeverity {
			if sev, ok := finding.ParseSeverity(strings.ToLower(s)); ok {
				f.Severity = sev
			}
		}
	default:
		return errorFinding(doc, fmt.Sprintf("%s returned a message of type %s; expected a string or an object with msg", r.id, ast.ValueName(v)))
	}
	var found string
	f.Line, f.Column, found = locate(doc.Locator, f.Path)
	if found != "" {
		f.Path = found
	}
	return f
}

func stringField(m ast.Object, key string) (string, bool) {
	t := m.Get(ast.InternedTerm(key))
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

// pathOf reads a message's path: "spec.metrics.f1" or an array of keys and
// indices, ["metadata", "labels", "app.kubernetes.io/name"], which becomes
// the canonical path (metadata.labels["app.kubernetes.io/name"]): a key
// holding a dot stays one key. A leading input. or manifest. is dropped:
// findings are placed in the manifest.
func pathOf(t *ast.Term) string {
	if t == nil {
		return ""
	}
	switch v := t.Value.(type) {
	case ast.String:
		p := strings.TrimPrefix(string(v), "input.")
		return strings.TrimPrefix(p, "manifest.")
	case *ast.Array:
		var segs []string
		v.Foreach(func(e *ast.Term) {
			switch x := e.Value.(type) {
			case ast.Number:
				segs = append(segs, x.String())
			case ast.String:
				segs = append(segs, string(x))
			}
		})
		if len(segs) > 0 && (segs[0] == "input" || segs[0] == "manifest") {
			segs = segs[1:]
		}
		return manifest.JoinPath(segs)
	}
	return ""
}

// locate places a path on the manifest: the field itself, else its nearest
// ancestor that exists (a missing field points at its parent), else line 1.
// A key may hold dots (metadata.labels.app.kubernetes.io/name): where a
// segment names no key, the shortest run of segments that does is taken as
// one key. found is the field's canonical path when it exists, else "".
func locate(loc Locator, path string) (line, column int, found string) {
	line, column = 1, 1
	if loc == nil || path == "" {
		return line, column, ""
	}
	if l, c, ok := loc.Locate(path); ok {
		return l, c, manifest.Canonical(path)
	}
	segs := manifest.Segments(path)
	var at []string
	for i := 0; i < len(segs); {
		j, l, c := longerKey(loc, at, segs[i:])
		if j == 0 {
			return line, column, ""
		}
		at = append(at, strings.Join(segs[i:i+j], "."))
		line, column, i = l, c, i+j
	}
	return line, column, manifest.JoinPath(at)
}

// longerKey finds the shortest run of the first segments of rest that,
// joined with dots, is a key below at: how many, and its position; 0 when
// none is.
func longerKey(loc Locator, at, rest []string) (n, line, column int) {
	for n = 1; n <= len(rest); n++ {
		key := strings.Join(rest[:n], ".")
		if line, column, ok := loc.Locate(manifest.JoinPath(append(at[:len(at):len(at)], key))); ok {
			return n, line, column
		}
	}
	return 0, 0, 0
}

// errorFinding reports a policy that failed on a document, on its first line.
func errorFinding(doc *Document, msg string) finding.Finding {
	return finding.Finding{
		Rule:     ErrorRule,
		Title:    "Policy evaluation failed",
		Severity: finding.Error,
		Message:  msg,
		File:     doc.File,
		Line:     1,
		Column:   1,
		Model:    doc.Model,
	}
}
