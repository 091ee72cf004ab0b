package manifest

import (
	"fmt"
	"iter"
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
//
// Every decoding records them, and most documents need none (only those
// with findings), so they cost little to build: every path written once
// into one buffer, in the order the decoder met the fields, beside a small
// fixed-size entry each, rather than a string per field. Looking a path up
// scans them, which costs less than a map would to build.
type Positions struct {
	paths   []byte     // every path, one after the other
	entries []posEntry // entry i's path ends at entries[i].end
}

type posEntry struct {
	end, line, column int32
}

func (p Positions) path(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = p.entries[i-1].end
	}
	return p.paths[start:p.entries[i].end]
}

func (p Positions) position(i int) Position {
	e := p.entries[i]
	return Position{Line: int(e.line), Column: int(e.column)}
}

// find returns the position of a canonical path. A path recorded twice (a
// key that a YAML merge sets again) has the position recorded last.
func (p Positions) find(canonical string) (Position, bool) {
	for i := len(p.entries) - 1; i >= 0; i-- {
		if string(p.path(i)) == canonical {
			return p.position(i), true
		}
	}
	return Position{}, false
}

// Locate returns the position of the value at path. It accepts canonical
// paths and the dotted-index form that policies often write
// (spec.rollout.stages.0.traffic). ok is false when no such field exists.
func (p Positions) Locate(path string) (line, column int, ok bool) {
	pos, ok := p.find(Canonical(path))
	return pos.Line, pos.Column, ok
}

// Nearest returns the position of path or of its closest ancestor that
// exists, and the path actually found. The root ("") is always present.
func (p Positions) Nearest(path string) (Position, string) {
	segs := Segments(path)
	for n := len(segs); n > 0; n-- {
		key := JoinPath(segs[:n])
		if pos, ok := p.find(key); ok {
			return pos, key
		}
	}
	pos, _ := p.find("")
	return pos, ""
}

// All yields every canonical path and its position, in the order the
// decoder met them; a path recorded twice comes twice, the later entry the
// one that counts.
func (p Positions) All() iter.Seq2[string, Position] {
	return func(yield func(string, Position) bool) {
		for i := range p.entries {
			if !yield(string(p.path(i)), p.position(i)) {
				return
			}
		}
	}
}

// Len is the number of recorded entries.
func (p Positions) Len() int { return len(p.entries) }

// positionsBuilder records positions as a decoder meets the fields: a
// field's path is its parent's path with one more step, both written into
// one growing buffer, so no field costs an allocation of its own. Entries
// are referred to by index; the root is entry 0.
type positionsBuilder struct {
	paths   []byte
	entries []posEntry
}

// rootEntry is the index of the document's root.
const rootEntry = 0

// maxPathBytes bounds the bytes of all paths of one document. Aliases can
// repeat a long key many times over within the node limit; the decoders
// refuse a document once its paths pass this size (see full), which also
// keeps every offset far inside an int32.
const maxPathBytes = 64 << 20

// newPositionsBuilder starts the positions of a document whose root is at
// root, with room for about fields entries.
func newPositionsBuilder(root Position, fields int) *positionsBuilder {
	fields = max(fields, 1)
	b := &positionsBuilder{paths: make([]byte, 0, 24*fields), entries: make([]posEntry, 0, fields+1)}
	b.entries = append(b.entries, posEntry{end: 0, line: int32(root.Line), column: int32(root.Column)})
	return b
}

func (b *positionsBuilder) start(i int) int32 {
	if i == 0 {
		return 0
	}
	return b.entries[i-1].end
}

// key records the position of a mapping key below entry parent and
// returns the new entry.
func (b *positionsBuilder) key(parent int, key string, pos Position) int {
	s, e := b.start(parent), b.entries[parent].end
	b.paths = append(b.paths, b.paths[s:e]...)
	b.paths = appendStep(b.paths, s == e, key)
	return b.add(pos)
}

// index records the position of item i of the sequence at entry parent.
func (b *positionsBuilder) index(parent, i int, pos Position) int {
	s, e := b.start(parent), b.entries[parent].end
	b.paths = append(b.paths, b.paths[s:e]...)
	b.paths = append(b.paths, '[')
	b.paths = strconv.AppendInt(b.paths, int64(i), 10)
	b.paths = append(b.paths, ']')
	return b.add(pos)
}

func (b *positionsBuilder) add(pos Position) int {
	b.entries = append(b.entries, posEntry{end: int32(len(b.paths)), line: int32(pos.Line), column: int32(pos.Column)})
	return len(b.entries) - 1
}

// tooManyPathBytes is the error of a document refused by full.
var tooManyPathBytes = fmt.Sprintf("document's field paths take more than %d MiB once aliases are expanded", maxPathBytes>>20)

// full reports whether the paths recorded have passed maxPathBytes.
func (b *positionsBuilder) full() bool { return len(b.paths) > maxPathBytes }

// earlier returns the position recorded for entry i's path before i: the
// first definition of a duplicate key.
func (b *positionsBuilder) earlier(i int) Position {
	p := Positions{paths: b.paths, entries: b.entries[:i]}
	pos, _ := p.find(string(b.paths[b.start(i):b.entries[i].end]))
	return pos
}

// positions returns what was recorded.
func (b *positionsBuilder) positions() Positions {
	return Positions{paths: b.paths, entries: b.entries}
}

// rootPositions is the positions of an empty document: its root alone.
func rootPositions() Positions {
	return newPositionsBuilder(Position{Line: 1, Column: 1}, 0).positions()
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
	var b []byte
	for _, s := range segs {
		b = appendStep(b, len(b) == 0, s)
	}
	return string(b)
}

// appendStep appends one segment as it follows a path (first: it starts
// one).
func appendStep(b []byte, first bool, seg string) []byte {
	switch {
	case isIndex(seg):
		b = append(b, '[')
		b = append(b, seg...)
		return append(b, ']')
	case seg == "" || strings.ContainsAny(seg, ".[]\""):
		b = append(b, '[')
		b = strconv.AppendQuote(b, seg)
		return append(b, ']')
	case first:
		return append(b, seg...)
	}
	b = append(b, '.')
	return append(b, seg...)
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
