package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decodeJSON parses one JSON value into a value and its positions: plain
// documents by the fast path, the rest by encoding/json.
func decodeJSON(text string, lim Limits) (*Document, error) {
	if doc, ok := decodePlainJSON(text, lim); ok {
		return doc, nil
	}
	return decodeJSONTokens(text, lim)
}

// decodeJSONTokens parses any JSON value through encoding/json's token
// stream, refusing duplicate keys and trailing data, which encoding/json
// alone would accept.
func decodeJSONTokens(text string, lim Limits) (*Document, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	c := jsonConverter{data: text, dec: dec, lines: newLineIndex(text), lim: lim}
	if len(strings.TrimSpace(text)) == 0 {
		return &Document{Positions: rootPositions()}, nil
	}
	c.pos = newPositionsBuilder(c.position(c.nextStart()), len(text)/32)
	v, err := c.value(rootEntry, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, c.errorAt(c.nextStart(), "unexpected data after the JSON value")
	}
	return &Document{Value: v, Positions: c.pos.positions()}, nil
}

type jsonConverter struct {
	data  string
	dec   *json.Decoder
	lines lineIndex
	lim   Limits
	nodes int
	pos   *positionsBuilder
}

// nextStart is the offset of the next token: past white space and the
// separators that the decoder's Token method consumes silently.
func (c *jsonConverter) nextStart() int {
	off := int(c.dec.InputOffset())
	for off < len(c.data) {
		switch c.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func (c *jsonConverter) position(off int) Position {
	line, col := lineColumn(c.lines, c.data, off)
	return Position{Line: line, Column: col}
}

func (c *jsonConverter) errorAt(off int, msg string) error {
	p := c.position(off)
	return &SyntaxError{Line: p.Line, Column: p.Column, Msg: msg}
}

// token reads the next token, turning decoder errors into positioned ones.
func (c *jsonConverter) token() (json.Token, error) {
	tok, err := c.dec.Token()
	if err == nil {
		return tok, nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return nil, c.errorAt(int(se.Offset)-1, "invalid JSON: "+se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, c.errorAt(len(c.data), "invalid JSON: unexpected end of file")
	}
	return nil, c.errorAt(c.nextStart(), "invalid JSON: "+err.Error())
}

func (c *jsonConverter) value(at, depth int) (any, error) {
	start := c.nextStart()
	c.nodes++
	if c.nodes > c.lim.MaxNodes {
		return nil, c.errorAt(start, fmt.Sprintf("document has more than %d values", c.lim.MaxNodes))
	}
	if c.pos.full() {
		return nil, c.errorAt(start, tooManyPathBytes)
	}
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= c.lim.MaxDepth {
			return nil, c.errorAt(start, fmt.Sprintf("document is nested deeper than %d levels", c.lim.MaxDepth))
		}
		if t == '{' {
			return c.object(at, depth)
		}
		return c.array(at, depth)
	default:
		return t, nil
	}
}

func (c *jsonConverter) object(at, depth int) (any, error) {
	out := make(map[string]any)
	for c.dec.More() {
		keyStart := c.position(c.nextStart())
		tok, err := c.token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, &SyntaxError{Line: keyStart.Line, Column: keyStart.Column, Msg: "invalid JSON: object key is not a string"}
		}
		p := c.pos.key(at, key, keyStart)
		if _, dup := out[key]; dup {
			return nil, &SyntaxError{Line: keyStart.Line, Column: keyStart.Column, Msg: fmt.Sprintf("duplicate key %q (first defined at line %d)", key, c.pos.earlier(p).Line)}
		}
		v, err := c.value(p, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	if _, err := c.token(); err != nil { // the closing brace
		return nil, err
	}
	return out, nil
}

func (c *jsonConverter) array(at, depth int) (any, error) {
	out := make([]any, 0, 4)
	for i := 0; c.dec.More(); i++ {
		p := c.pos.index(at, i, c.position(c.nextStart()))
		v, err := c.value(p, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if _, err := c.token(); err != nil { // the closing bracket
		return nil, err
	}
	return out, nil
}
