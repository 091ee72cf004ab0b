package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeYAML parses one YAML document into a value and its positions: the
// plain manifests most files are by the fast path, the rest by yaml.v3.
func decodeYAML(text string, lim Limits) (*Document, error) {
	if doc, ok := decodePlainYAML(text, lim); ok {
		return doc, nil
	}
	return decodeYAMLNodes(text, lim)
}

// decodeYAMLNodes decodes any YAML document through yaml.v3's node tree.
func decodeYAMLNodes(text string, lim Limits) (doc *Document, err error) {
	// The YAML parser is third-party code fed untrusted input: a panic in it
	// must become an error for this file, not end the run.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, &SyntaxError{Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(text))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &Document{Positions: rootPositions()}, nil
		}
		return nil, yamlSyntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlSyntaxError(err)
		}
		return nil, &SyntaxError{Line: extra.Line, Column: extra.Column, Msg: "file holds more than one YAML document; put each manifest in its own file"}
	}
	c := yamlConverter{lim: lim, pos: newPositionsBuilder(Position{Line: 1, Column: 1}, strings.Count(text, "\n")+1)}
	v, err := c.value(&root, rootEntry, 0)
	if err != nil {
		return nil, err
	}
	return &Document{Value: v, Positions: c.pos.positions()}, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError extracts the line from the parser's message.
func yamlSyntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &SyntaxError{Line: line, Column: 1, Msg: "invalid YAML: " + m[2]}
	}
	return &SyntaxError{Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// yamlConverter turns a yaml.Node tree into plain values, expanding aliases
// within the node budget and refusing duplicate keys.
type yamlConverter struct {
	lim   Limits
	nodes int
	pos   *positionsBuilder
}

func (c *yamlConverter) value(n *yaml.Node, at, depth int) (any, error) {
	c.nodes++
	if c.nodes > c.lim.MaxNodes {
		return nil, &SyntaxError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("document has more than %d values once aliases are expanded", c.lim.MaxNodes)}
	}
	if depth > c.lim.MaxDepth {
		return nil, &SyntaxError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("document is nested deeper than %d levels", c.lim.MaxDepth)}
	}
	if c.pos.full() {
		return nil, &SyntaxError{Line: n.Line, Column: n.Column, Msg: tooManyPathBytes}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], at, depth)
	case yaml.AliasNode:
		return c.value(n.Alias, at, depth)
	case yaml.MappingNode:
		return c.mapping(n, at, depth)
	case yaml.SequenceNode:
		return c.sequence(n, at, depth)
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, &SyntaxError{Line: n.Line, Column: n.Column, Msg: "unsupported YAML node"}
}

func (c *yamlConverter) sequence(n *yaml.Node, at, depth int) (any, error) {
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		p := c.pos.index(at, i, Position{Line: item.Line, Column: item.Column})
		v, err := c.value(item, p, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (c *yamlConverter) mapping(n *yaml.Node, at, depth int) (any, error) {
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &SyntaxError{Line: k.Line, Column: k.Column, Msg: "mapping keys must be plain strings"}
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		p := c.pos.key(at, k.Value, Position{Line: k.Line, Column: k.Column})
		if _, dup := out[k.Value]; dup {
			return nil, &SyntaxError{Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("duplicate key %q (first defined at line %d)", k.Value, c.pos.earlier(p).Line)}
		}
		val, err := c.value(v, p, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	for _, m := range merges {
		if err := c.merge(out, m, at, depth); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// merge applies a YAML merge key (<<): keys of the merged mappings that the
// mapping does not set itself are added.
func (c *yamlConverter) merge(out map[string]any, m *yaml.Node, at, depth int) error {
	v, err := c.value(m, at, depth)
	if err != nil {
		return err
	}
	var sources []any
	switch v := v.(type) {
	case map[string]any:
		sources = []any{v}
	case []any:
		sources = v
	default:
		sources = []any{v}
	}
	for _, s := range sources {
		src, ok := s.(map[string]any)
		if !ok {
			return &SyntaxError{Line: m.Line, Column: m.Column, Msg: "a merge key (<<) takes a mapping or a list of mappings"}
		}
		for k, val := range src {
			if _, set := out[k]; !set {
				out[k] = val
			}
		}
	}
	return nil
}

// The tags of the scalars the decoders distinguish.
const (
	nullTag  = "!!null"
	boolTag  = "!!bool"
	intTag   = "!!int"
	floatTag = "!!float"
	strTag   = "!!str"
)

// yamlScalar converts a resolved scalar.
func yamlScalar(n *yaml.Node) (any, error) {
	v, err := scalarValue(n.ShortTag(), n.Value)
	if err != nil {
		return nil, &SyntaxError{Line: n.Line, Column: n.Column, Msg: err.Error()}
	}
	return v, nil
}

// scalarValue converts a scalar of the given tag. Numbers become
// json.Number so that JSON Schema and OPA see exactly what was written;
// non-finite numbers are refused because JSON cannot carry them. Other tags
// (strings, timestamps) keep the text as written.
func scalarValue(tag, value string) (any, error) {
	switch tag {
	case nullTag:
		return nil, nil
	case boolTag:
		return strings.EqualFold(value, "true"), nil
	case intTag:
		s := strings.ReplaceAll(value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %q is out of range", value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case floatTag:
		f, err := strconv.ParseFloat(strings.ReplaceAll(value, "_", ""), 64)
		if err != nil || isNonFinite(value) {
			return nil, fmt.Errorf("%q is not a finite number", value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default:
		return value, nil
	}
}

func isNonFinite(s string) bool {
	s = strings.ToLower(strings.TrimLeft(s, "+-"))
	return s == ".inf" || s == ".nan" || s == "inf" || s == "nan"
}
