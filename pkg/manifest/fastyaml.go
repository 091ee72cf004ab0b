package manifest

import (
	"strconv"
	"strings"
)

// decodePlainYAML decodes the plain YAML that manifests are written in
// straight into values and positions, without the yaml.Node tree that
// yaml.v3 builds first: block mappings and sequences, flow collections on
// one line, plain scalars whose type is plain to see, and quoted scalars
// without escapes, in printable ASCII. It is about ten times faster than
// yaml.v3 on a manifest.
//
// ok is false for anything else — anchors, tags, block scalars, scalars
// over several lines, escapes, tabs, duplicate keys, a document over its
// limits, a syntax error, or a scalar whose type it does not decide — and
// the caller decodes the file with yaml.v3 instead. So the subset only ever
// decides how fast a file is decoded, never how: FuzzPlainYAML checks that
// whatever it accepts, yaml.v3 decodes to the same value and positions.
func decodePlainYAML(text string, lim Limits) (doc *Document, ok bool) {
	lines, ok := plainLines(text)
	if !ok || len(lines) == 0 {
		return nil, false
	}
	p := plainParser{lines: lines, lim: lim, pos: newPositionsBuilder(Position{Line: 1, Column: 1}, len(lines)+8)}
	v, ok := p.block(lines[0].indent, rootEntry, 0)
	if !ok || p.i != len(lines) {
		return nil, false
	}
	return &Document{Value: v, Positions: p.pos.positions()}, true
}

// plainLine is a line that holds more than a comment.
type plainLine struct {
	no     int    // 1-based line number
	indent int    // spaces before the text
	text   string // the rest of the line, comments included
}

// plainLines splits a document into its lines with content. It refuses
// characters outside printable ASCII (tabs and lone carriage returns
// included) and document markers other than a leading "---".
func plainLines(s string) ([]plainLine, bool) {
	lines := make([]plainLine, 0, strings.Count(s, "\n")+1)
	seenContent := false
	for no := 1; s != ""; no++ {
		line := s
		if end := strings.IndexByte(s, '\n'); end >= 0 {
			line, s = s[:end], s[end+1:]
		} else {
			s = ""
		}
		line = strings.TrimSuffix(line, "\r")
		for j := 0; j < len(line); j++ {
			if line[j] < 0x20 || line[j] > 0x7e {
				return nil, false
			}
		}
		text := strings.TrimLeft(line, " ")
		if text == "" || text[0] == '#' {
			continue
		}
		indent := len(line) - len(text)
		if indent == 0 && (strings.HasPrefix(text, "---") || strings.HasPrefix(text, "...")) {
			if seenContent || text != "---" {
				return nil, false
			}
			seenContent = true
			continue
		}
		seenContent = true
		lines = append(lines, plainLine{no: no, indent: indent, text: text})
	}
	return lines, true
}

// plainParser builds values and positions from the lines of a document.
type plainParser struct {
	lines []plainLine
	i     int // the next line to read
	lim   Limits
	nodes int
	pos   *positionsBuilder
}

// count counts one more value, refusing documents near the limits (the
// yaml.v3 path then reports them).
func (p *plainParser) count(depth int) bool {
	p.nodes++
	return p.nodes < p.lim.MaxNodes/2 && depth < p.lim.MaxDepth && !p.pos.full()
}

// block reads the mapping or sequence that starts at the current line.
func (p *plainParser) block(indent, at, depth int) (any, bool) {
	if isItem(p.lines[p.i].text) {
		return p.sequence(indent, at, depth)
	}
	return p.mapping(indent, at, depth)
}

func isItem(text string) bool {
	return text == "-" || strings.HasPrefix(text, "- ")
}

func (p *plainParser) mapping(indent, at, depth int) (any, bool) {
	if !p.count(depth) {
		return nil, false
	}
	out := make(map[string]any, 8)
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent || (l.indent == indent && isItem(l.text)) {
			break
		}
		if l.indent > indent {
			return nil, false
		}
		key, rest, ok := splitKey(l.text, false)
		if !ok {
			return nil, false
		}
		if _, dup := out[key]; dup {
			return nil, false
		}
		kp := p.pos.key(at, key, Position{Line: l.no, Column: indent + 1})
		p.i++
		v, ok := p.entryValue(l, rest, indent, kp, depth+1)
		if !ok {
			return nil, false
		}
		out[key] = v
	}
	return out, true
}

// entryValue reads the value of a mapping entry: on the rest of its line,
// or the block below it, or null.
func (p *plainParser) entryValue(l plainLine, rest string, indent, at, depth int) (any, bool) {
	r := strings.TrimLeft(rest, " ")
	if r != "" && r[0] != '#' {
		col := l.indent + len(l.text) - len(r) + 1
		return p.lineValue(r, l.no, col, indent, at, depth)
	}
	if p.i < len(p.lines) {
		next := p.lines[p.i]
		if next.indent > indent || (next.indent == indent && isItem(next.text)) {
			return p.block(next.indent, at, depth)
		}
	}
	if !p.count(depth) {
		return nil, false
	}
	return nil, true
}

func (p *plainParser) sequence(indent, at, depth int) (any, bool) {
	if !p.count(depth) {
		return nil, false
	}
	out := make([]any, 0, 4)
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent || (l.indent == indent && !isItem(l.text)) {
			break
		}
		if l.indent > indent {
			return nil, false
		}
		content := strings.TrimLeft(l.text[1:], " ")
		if content == "" || content[0] == '#' || isItem(content) {
			return nil, false // an item on the next lines, or a nested "- -"
		}
		col := l.indent + len(l.text) - len(content)
		ip := p.pos.index(at, len(out), Position{Line: l.no, Column: col + 1})
		var v any
		var ok bool
		if _, _, isKey := splitKey(content, false); isKey {
			// A mapping that starts on the item's line: its keys line up
			// with the first one.
			p.lines[p.i] = plainLine{no: l.no, indent: col, text: content}
			v, ok = p.mapping(col, ip, depth+1)
		} else {
			p.i++
			v, ok = p.lineValue(content, l.no, col+1, indent, ip, depth+1)
		}
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// lineValue reads a value that must end on its line: a flow collection, a
// quoted or a plain scalar, then at most a comment. The lines after it must
// not be indented deeper than its entry (a scalar continued there).
func (p *plainParser) lineValue(s string, no, col, indent, at, depth int) (any, bool) {
	var v any
	var n int
	var ok bool
	switch s[0] {
	case '{', '[':
		v, n, ok = p.flow(s, no, col, at, depth)
	case '"', '\'':
		if !p.count(depth) {
			return nil, false
		}
		v, n, ok = quoted(s)
	default:
		if !p.count(depth) {
			return nil, false
		}
		v, n, ok = plainBlockScalar(s)
	}
	if !ok || !endsLine(s[n:]) {
		return nil, false
	}
	if p.i < len(p.lines) && p.lines[p.i].indent > indent {
		return nil, false
	}
	return v, true
}

// endsLine holds when what follows a value is nothing or a comment.
func endsLine(rest string) bool {
	t := strings.TrimLeft(rest, " ")
	return t == "" || (t[0] == '#' && len(t) < len(rest))
}

// splitKey splits "key: value" (or, outside a flow collection, "key:")
// into the key and what follows the colon. Only simple plain keys are
// accepted.
func splitKey(text string, flow bool) (key, rest string, ok bool) {
	if !isKeyStart(text[0]) {
		return "", "", false
	}
	for j := 1; j < len(text) && j <= 1000; j++ {
		c := text[j]
		switch {
		case c == ':' && j+1 < len(text) && text[j+1] == ' ', c == ':' && j+1 == len(text) && !flow:
			return text[:j], text[j+1:], true
		case !isKeyByte(c):
			return "", "", false
		}
	}
	return "", "", false
}

func isKeyStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isKeyByte(c byte) bool {
	return isKeyStart(c) || c == '-' || c == '.' || c == '/'
}

// flow reads a flow mapping or sequence that closes on its line. It returns
// the value and the bytes it took.
func (p *plainParser) flow(s string, no, col, at, depth int) (any, int, bool) {
	if !p.count(depth) {
		return nil, 0, false
	}
	if s[0] == '[' {
		return p.flowSequence(s, no, col, at, depth)
	}
	return p.flowMapping(s, no, col, at, depth)
}

func (p *plainParser) flowSequence(s string, no, col, at, depth int) (any, int, bool) {
	out := make([]any, 0, 4)
	i := skipSpaces(s, 1)
	if i < len(s) && s[i] == ']' {
		return out, i + 1, true
	}
	for i < len(s) {
		ip := p.pos.index(at, len(out), Position{Line: no, Column: col + i})
		v, n, ok := p.flowValue(s[i:], no, col+i, ip, depth+1)
		if !ok {
			return nil, 0, false
		}
		out = append(out, v)
		i, ok = flowNext(s, skipSpaces(s, i+n), ']')
		if !ok {
			return nil, 0, false
		}
		if s[i-1] == ']' {
			return out, i, true
		}
	}
	return nil, 0, false
}

func (p *plainParser) flowMapping(s string, no, col, at, depth int) (any, int, bool) {
	out := make(map[string]any, 4)
	i := skipSpaces(s, 1)
	if i < len(s) && s[i] == '}' {
		return out, i + 1, true
	}
	for i < len(s) {
		key, rest, ok := splitKey(s[i:], true)
		if !ok {
			return nil, 0, false
		}
		if _, dup := out[key]; dup {
			return nil, 0, false
		}
		kp := p.pos.key(at, key, Position{Line: no, Column: col + i})
		i = skipSpaces(s, len(s)-len(rest))
		if i >= len(s) {
			return nil, 0, false
		}
		v, n, ok := p.flowValue(s[i:], no, col+i, kp, depth+1)
		if !ok {
			return nil, 0, false
		}
		out[key] = v
		i, ok = flowNext(s, skipSpaces(s, i+n), '}')
		if !ok {
			return nil, 0, false
		}
		if s[i-1] == '}' {
			return out, i, true
		}
	}
	return nil, 0, false
}

// flowNext steps over the comma or the closing bracket after a flow item.
// A comma must be followed by another item.
func flowNext(s string, i int, closing byte) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch s[i] {
	case closing:
		return i + 1, true
	case ',':
		j := skipSpaces(s, i+1)
		if j >= len(s) || s[j] == closing || s[j] == ',' {
			return 0, false
		}
		return j, true
	}
	return 0, false
}

// flowValue reads one value inside a flow collection.
func (p *plainParser) flowValue(s string, no, col, at, depth int) (any, int, bool) {
	switch s[0] {
	case '{', '[':
		return p.flow(s, no, col, at, depth)
	case '"', '\'':
		if !p.count(depth) {
			return nil, 0, false
		}
		return quoted(s)
	}
	if !p.count(depth) {
		return nil, 0, false
	}
	end := 0
	for end < len(s) && !strings.ContainsRune(",]}", rune(s[end])) {
		if strings.IndexByte("[{#:\"'", s[end]) >= 0 {
			return nil, 0, false
		}
		end++
	}
	v, ok := plainScalar(strings.TrimRight(s[:end], " "))
	return v, end, ok
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// quoted reads a quoted scalar that ends on its line: single quotes with
// ” for a quote, or double quotes without escapes.
func quoted(s string) (any, int, bool) {
	q := s[0]
	if q == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 || strings.IndexByte(s[1:1+end], '\\') >= 0 {
			return nil, 0, false
		}
		return s[1 : 1+end], end + 2, true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteString(s[1:i])
			return quotedRest(s, i+2, &b)
		}
		return s[1:i], i + 1, true
	}
	return nil, 0, false
}

// quotedRest continues a single-quoted scalar after its first ” pair.
func quotedRest(s string, i int, b *strings.Builder) (any, int, bool) {
	b.WriteByte('\'')
	for ; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return nil, 0, false
}

// plainBlockScalar reads a plain scalar that is the rest of its line, up to
// a comment.
func plainBlockScalar(s string) (any, int, bool) {
	end := len(s)
	if c := strings.Index(s, " #"); c >= 0 {
		end = c
	}
	text := strings.TrimRight(s[:end], " ")
	if strings.Contains(text, ": ") || strings.HasSuffix(text, ":") {
		return nil, 0, false
	}
	v, ok := plainScalar(text)
	return v, end, ok
}

// plainScalar resolves a plain scalar the way yaml.v3 does, for the forms
// whose type is plain to see; ok is false for the rest.
func plainScalar(s string) (any, bool) {
	tag := plainTag(s)
	if tag == "" {
		return nil, false
	}
	v, err := scalarValue(tag, s)
	return v, err == nil
}

func plainTag(s string) string {
	switch s {
	case "":
		return ""
	case "~", "null", "Null", "NULL":
		return nullTag
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return boolTag
	}
	c := s[0]
	switch {
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/':
		switch strings.ToLower(s) {
		case "y", "yes", "n", "no", "on", "off":
			return "" // YAML 1.1 booleans: leave them to yaml.v3
		}
		return strTag
	case c >= '0' && c <= '9' || c == '-' && len(s) > 1 && s[1] >= '0' && s[1] <= '9':
		return numberTag(s)
	}
	return ""
}

// numberTag types a scalar that starts like a number: a decimal integer, a
// decimal float, a dotted version (1.2.0), a date (2030-01-01) or a
// quantity with a unit (30m) — the last three kept as written, like a
// string.
func numberTag(s string) string {
	digits := strings.TrimPrefix(s, "-")
	switch {
	case isDecimalInt(digits) && len(digits) <= 18:
		return intTag
	case isDecimalFloat(digits):
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return ""
		}
		return floatTag
	case len(digits) == len(s) && isDottedVersion(s):
		return strTag
	case len(digits) == len(s) && isDate(s):
		return strTag
	case len(digits) == len(s) && isUnitWord(s):
		return strTag
	}
	return ""
}

func isDecimalInt(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	return allDigits(s)
}

// isDecimalFloat matches 1.5, 0.25, 1.5e-3 and 2e10.
func isDecimalFloat(s string) bool {
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		exp = strings.TrimLeft(exp, "+-")
		if !allDigits(exp) || exp == "" {
			return false
		}
	}
	whole, frac, hasDot := strings.Cut(mant, ".")
	if !isDecimalInt(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return false
	}
	return hasDot || hasExp
}

func isDottedVersion(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || !allDigits(p) {
			return false
		}
	}
	return true
}

func isDate(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && allDigits(s[:4]) && allDigits(s[5:7]) && allDigits(s[8:])
}

// isUnitWord matches digits and letters such as 30m or 1h30m: with a
// letter that no integer (0x, 0o, 0b), float (e) or timestamp (T, Z) has,
// and without a sign, an underscore or a colon, yaml.v3 can only read it
// as a string.
func isUnitWord(s string) bool {
	unit := false
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case for letters
		switch {
		case s[i] >= '0' && s[i] <= '9' || s[i] == '.':
		case c >= 'g' && c <= 'z' && c != 'o' && c != 't' && c != 'x' && c != 'z':
			unit = true
		case c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return unit
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
