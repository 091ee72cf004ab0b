package manifest

import (
	"strconv"
	"strings"
)

// Position is a 1-based line and column in a source file.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Positions maps the canonical path of every field and item of a document to
// where its value starts. Canonical paths join keys with dots and write
// indices in brackets: spec.rollout.stages[0].traffic. A key that contains a
// dot, a bracket or a quote is written quoted: metadata.labels["a.b/c"].
type Positions map[string]Position

// Locate returns the position of the value at path. It accepts canonical
// paths and the dotted-index form that policies often write
// (spec.rollout.stages.0.traffic). ok is false when no such field exists.
func (p Positions) Locate(path string) (line, column int, ok bool) {
	pos, ok := p[Canonical(path)]
	return pos.Line, pos.Column, ok
}

// Nearest returns the position of path or of its closest ancestor that
// exists, and the path actually found. The root ("") is always present.
func (p Positions) Nearest(path string) (Position, string) {
	segs := Segments(path)
	for n := len(segs); n > 0; n-- {
		key := JoinPath(segs[:n])
		if pos, ok := p[key]; ok {
			return pos, key
		}
	}
	return p[""], ""
}

// Canonical rewrites a path in any accepted form to its canonical form.
func Canonical(path string) string {
	return JoinPath(Segments(path))
}

// Segments splits a path into its keys and indices. Numeric segments written
// with a dot (stages.0) are treated as indices, like bracketed ones.
func Segments(path string) []string {
	var segs []string
	for i := 0; i < len(path); {
		switch path[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				return append(segs, path[i+1:])
			}
			seg := path[i+1 : i+end]
			if unq, err := strconv.Unquote(seg); err == nil {
				seg = unq
			}
			segs = append(segs, seg)
			i += end + 1
		default:
			end := strings.IndexAny(path[i:], ".[")
			if end < 0 {
				end = len(path) - i
			}
			segs = append(segs, path[i:i+end])
			i += end
		}
	}
	return segs
}

// JoinPath builds a canonical path from segments. Segments that are
// non-negative integers become indices.
func JoinPath(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(pathStep(b.Len() == 0, s))
	}
	return b.String()
}

// pathStep renders one segment as it follows a path (first: it starts one).
func pathStep(first bool, seg string) string {
	if isIndex(seg) {
		return "[" + seg + "]"
	}
	if seg == "" || strings.ContainsAny(seg, ".[]\"") {
		return "[" + strconv.Quote(seg) + "]"
	}
	if first {
		return seg
	}
	return "." + seg
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// childKey is the canonical path of a mapping key below parent.
func childKey(parent, key string) string {
	return parent + pathStep(parent == "", key)
}

// childIndex is the canonical path of a sequence item below parent.
func childIndex(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
