package manifest

import "encoding/json"

// decodePlainJSON decodes JSON in printable ASCII whose strings have no
// escapes — what lineage files are — straight into values and positions,
// several times faster than encoding/json's token stream. ok is false for
// anything else (escapes, other characters, a syntax error, a document
// near its limits), and the caller decodes the file with encoding/json
// instead: FuzzPlainJSON checks that the two agree on whatever this accepts.
func decodePlainJSON(text string, lim Limits) (*Document, bool) {
	p := plainJSON{s: text, line: 1, lim: lim}
	p.skipSpace()
	if p.i == len(p.s) {
		return nil, false
	}
	p.pos = newPositionsBuilder(p.position(), len(text)/32)
	v, ok := p.value(rootEntry, 0)
	if !ok {
		return nil, false
	}
	if p.skipSpace(); p.i != len(p.s) {
		return nil, false
	}
	return &Document{Value: v, Positions: p.pos.positions()}, true
}

// plainJSON scans a JSON document, keeping the line and column it is at.
type plainJSON struct {
	s         string
	i         int
	line      int
	lineStart int // offset of the current line's first byte
	lim       Limits
	nodes     int
	pos       *positionsBuilder
}

func (p *plainJSON) position() Position {
	return Position{Line: p.line, Column: p.i - p.lineStart + 1}
}

func (p *plainJSON) skipSpace() {
	for ; p.i < len(p.s); p.i++ {
		switch p.s[p.i] {
		case ' ', '\t', '\r':
		case '\n':
			p.line++
			p.lineStart = p.i + 1
		default:
			return
		}
	}
}

// next skips white space and reports the byte there (0 at the end).
func (p *plainJSON) next() byte {
	p.skipSpace()
	if p.i == len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *plainJSON) value(at, depth int) (any, bool) {
	p.nodes++
	if p.nodes >= p.lim.MaxNodes/2 || depth >= p.lim.MaxDepth-1 || p.pos.full() {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(at, depth)
	case c == '[':
		return p.array(at, depth)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		text  string
		value any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(p.s)-p.i >= len(lit.text) && p.s[p.i:p.i+len(lit.text)] == lit.text {
			p.i += len(lit.text)
			return lit.value, true
		}
	}
	return nil, false
}

func (p *plainJSON) object(at, depth int) (any, bool) {
	out := make(map[string]any, 8)
	p.i++ // {
	if p.next() == '}' {
		p.i++
		return out, true
	}
	for {
		if p.next() != '"' {
			return nil, false
		}
		keyAt := p.position()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		key := k.(string)
		if _, dup := out[key]; dup || p.next() != ':' {
			return nil, false
		}
		p.i++
		if p.next() == 0 {
			return nil, false
		}
		kp := p.pos.key(at, key, keyAt)
		v, ok := p.value(kp, depth+1)
		if !ok {
			return nil, false
		}
		out[key] = v
		if done, ok := p.after('}'); !ok || done {
			return out, ok
		}
	}
}

func (p *plainJSON) array(at, depth int) (any, bool) {
	out := make([]any, 0, 4)
	p.i++ // [
	if p.next() == ']' {
		p.i++
		return out, true
	}
	for {
		if p.next() == 0 {
			return nil, false
		}
		ip := p.pos.index(at, len(out), p.position())
		v, ok := p.value(ip, depth+1)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if done, ok := p.after(']'); !ok || done {
			return out, ok
		}
	}
}

// after steps over the comma or the closing bracket after a member.
func (p *plainJSON) after(closing byte) (done, ok bool) {
	switch p.next() {
	case closing:
		p.i++
		return true, true
	case ',':
		p.i++
		return false, true
	}
	return false, false
}

// str reads a string without escapes.
func (p *plainJSON) str() (any, bool) {
	start := p.i + 1
	for j := start; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			p.i = j + 1
			return p.s[start:j], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
	}
	return nil, false
}

// number reads a number in JSON's grammar, kept as written.
func (p *plainJSON) number() (any, bool) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return nil, false
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return nil, false
		}
	}
	return json.Number(p.s[start:p.i]), true
}

func (p *plainJSON) digits() int {
	n := 0
	for ; p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9'; p.i++ {
		n++
	}
	return n
}
