package manifest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits bound what the decoders accept from an untrusted file.
type Limits struct {
	// MaxBytes is the largest file accepted.
	MaxBytes int64
	// MaxDepth is the deepest nesting of mappings and sequences accepted.
	MaxDepth int
	// MaxNodes is the most values a document may hold once YAML aliases are
	// expanded; it is what refuses a billion-laughs document.
	MaxNodes int
}

// DefaultLimits suit model manifests and lineage files, which are small.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 1 << 20, MaxDepth: 64, MaxNodes: 100_000}
}

// Document is a decoded YAML or JSON file: its value, made of map[string]any,
// []any, string, json.Number, bool and nil, and the position of every field.
type Document struct {
	Value     any
	Positions Positions
	// text is what was decoded; the value's strings share its memory.
	text   string
	format Format
	lim    Limits
}

// Source returns what a repository keeps of the document.
func (d *Document) Source() *Source {
	return &Source{text: d.text, format: d.format, lim: d.lim}
}

// Source is a file that decoded, as a repository keeps it while it checks
// the others: its text alone. The decoded value and the positions of its
// fields take several times the memory of the text, so they are decoded
// again, by the same decoder from the same text, when they are needed.
type Source struct {
	text   string
	format Format
	lim    Limits
}

// Decode decodes the file again: the same value and positions as the
// first time.
func (s *Source) Decode() (*Document, error) {
	doc, err := decodeText(s.format, s.text, s.lim)
	if err != nil {
		return nil, fmt.Errorf("decode again: %w", err)
	}
	doc.text, doc.format, doc.lim = s.text, s.format, s.lim
	return doc, nil
}

// Text is the file's text as decoded (without a byte order mark).
func (s *Source) Text() string { return s.text }

// Locate returns the position of the field at path; see Positions.Locate.
func (d *Document) Locate(path string) (line, column int, ok bool) {
	return d.Positions.Locate(path)
}

// SyntaxError says why a file could not be decoded, and where.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Format is the syntax of a file.
type Format int

// The formats a manifest or lineage file may be written in.
const (
	YAML Format = iota
	JSON
)

// FormatOf guesses a file's format from its name, or from its first
// character when the name says nothing.
func FormatOf(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return JSON
	case ".yaml", ".yml":
		return YAML
	}
	if t := bytes.TrimLeft(trimBOM(data), " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return JSON
	}
	return YAML
}

// Decode decodes one YAML or JSON document (chosen by FormatOf), keeping the
// position of every field. A UTF-8 byte order mark and CRLF line endings are
// accepted. Errors are *SyntaxError when they have a position.
func Decode(name string, data []byte, lim Limits) (*Document, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, &SyntaxError{Msg: fmt.Sprintf("file is %d bytes, over the limit of %d", len(data), lim.MaxBytes)}
	}
	data = trimBOM(data)
	if !utf8.Valid(data) {
		text := string(data)
		line, col := lineColumn(newLineIndex(text), text, firstInvalidUTF8(data))
		return nil, &SyntaxError{Line: line, Column: col, Msg: "file is not valid UTF-8"}
	}
	format, text := FormatOf(name, data), string(data)
	doc, err := decodeText(format, text, lim)
	if err != nil {
		return nil, err
	}
	doc.text, doc.format, doc.lim = text, format, lim
	return doc, nil
}

func decodeText(format Format, text string, lim Limits) (*Document, error) {
	if format == JSON {
		return decodeJSON(text, lim)
	}
	return decodeYAML(text, lim)
}

func trimBOM(data []byte) []byte {
	return bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// lineIndex holds the offsets at which lines start, to turn byte offsets
// into positions without rescanning the file.
type lineIndex []int

func newLineIndex(data string) lineIndex {
	idx := lineIndex{0}
	for i := range len(data) {
		if data[i] == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// lineColumn turns a byte offset into a 1-based line and a 1-based column
// counted in characters.
func lineColumn(idx lineIndex, data string, off int) (line, column int) {
	off = min(max(off, 0), len(data))
	i := sort.Search(len(idx), func(i int) bool { return idx[i] > off }) - 1
	return i + 1, utf8.RuneCountInString(data[idx[i]:off]) + 1
}
