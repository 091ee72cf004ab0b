package manifest

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/modelgate/modelgate/pkg/finding"
)

//go:embed schema/*.json
var schemaFiles embed.FS

const (
	modelSchemaURL   = "https://modelgate.dev/schema/v1/model.schema.json"
	lineageSchemaURL = "https://modelgate.dev/schema/v1/lineage.schema.json"
)

// SchemaRule is the rule id of findings from schema validation.
const SchemaRule = "schema"

// Schemas validates manifests and lineage files against the JSON Schemas
// shipped in schema/. Compile it once and share it: it is safe for
// concurrent use.
type Schemas struct {
	model   *jsonschema.Schema
	lineage *jsonschema.Schema
	// quickModel and quickLineage pass the documents that surely conform
	// without the library (see quickSchema).
	quickModel   *quickSchema
	quickLineage *quickSchema
	printer      *message.Printer
}

// CompileSchemas compiles the embedded schemas.
func CompileSchemas() (*Schemas, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	docs := map[string]map[string]any{}
	for name, url := range map[string]string{"schema/model.schema.json": modelSchemaURL, "schema/lineage.schema.json": lineageSchemaURL} {
		raw, err := schemaFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parse %s: not a schema object", name)
		}
		docs[url] = m
	}
	s := &Schemas{printer: message.NewPrinter(language.English)}
	var err error
	if s.model, err = c.Compile(modelSchemaURL); err != nil {
		return nil, fmt.Errorf("compile model schema: %w", err)
	}
	if s.lineage, err = c.Compile(lineageSchemaURL); err != nil {
		return nil, fmt.Errorf("compile lineage schema: %w", err)
	}
	if s.quickModel, err = compileQuick(docs, modelSchemaURL); err != nil {
		return nil, fmt.Errorf("compile model schema's quick check: %w", err)
	}
	if s.quickLineage, err = compileQuick(docs, lineageSchemaURL); err != nil {
		return nil, fmt.Errorf("compile lineage schema's quick check: %w", err)
	}
	return s, nil
}

// SchemaFile returns the text of an embedded schema ("model" or "lineage"),
// for users who want to validate manifests in their editor.
func SchemaFile(name string) ([]byte, error) {
	return schemaFiles.ReadFile("schema/" + name + ".schema.json")
}

// ValidateManifest checks a decoded manifest, including an inline lineage.
func (s *Schemas) ValidateManifest(file string, doc *Document) []finding.Finding {
	if s.quickModel.conforms(doc.Value) {
		return nil
	}
	return s.validate(s.model, file, doc)
}

// ValidateLineage checks a lineage read from its own file.
func (s *Schemas) ValidateLineage(file string, doc *Document) []finding.Finding {
	if s.quickLineage.conforms(doc.Value) {
		return nil
	}
	return s.validate(s.lineage, file, doc)
}

func (s *Schemas) validate(sch *jsonschema.Schema, file string, doc *Document) []finding.Finding {
	err := sch.Validate(doc.Value)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []finding.Finding{{Rule: SchemaRule, Severity: finding.Error, File: file, Line: 1, Column: 1, Message: err.Error()}}
	}
	var out []finding.Finding
	for _, leaf := range leaves(ve) {
		path := JoinPath(leaf.InstanceLocation)
		pos, _ := doc.Positions.Nearest(path)
		where := path
		if where == "" {
			where = "document"
		}
		msg := leaf.ErrorKind.LocalizedString(s.printer)
		if hint, ok := yaml11Boolean(file, doc, leaf); ok {
			msg = hint
		}
		out = append(out, finding.Finding{
			Rule:     SchemaRule,
			Title:    "Manifest format",
			Severity: finding.Error,
			Message:  fmt.Sprintf("%s: %s", where, msg),
			File:     file,
			Line:     pos.Line,
			Column:   pos.Column,
			Path:     path,
		})
	}
	return out
}

// yaml11Boolean explains a string where the schema wants a boolean when the
// string is a boolean of YAML 1.1 (yes, no, on, off, y, n): YAML 1.2, which
// modelgate reads, keeps them strings, where YAML 1.1 tools (conftest among
// them) read a boolean.
func yaml11Boolean(file string, doc *Document, leaf *jsonschema.ValidationError) (string, bool) {
	t, ok := leaf.ErrorKind.(*kind.Type)
	if !ok || t.Got != "string" || !slices.Contains(t.Want, "boolean") || !isYAMLFile(file) {
		return "", false
	}
	s, ok := valueAt(doc.Value, leaf.InstanceLocation).(string)
	if !ok {
		return "", false
	}
	b, ok := yaml11Bool(s)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("`%s` is a string in YAML 1.2; write %t", s, b), true
}

// yaml11Bool reads YAML 1.1's boolean words that YAML 1.2 reads as strings.
func yaml11Bool(s string) (value, ok bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

func isYAMLFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// valueAt walks a decoded document by the keys and indices of a location.
func valueAt(v any, location []string) any {
	for _, step := range location {
		switch c := v.(type) {
		case map[string]any:
			v = c[step]
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// leaves returns the innermost causes of a validation error: the specific
// problems, not the "allOf failed" chain above them.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
