package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireSameAsEncodingJSON checks the JSON fast path against
// encoding/json on one input and reports whether the fast path accepted it.
func requireSameAsEncodingJSON(t *testing.T, data []byte) bool {
	t.Helper()
	return requireFastPathAgrees(t, decodePlainJSON, decodePath{"encoding/json", decodeJSONTokens}, data)
}

const sampleLineage = `{
  "model_id": "fraud-detector",
  "version": "2.1.0",
  "parent_models": ["fraud-detector@2.0.0", "hf://bert-base"],
  "training_data": {
    "versions": ["2024.03.15"],
    "checksums": ["sha256:56da33c9fecfd91548759797fc99066495abfead5ca721f3fe41d03f420bf91c"]
  }
}
`

func TestPlainJSON(t *testing.T) {
	tests := []struct {
		name, data string
		fast       bool
	}{
		{"lineage", sampleLineage, true},
		{"CRLF and tabs", "{\r\n\t\"a\": [1, -2.5e+3, 0, true, false, null],\r\n\t\"b\": {}\r\n}", true},
		{"empty collections", `{"a": [], "b": {}, "c": [[], {}]}`, true},
		{"top-level array", ` [ "x" , {"y": 1} ] `, true},
		{"scalar document", `"text"`, true},
		{"number forms", `[0, -0, 1.5, 1E5, 1e-7, 123456789012345678901234567890]`, true},

		{"escape", `{"a": "x\ny"}`, false},
		{"non-ASCII", `{"a": "café"}`, false},
		{"duplicate key", `{"a": 1, "a": 2}`, false},
		{"trailing comma", `{"a": 1,}`, false},
		{"trailing data", `{"a": 1} x`, false},
		{"two values", `1 2`, false},
		{"leading zero", `[01]`, false},
		{"bare dot", `[1.]`, false},
		{"unquoted key", `{a: 1}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"missing value", `{"a": }`, false},
		{"unclosed", `{"a": [1, 2}`, false},
		{"bad literal", `[tru]`, false},
		{"literal run-on", `[truex]`, false},
		{"empty", ``, false},
		{"white space only", " \n ", false},
		{"control character", "{\"a\": \"\x01\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.fast, requireSameAsEncodingJSON(t, []byte(tt.data)))
		})
	}
}

// TestPlainJSONOnRepositories runs the fast path beside encoding/json on
// every JSON file of the repository's example and broken repositories.
func TestPlainJSONOnRepositories(t *testing.T) {
	var fast int
	for _, dir := range []string{"example", "broken"} {
		err := filepath.WalkDir(filepath.Join("..", "..", "testdata", dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if requireSameAsEncodingJSON(t, trimBOM(data)) {
				fast++
			}
			return nil
		})
		require.NoError(t, err)
	}
	assert.NotZero(t, fast)
}

func FuzzPlainJSON(f *testing.F) {
	f.Add([]byte(sampleLineage))
	f.Add([]byte(`{"a": [1, -2.5e+3, {"b": null}], "c": true}`))
	f.Add([]byte("[\r\n\t0, \"x\"]"))
	f.Fuzz(func(t *testing.T, data []byte) { requireSameAsEncodingJSON(t, data) })
}

// BenchmarkDecodeJSON decodes a lineage file by the fast path and by
// encoding/json.
//
//	go test -run '^$' -bench DecodeJSON -benchmem ./pkg/manifest/
func BenchmarkDecodeJSON(b *testing.B) {
	benchmarkDecodePaths(b, sampleLineage, decodePath{"fast-path", decodeJSON}, decodePath{"encoding/json", decodeJSONTokens})
}
