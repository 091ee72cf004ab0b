package metrics

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// Template is a parsed query template. It may hold only {{.Model}} and
// {{.Version}}, each inside a double-quoted PromQL string, so that the
// values substituted, which come from a pull request, stay data.
type Template struct {
	parts []part
}

// part is literal PromQL text, or a field with the string it is quoted in.
type part struct {
	text  string
	field string // "Model" or "Version"; empty for text
	regex bool   // the string is the right side of =~ or !~
}

var (
	modelPattern   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	versionPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

// ParseTemplate parses a metric's query template and checks where its fields sit.
func ParseTemplate(text string) (*Template, error) {
	// The template is never executed: its parse tree is walked, and any
	// node but text and the two fields is refused, stricter than missingkey=error.
	tmpl, err := template.New("query").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: query template: %v", ErrBadQuery, err)
	}
	if tmpl.Tree == nil {
		return nil, fmt.Errorf("%w: query template is empty", ErrBadQuery)
	}
	t := &Template{}
	var lx lexer
	for _, node := range tmpl.Tree.Root.Nodes {
		if err := t.add(&lx, node); err != nil {
			return nil, fmt.Errorf("%w: query template: %v", ErrBadQuery, err)
		}
	}
	if len(t.parts) == 0 {
		return nil, fmt.Errorf("%w: query template is empty", ErrBadQuery)
	}
	return t, nil
}

func (t *Template) add(lx *lexer, node parse.Node) error {
	switch n := node.(type) {
	case *parse.TextNode:
		lx.scan(n.Text)
		t.parts = append(t.parts, part{text: string(n.Text)})
		return nil
	case *parse.CommentNode:
		return nil
	case *parse.ActionNode:
		field, err := fieldOf(n)
		if err != nil {
			return err
		}
		if lx.state != inDouble || lx.escaping {
			return fmt.Errorf("%s must be inside a double-quoted string, like version=\"%s\"", n, n)
		}
		t.parts = append(t.parts, part{field: field, regex: lx.regex})
		return nil
	}
	return fmt.Errorf("%s: only {{.Model}} and {{.Version}} are allowed", node)
}

// fieldOf returns the field an action prints, if it prints nothing else.
func fieldOf(n *parse.ActionNode) (string, error) {
	p := n.Pipe
	if len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
		if f, ok := p.Cmds[0].Args[0].(*parse.FieldNode); ok && len(f.Ident) == 1 {
			switch f.Ident[0] {
			case "Model", "Version":
				return f.Ident[0], nil
			}
		}
	}
	return "", fmt.Errorf("%s: only {{.Model}} and {{.Version}} are allowed", n)
}

// Render checks model (a DNS label) and version (a semantic version) and
// returns the query with both escaped for the strings they sit in.
func (t *Template) Render(model, version string) (string, error) {
	if !modelPattern.MatchString(model) || len(model) > 63 {
		return "", fmt.Errorf("%w: model %q is not a DNS label", ErrBadQuery, model)
	}
	if !versionPattern.MatchString(version) {
		return "", fmt.Errorf("%w: version %q is not a semantic version", ErrBadQuery, version)
	}
	return t.render(map[string]string{"Model": model, "Version": version})
}

// render substitutes values without checking them; Render checks first.
func (t *Template) render(values map[string]string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		v := values[p.field]
		if p.regex {
			v = regexp.QuoteMeta(v)
		}
		escaped, err := escapeString(v)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrBadQuery, p.field, err)
		}
		b.WriteString(escaped)
	}
	return b.String(), nil
}

// Render parses a template and renders it in one go.
func Render(text, model, version string) (string, error) {
	t, err := ParseTemplate(text)
	if err != nil {
		return "", err
	}
	return t.Render(model, version)
}

// escapeString returns s as the inside of a double-quoted PromQL string:
// backslash, quote and control characters escaped, so that nothing in s can
// end the string.
func escapeString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// lexState is where a PromQL lexer stands: in code, a string, or a comment.
type lexState int

const (
	inCode lexState = iota
	inDouble
	inSingle
	inRaw
	inComment
)

// lexer follows PromQL's strings and comments across the template's text,
// enough to know whether a field lands inside a double-quoted string.
type lexer struct {
	state    lexState
	escaping bool   // the last byte was a backslash inside a quoted string
	regex    bool   // the current string follows =~ or !~
	code     []byte // code since the last string or comment
}

func (lx *lexer) scan(text []byte) {
	for _, c := range text {
		lx.step(c)
	}
}

func (lx *lexer) step(c byte) {
	switch lx.state {
	case inCode:
		lx.stepCode(c)
	case inDouble, inSingle:
		switch {
		case lx.escaping:
			lx.escaping = false
		case c == '\\':
			lx.escaping = true
		case c == '"' && lx.state == inDouble, c == '\'' && lx.state == inSingle:
			lx.state = inCode
		}
	case inRaw:
		if c == '`' {
			lx.state = inCode
		}
	case inComment:
		if c == '\n' {
			lx.state = inCode
		}
	}
}

func (lx *lexer) stepCode(c byte) {
	switch c {
	case '"':
		lx.state, lx.regex = inDouble, lx.afterRegexOp()
	case '\'':
		lx.state = inSingle
	case '`':
		lx.state = inRaw
	case '#':
		lx.state = inComment
	default:
		lx.code = append(lx.code, c)
		return
	}
	lx.code = lx.code[:0]
}

// afterRegexOp reports whether the code before the opening quote ends with
// =~ or !~, so the string is a regular expression.
func (lx *lexer) afterRegexOp() bool {
	code := strings.TrimRight(string(lx.code), " \t\r\n")
	return strings.HasSuffix(code, "=~") || strings.HasSuffix(code, "!~")
}
