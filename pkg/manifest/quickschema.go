package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// quickSchema is a JSON Schema compiled for a fast "yes": conforms reports
// whether a value surely conforms. A false means only "not sure"; the
// caller then validates with the JSON Schema library, which decides and
// says why. Validating a conforming manifest this way takes a small
// fraction of the library's time, and the library still has the last word
// on every document that might not conform: FuzzQuickSchema checks that
// the quick check never passes what the library refuses.
//
// It understands the keywords our own schemas use, and compiling a schema
// with any other keyword fails, so a new keyword cannot be skipped
// silently.
type quickSchema struct {
	types      []string
	required   []string
	properties map[string]*quickSchema
	additional *quickSchema
	items      *quickSchema
	minItems   int
	enum       []string // strings only; const is an enum of one
	pattern    *regexp.Regexp
	minLength  int
	maxLength  int // -1: none
	minimum    *float64
	maximum    *float64
	exclMin    *float64
	date       bool
	// if {"type": ifType} then … else …
	ifType    string
	then, els *quickSchema
	ref       string // resolved into target after compiling
	target    *quickSchema
}

// quickCompiler compiles schemas given as decoded JSON, by URL.
type quickCompiler struct {
	docs     map[string]map[string]any
	compiled map[string]*quickSchema // by absolute reference
	refs     []*quickSchema
}

// compileQuick compiles the schema at url (one of docs) and every schema
// it refers to.
func compileQuick(docs map[string]map[string]any, url string) (*quickSchema, error) {
	c := &quickCompiler{docs: docs, compiled: map[string]*quickSchema{}}
	root, err := c.at(url)
	if err != nil {
		return nil, err
	}
	for len(c.refs) > 0 {
		s := c.refs[0]
		c.refs = c.refs[1:]
		if s.target, err = c.at(s.ref); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// at compiles the schema an absolute reference (url#/json/pointer) names.
func (c *quickCompiler) at(ref string) (*quickSchema, error) {
	if s, ok := c.compiled[ref]; ok {
		return s, nil
	}
	url, pointer, _ := strings.Cut(ref, "#")
	var node any = c.docs[url]
	if c.docs[url] == nil {
		return nil, fmt.Errorf("schema %s is not known", url)
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("reference %s: no such schema", ref)
		}
		node = m[tok]
	}
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reference %s: no such schema", ref)
	}
	s := &quickSchema{}
	c.compiled[ref] = s
	return s, c.fill(s, url, m)
}

// fill compiles one schema object found in the document at url.
func (c *quickCompiler) fill(s *quickSchema, url string, m map[string]any) error {
	s.maxLength = -1
	for kw, v := range m {
		if err := c.keyword(s, url, kw, v); err != nil {
			return fmt.Errorf("keyword %s: %w", kw, err)
		}
	}
	if (s.then != nil || s.els != nil) && s.ifType == "" {
		return fmt.Errorf("then or else without an if the quick check understands")
	}
	return nil
}

func (c *quickCompiler) keyword(s *quickSchema, url, kw string, v any) error {
	var err error
	switch kw {
	case "$schema", "$id", "$defs", "title", "description":
	case "type":
		s.types, err = keywordStrings(v)
	case "required":
		s.required, err = keywordStrings(v)
	case "enum":
		s.enum, err = keywordStrings(v)
	case "const":
		s.enum, err = keywordStrings([]any{v})
	case "properties":
		err = c.properties(s, url, v)
	case "additionalProperties":
		s.additional, err = c.sub(url, v)
	case "items":
		s.items, err = c.sub(url, v)
	case "minItems":
		s.minItems, err = count(v)
	case "minLength":
		s.minLength, err = count(v)
	case "maxLength":
		s.maxLength, err = count(v)
	case "minimum":
		s.minimum, err = bound(v)
	case "maximum":
		s.maximum, err = bound(v)
	case "exclusiveMinimum":
		s.exclMin, err = bound(v)
	case "pattern":
		p, _ := v.(string)
		s.pattern, err = regexp.Compile(p)
	case "format":
		if v != "date" {
			return fmt.Errorf("format %v is not understood", v)
		}
		s.date = true
	case "if":
		s.ifType, err = typeOnly(v)
	case "then":
		s.then, err = c.sub(url, v)
	case "else":
		s.els, err = c.sub(url, v)
	case "$ref":
		err = c.reference(s, url, v)
	default:
		return fmt.Errorf("not understood by the quick check")
	}
	return err
}

func (c *quickCompiler) properties(s *quickSchema, url string, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("not an object")
	}
	s.properties = make(map[string]*quickSchema, len(m))
	for name, sub := range m {
		ps, err := c.sub(url, sub)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.properties[name] = ps
	}
	return nil
}

func (c *quickCompiler) sub(url string, v any) (*quickSchema, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a schema object")
	}
	s := &quickSchema{}
	return s, c.fill(s, url, m)
}

// reference records a $ref, resolved against the schema's URL once every
// schema is compiled.
func (c *quickCompiler) reference(s *quickSchema, url string, v any) error {
	ref, ok := v.(string)
	if !ok {
		return fmt.Errorf("not a string")
	}
	switch {
	case strings.HasPrefix(ref, "#"):
		s.ref = url + ref
	case !strings.Contains(ref, ":") && !strings.HasPrefix(ref, "/"):
		s.ref = url[:strings.LastIndex(url, "/")+1] + ref
	default:
		return fmt.Errorf("reference %s is not understood", ref)
	}
	c.refs = append(c.refs, s)
	return nil
}

func keywordStrings(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a string or a list of strings")
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", x)
		}
		out = append(out, s)
	}
	return out, nil
}

func count(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	i, err := strconv.Atoi(string(n))
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%s is not a count", n)
	}
	return i, nil
}

// bound reads a numeric bound; only integers are accepted, which float64
// comparisons treat exactly.
func bound(v any) (*float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("not a number")
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || math.Abs(float64(i)) >= 1<<53 {
		return nil, fmt.Errorf("bound %s is not an integer", n)
	}
	f := float64(i)
	return &f, nil
}

// typeOnly accepts the one form of "if" the quick check decides exactly:
// {"type": "<one type>"}.
func typeOnly(v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", fmt.Errorf("only {\"type\": …} is understood")
	}
	t, ok := m["type"].(string)
	if !ok || !slices.Contains([]string{"object", "array", "string", "number", "boolean", "null"}, t) {
		return "", fmt.Errorf("only {\"type\": …} is understood, without integer")
	}
	return t, nil
}

// conforms reports whether v surely conforms to the schema.
func (s *quickSchema) conforms(v any) bool {
	if s.target != nil && !s.target.conforms(v) {
		return false
	}
	if len(s.types) > 0 && !slices.ContainsFunc(s.types, func(t string) bool { return hasType(v, t) }) {
		return false
	}
	if len(s.enum) > 0 {
		str, ok := v.(string)
		if !ok || !slices.Contains(s.enum, str) {
			return false
		}
	}
	if s.ifType != "" && !s.conditional(v) {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		return s.object(v)
	case []any:
		return s.array(v)
	case string:
		return s.str(v)
	case json.Number:
		return s.number(v)
	case bool, nil:
		return true
	}
	return false // a Go type the decoders do not produce
}

func (s *quickSchema) conditional(v any) bool {
	branch := s.els
	if hasType(v, s.ifType) {
		branch = s.then
	}
	return branch == nil || branch.conforms(v)
}

func hasType(v any, t string) bool {
	switch v.(type) {
	case map[string]any:
		return t == "object"
	case []any:
		return t == "array"
	case string:
		return t == "string"
	case json.Number:
		return t == "number"
	case bool:
		return t == "boolean"
	case nil:
		return t == "null"
	}
	return false
}

func (s *quickSchema) object(m map[string]any) bool {
	for _, r := range s.required {
		if _, ok := m[r]; !ok {
			return false
		}
	}
	if s.properties == nil && s.additional == nil {
		return true
	}
	for k, v := range m {
		sub, ok := s.properties[k]
		if !ok {
			sub = s.additional
		}
		if sub != nil && !sub.conforms(v) {
			return false
		}
	}
	return true
}

func (s *quickSchema) array(list []any) bool {
	if len(list) < s.minItems {
		return false
	}
	if s.items != nil {
		for _, v := range list {
			if !s.items.conforms(v) {
				return false
			}
		}
	}
	return true
}

func (s *quickSchema) str(v string) bool {
	if s.minLength > 0 || s.maxLength >= 0 {
		n := utf8.RuneCountInString(v)
		if n < s.minLength || (s.maxLength >= 0 && n > s.maxLength) {
			return false
		}
	}
	if s.pattern != nil && !s.pattern.MatchString(v) {
		return false
	}
	if s.date && !isISODate(v) {
		return false
	}
	return true
}

func isISODate(v string) bool {
	if !isDate(v) {
		return false
	}
	_, err := time.Parse(time.DateOnly, v)
	return err == nil
}

// number compares in float64 when that is exact: the number's text is
// the shortest form of its float64 (what the decoders write) or a small
// integer, and bounds are integers (compileQuick refuses others). Any
// other text is "not sure".
func (s *quickSchema) number(n json.Number) bool {
	if s.minimum == nil && s.maximum == nil && s.exclMin == nil {
		return true
	}
	f, err := n.Float64()
	if err != nil || !exactFloat(string(n), f) {
		return false
	}
	switch {
	case s.minimum != nil && f < *s.minimum:
		return false
	case s.maximum != nil && f > *s.maximum:
		return false
	case s.exclMin != nil && f <= *s.exclMin:
		return false
	}
	return true
}

// exactFloat reports whether comparing f with an integer bound gives the
// same answer as comparing the decimal text exactly.
func exactFloat(text string, f float64) bool {
	if strconv.FormatFloat(f, 'g', -1, 64) == text {
		return true
	}
	i, err := strconv.ParseInt(text, 10, 64)
	return err == nil && math.Abs(float64(i)) < 1<<53
}
