package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleYAML = `apiVersion: modelgate.dev/v1
kind: Model
metadata:
  name: fraud-detector
  version: 3.2.0
spec:
  metrics:
    f1: 0.95
    latency_p99_ms: 45
  rollout:
    stages:
      - {traffic: 5, analysis: 30m}
      - traffic: 25
`

func TestDecodeKeepsPositions(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want map[string]Position
	}{
		{
			name: "yaml",
			file: "model.yaml",
			data: sampleYAML,
			want: map[string]Position{
				"metadata.name":                  {4, 3},
				"spec.metrics.f1":                {8, 5},
				"spec.rollout.stages[0]":         {12, 9},
				"spec.rollout.stages[0].traffic": {12, 10},
				"spec.rollout.stages[1].traffic": {13, 9},
			},
		},
		{
			name: "yaml with CRLF and a byte order mark",
			file: "model.yml",
			data: "\xEF\xBB\xBF" + strings.ReplaceAll(sampleYAML, "\n", "\r\n"),
			want: map[string]Position{"spec.metrics.f1": {8, 5}},
		},
		{
			name: "json",
			file: "lineage.json",
			data: "{\n  \"model_id\": \"a\",\n  \"training_data\": {\n    \"checksums\": [\"x\",\n      \"y\"]\n  }\n}\n",
			want: map[string]Position{
				"model_id":                   {2, 3},
				"training_data.checksums":    {4, 5},
				"training_data.checksums[0]": {4, 19},
				"training_data.checksums[1]": {5, 7},
				"training_data":              {3, 3},
				"":                           {1, 1},
			},
		},
		{
			name: "json with CRLF and a byte order mark",
			file: "lineage.json",
			data: "\xEF\xBB\xBF{\r\n  \"a\": {\r\n    \"b\": 1}}",
			want: map[string]Position{"a.b": {3, 5}},
		},
		{
			name: "json sniffed without extension",
			file: "lineage",
			data: `  {"a": [1, 2]}`,
			want: map[string]Position{"a[1]": {1, 13}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Decode(tt.file, []byte(tt.data), DefaultLimits())
			require.NoError(t, err)
			for path, want := range tt.want {
				line, col, ok := doc.Locate(path)
				require.True(t, ok, "path %s not found", path)
				assert.Equal(t, want, Position{line, col}, "position of %s", path)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	doc, err := Decode("m.yaml", []byte(`
int: 0x1F
under: 1_000
float: 0.5
big: 1e3
yes: true
nothing: null
date: 2027-06-30
base: &b {x: 1, y: 2}
merged:
  <<: *b
  y: 3
`), DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"int": json.Number("31"), "under": json.Number("1000"), "float": json.Number("0.5"), "big": json.Number("1000"),
		"yes": true, "nothing": nil, "date": "2027-06-30",
		"base":   map[string]any{"x": json.Number("1"), "y": json.Number("2")},
		"merged": map[string]any{"x": json.Number("1"), "y": json.Number("3")},
	}, doc.Value)
}

func TestDecodeRefusesBadInput(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		laughs += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(prev)+", ", 9) + "*" + string(prev) + "]\n"
	}
	tests := []struct {
		name     string
		file     string
		data     string
		wantLine int
		wantMsg  string
	}{
		{"invalid yaml", "m.yaml", "a: b\n  c: d\n", 2, "invalid YAML"},
		{"duplicate yaml key", "m.yaml", "a: 1\nb: 2\na: 3\n", 3, `duplicate key "a" (first defined at line 1)`},
		{"duplicate json key", "m.json", "{\"a\": 1,\n \"a\": 2}", 2, `duplicate key "a" (first defined at line 1)`},
		{"invalid json", "m.json", "{\"a\": 1,\n \"b\" 2}", 2, "invalid JSON"},
		{"truncated json", "m.json", "{\"a\": [1, 2", 1, "unexpected end of file"},
		{"trailing json", "m.json", "{\"a\": 1}\n{\"b\": 2}", 2, "unexpected data after the JSON value"},
		{"non-string json key", "m.json", "{1: 2}", 1, "invalid JSON"},
		{"billion laughs", "m.yaml", laughs, 0, "once aliases are expanded"},
		{"deep yaml", "m.yaml", strings.Repeat("[", 100) + strings.Repeat("]", 100), 1, "nested deeper than 64 levels"},
		{"deep json", "m.json", strings.Repeat("[", 100) + strings.Repeat("]", 100), 1, "nested deeper than 64 levels"},
		{"very deep yaml", "m.yaml", strings.Repeat("[", 200000), 0, "invalid YAML"},
		{"very deep json", "m.json", strings.Repeat("[", 200000), 1, "nested deeper"},
		{"two documents", "m.yaml", "a: 1\n---\nb: 2\n", 2, "more than one YAML document"},
		{"infinity", "m.yaml", "a: .inf\n", 1, "not a finite number"},
		{"not utf-8", "m.yaml", "a: 1\nb: \xff\n", 2, "not valid UTF-8"},
		{"complex key", "m.yaml", "? [a, b]\n: 1\n", 1, "mapping keys must be plain strings"},
		{"merge of a scalar", "m.yaml", "a: &x 1\nb:\n  <<: *x\n", 0, "merge key"},
		{"over size", "m.yaml", "a: " + strings.Repeat("x", 1<<20), 0, "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.file, []byte(tt.data), DefaultLimits())
			require.Error(t, err)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "want *SyntaxError, got %T", err)
			assert.Contains(t, se.Msg, tt.wantMsg)
			if tt.wantLine > 0 {
				assert.Equal(t, tt.wantLine, se.Line)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, file := range []string{"m.yaml", "m.json"} {
		doc, err := Decode(file, []byte("  \n"), DefaultLimits())
		require.NoError(t, err, file)
		assert.Nil(t, doc.Value)
	}
}

func TestPaths(t *testing.T) {
	tests := []struct{ in, canonical string }{
		{"spec.metrics.f1", "spec.metrics.f1"},
		{"spec.rollout.stages.0.traffic", "spec.rollout.stages[0].traffic"},
		{"spec.rollout.stages[0].traffic", "spec.rollout.stages[0].traffic"},
		{`metadata.labels["app.kubernetes.io/name"]`, `metadata.labels["app.kubernetes.io/name"]`},
		{"", ""},
		{"[2]", "[2]"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.canonical, Canonical(tt.in), tt.in)
	}
}

func TestPositionsBuilder(t *testing.T) {
	b := newPositionsBuilder(Position{1, 1}, 1)
	a := b.key(rootEntry, "a", Position{1, 1})
	b.key(a, "b.c", Position{2, 3})
	item := b.index(a, 3, Position{3, 3})
	b.key(item, "0", Position{3, 5})
	b.key(rootEntry, "", Position{4, 1})
	again := b.key(rootEntry, "a", Position{5, 1})
	assert.Equal(t, Position{1, 1}, b.earlier(again), "the first definition of a repeated path")
	p := b.positions()
	var paths []string
	for path := range p.All() {
		paths = append(paths, path)
	}
	assert.Equal(t, []string{"", "a", `a["b.c"]`, "a[3]", "a[3][0]", `[""]`, "a"}, paths)
	line, col, ok := p.Locate("a")
	assert.True(t, ok)
	assert.Equal(t, Position{5, 1}, Position{line, col}, "a path recorded twice has its later position")
	line, col, ok = p.Locate("a.3.0")
	assert.True(t, ok)
	assert.Equal(t, Position{3, 5}, Position{line, col})
	_, _, ok = p.Locate("a.b")
	assert.False(t, ok)
}

// TestDecodeRefusesHugePaths feeds documents whose aliases repeat a long
// key until the paths of their fields pass maxPathBytes: without the bound
// a file of 1 MB could ask for tens of gigabytes of paths.
func TestDecodeRefusesHugePaths(t *testing.T) {
	key := strings.Repeat("k", 100_000)
	doc := "a: &a\n  ? " + key + "\n  : 1\nb: [" + strings.Repeat("*a, ", 699) + "*a]\n"
	_, err := Decode("m.yaml", []byte(doc), DefaultLimits())
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, tooManyPathBytes, se.Msg)
	_, err = Decode("m.yaml", []byte("a: &a\n  ? "+key+"\n  : 1\nb: ["+strings.Repeat("*a, ", 599)+"*a]\n"), DefaultLimits())
	require.NoError(t, err, "600 repeats stay under the bound")
}

func TestNearest(t *testing.T) {
	doc, err := Decode("m.yaml", []byte(sampleYAML), DefaultLimits())
	require.NoError(t, err)
	pos, found := doc.Positions.Nearest("spec.metrics.accuracy")
	assert.Equal(t, "spec.metrics", found)
	assert.Equal(t, Position{7, 3}, pos)
	pos, found = doc.Positions.Nearest("nothing.here")
	assert.Equal(t, "", found)
	assert.Equal(t, Position{1, 1}, pos)
}

// TestSourceDecodesAgain checks that what a repository keeps of a file
// decodes to the value and positions of the first decoding, on every file
// of the example and broken repositories that decodes.
func TestSourceDecodesAgain(t *testing.T) {
	var n int
	for _, dir := range []string{"example", "broken"} {
		err := filepath.WalkDir(filepath.Join("..", "..", "testdata", dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".json")) {
				return err
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			doc, err := Decode(path, data, DefaultLimits())
			if err != nil {
				return nil
			}
			src := doc.Source()
			again, err := src.Decode()
			require.NoError(t, err, path)
			assert.Equal(t, doc, again, path)
			assert.Equal(t, string(trimBOM(data)), src.Text(), path)
			n++
			return nil
		})
		require.NoError(t, err)
	}
	assert.Greater(t, n, 10)
}
