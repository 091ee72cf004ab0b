package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireSameAsYAMLv3 checks the YAML fast path against yaml.v3 on one
// input and reports whether the fast path accepted it.
func requireSameAsYAMLv3(t *testing.T, data []byte) bool {
	t.Helper()
	return requireFastPathAgrees(t, decodePlainYAML, decodePath{"yaml.v3", decodeYAMLNodes}, data)
}

// requireFastPathAgrees checks a fast path against its library on one
// input: whatever the fast path accepts, the library decodes without error
// to the same value and positions. It reports whether the fast path
// accepted.
func requireFastPathAgrees(t *testing.T, fast func(string, Limits) (*Document, bool), lib decodePath, data []byte) bool {
	t.Helper()
	got, ok := fast(string(data), DefaultLimits())
	if !ok {
		return false
	}
	want, err := lib.decode(string(data), DefaultLimits())
	require.NoError(t, err, "the fast path accepted a document %s refuses:\n%s", lib.name, data)
	require.Equal(t, want, got, "decoded differently from %s:\n%s", lib.name, data)
	return true
}

func TestPlainYAML(t *testing.T) {
	tests := []struct {
		name, data string
		fast       bool // the fast path takes it
	}{
		{"sample manifest", sampleYAML, true},
		{"leading document marker", "---\na: 1\n", true},
		{"comments everywhere", "# head\na: 1 # one\n  # indented comment\nb:\n  # inside\n  c: x#y\n", true},
		{"CRLF", "a:\r\n  b: 1\r\n  c: [1, 2]\r\n", true},
		{"sequence at the key's indent", "a:\n- 1\n- x\nb: 2\n", true},
		{"compact mappings in a sequence", "s:\n  - name: a\n    v: 1\n  -   name: b\n      w:\n        x: z\n", true},
		{"flow collections", "a: {x: 1, y: [a, 'b', \"c d\"], z: {}}\nb: []\nc: [ {k: v} ]\n", true},
		{"scalars", "i: -12\nf: 0.0004\ne: 1.5e-3\nv: 1.2.0\nd: 2030-01-01\nt: true\nn: null\nt2: ~\ns: hello world\nq: 'it''s'\np: s3://bucket/key\nz: 0\n", true},
		{"null values", "a:\nb:\n  c:\n", true},
		{"indented document", "  a: 1\n  b: 2\n", true},
		{"dotted and slashed keys", "labels:\n  app.kubernetes.io/name: x\n  a-b_c: 1\n", true},
		{"top-level sequence", "- a\n- {b: 1}\n", true},

		{"anchor and alias", "a: &x 1\nb: *x\n", false},
		{"merge key", "a: {x: 1}\nb:\n  <<: {y: 2}\n", false},
		{"tag", "a: !!str 1\n", false},
		{"block scalar", "a: |\n  text\n", false},
		{"multi-line plain scalar", "a: one\n  two\n", false},
		{"multi-line flow", "a: [1,\n  2]\n", false},
		{"escape", "a: \"x\\n\"\n", false},
		{"tab", "a:\t1\n", false},
		{"non-ASCII", "a: café\n", false},
		{"duplicate key", "a: 1\na: 2\n", false},
		{"duplicate flow key", "a: {x: 1, x: 2}\n", false},
		{"second document", "a: 1\n---\nb: 2\n", false},
		{"document end", "a: 1\n...\n", false},
		{"yaml 1.1 boolean", "a: yes\n", false},
		{"octal-looking", "a: 0755\n", false},
		{"hex", "a: 0x1F\n", false},
		{"plus sign", "a: +1\n", false},
		{"infinity", "a: .inf\n", false},
		{"quoted key", "\"a\": 1\n", false},
		{"complex key", "? a\n: 1\n", false},
		{"bad indentation", "a:\n    b: 1\n  c: 2\n", false},
		{"scalar document", "just text\n", false},
		{"empty", "", false},
		{"only comments", "# nothing\n", false},
		{"colon in value", "a: b: c\n", false},
		{"trailing comma", "a: [1, 2, ]\n", false},
		{"unclosed quote", "a: 'x\n", false},
		{"garbage after flow", "a: [1] x\n", false},
		{"nested item", "- - a\n", false},
		{"item below dash", "-\n  a: 1\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.fast, requireSameAsYAMLv3(t, []byte(tt.data)))
		})
	}
}

// TestPlainYAMLOnRepositories runs the fast path beside yaml.v3 on every
// YAML file of the repository's test data, and checks that the example
// repository's manifests take the fast path.
func TestPlainYAMLOnRepositories(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	var examples, fast int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ok := requireSameAsYAMLv3(t, trimBOM(data))
		if strings.Contains(filepath.ToSlash(path), "testdata/example/models/") {
			examples++
			if ok {
				fast++
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, examples)
	assert.Equal(t, examples, fast, "example manifests decoded by the fast path")
}

// FuzzPlainYAML is a differential fuzz target: the fast path must agree
// with yaml.v3 on everything it accepts.
func FuzzPlainYAML(f *testing.F) {
	f.Add([]byte(sampleYAML))
	f.Add([]byte("s:\n  - name: a\n    v: [1, {b: 'c'}]\n  - x\nt: {}\n"))
	f.Add([]byte("a: 1.5e-3\nb: 2030-01-01\nc: 1.2.0\nd: -0\ne: TRUE\n"))
	f.Add([]byte("---\na:\n- 1\nb: ~ # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) { requireSameAsYAMLv3(t, data) })
}

// BenchmarkDecodeYAML decodes a manifest by the fast path and by yaml.v3.
//
//	go test -run '^$' -bench DecodeYAML -benchmem ./pkg/manifest/
func BenchmarkDecodeYAML(b *testing.B) {
	benchmarkDecodePaths(b, sampleYAML, decodePath{"fast-path", decodeYAML}, decodePath{"yaml.v3", decodeYAMLNodes})
}

// decodePath is one way of decoding a document.
type decodePath struct {
	name   string
	decode func(string, Limits) (*Document, error)
}

func benchmarkDecodePaths(b *testing.B, data string, paths ...decodePath) {
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.decode(data, DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
