package manifest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireQuickAgrees checks the quick check against the library on one
// document: whatever the quick check passes, the library passes. It
// reports what the quick check said.
func requireQuickAgrees(t testing.TB, s *Schemas, lineage bool, doc *Document) bool {
	t.Helper()
	quick, full := s.quickModel, s.model
	if lineage {
		quick, full = s.quickLineage, s.lineage
	}
	ok := quick.conforms(doc.Value)
	if ok {
		require.NoError(t, full.Validate(doc.Value), "the quick check passed a document the schema refuses: %#v", doc.Value)
	}
	return ok
}

func TestQuickSchemaMatchesTheLibrary(t *testing.T) {
	s, err := CompileSchemas()
	require.NoError(t, err)
	valid := func(edit string) string { return strings.Replace(sampleYAML, "traffic: 25", edit, 1) }
	tests := []struct {
		name, yaml string
		conforms   bool
	}{
		{"sample", sampleYAML, true},
		{"traffic at its maximum", valid("traffic: 100"), true},
		{"traffic over its maximum", valid("traffic: 100.5"), false},
		{"traffic at its exclusive minimum", valid("traffic: 0"), false},
		{"traffic a hair over the minimum", valid("traffic: 1e-300"), true},
		{"traffic as text", valid("traffic: '5'"), false},
		{"bad name", strings.Replace(sampleYAML, "name: fraud-detector", "name: Fraud_Detector", 1), false},
		{"bad version", strings.Replace(sampleYAML, "version: 3.2.0", "version: 3.2", 1), false},
		{"missing spec", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\n", false},
		{"wrong kind", strings.Replace(sampleYAML, "kind: Model", "kind: Dataset", 1), false},
		{"unknown fields kept and allowed", sampleYAML + "extra: {any: [1, true, null]}\n", true},
		{"metric not a number", strings.Replace(sampleYAML, "f1: 0.95", "f1: high", 1), false},
		{"impossible date", sampleYAML + "  lifecycle: {retire_after: 2030-02-30}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Decode("model.yaml", []byte(tt.yaml), DefaultLimits())
			require.NoError(t, err)
			assert.Equal(t, tt.conforms, requireQuickAgrees(t, s, false, doc))
			assert.Equal(t, tt.conforms, s.model.Validate(doc.Value) == nil, "the library's verdict")
		})
	}
}

func TestQuickSchemaRefusesWhatItCannotDecide(t *testing.T) {
	tests := []struct{ name, schema, err string }{
		{"unknown keyword", `{"patternProperties": {}}`, "patternProperties: not understood"},
		{"other format", `{"format": "email"}`, "format email is not understood"},
		{"fractional bound", `{"maximum": 1.5}`, "bound 1.5 is not an integer"},
		{"if beyond a type", `{"if": {"minLength": 1}, "then": {}}`, "only {\"type\": …}"},
		{"if integer", `{"if": {"type": "integer"}, "then": {}}`, "without integer"},
		{"then alone", `{"then": {"minLength": 1}}`, "then or else without an if"},
		{"boolean schema", `{"additionalProperties": false}`, "not a schema object"},
		{"remote reference", `{"$ref": "https://example.com/s.json"}`, "not understood"},
		{"missing definition", `{"$ref": "#/$defs/none"}`, "no such schema"},
		{"non-string const", `{"const": 1}`, "not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.schema))
			require.NoError(t, err)
			_, err = compileQuick(map[string]map[string]any{"https://x.test/s.json": doc.(map[string]any)}, "https://x.test/s.json")
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// TestQuickSchemaOnRepositories runs the quick check beside the library on
// every manifest and lineage file of the test data; the example
// repository's files must all take the quick path.
func TestQuickSchemaOnRepositories(t *testing.T) {
	s, err := CompileSchemas()
	require.NoError(t, err)
	var examples, quick int
	err = filepath.WalkDir(filepath.Join("..", "..", "testdata"), func(path string, d fs.DirEntry, err error) error {
		name := filepath.Base(path)
		if err != nil || d.IsDir() || !(strings.HasPrefix(name, "model.") || strings.HasPrefix(name, "lineage.")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, err := Decode(name, data, DefaultLimits())
		if err != nil {
			return nil // a broken file: nothing to validate
		}
		ok := requireQuickAgrees(t, s, strings.HasPrefix(name, "lineage."), doc)
		if strings.Contains(filepath.ToSlash(path), "testdata/example/") {
			examples++
			if ok {
				quick++
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, examples)
	assert.Equal(t, examples, quick, "example files passed by the quick check")
}

// FuzzQuickSchema holds the quick check to the library: a manifest or a
// lineage it passes, the schema must pass.
func FuzzQuickSchema(f *testing.F) {
	s, err := CompileSchemas()
	require.NoError(f, err)
	f.Add([]byte(sampleYAML), false)
	f.Add([]byte(sampleLineage), true)
	f.Add([]byte("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec: {rollout: {stages: [{traffic: 100}]}, lifecycle: {retire_after: 2030-01-01}}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, lineage bool) {
		name := "model.yaml"
		if lineage || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			name = "lineage.json"
		}
		doc, err := Decode(name, data, DefaultLimits())
		if err != nil {
			return
		}
		requireQuickAgrees(t, s, lineage, doc)
	})
}
