package governance

import (
	"strings"
	"testing"

	"github.com/modelgate/modelgate/pkg/manifest"
)

// FuzzDecodeData feeds data files: any bytes give a value or an error,
// never a panic.
func FuzzDecodeData(f *testing.F) {
	f.Add("data.json", []byte(`{"modelgate": {"config": {"thresholds": {"high": {"f1": {"min": 0.9}}}}}}`))
	f.Add("data.yaml", []byte("limits:\n  latency_ms: 10\n"))
	f.Add("data.yaml", []byte("a: &x [1, 2]\nb: *x\n? [complex]\n: key\n"))
	f.Add("data.json", []byte(`{"a": 1} {"b": 2}`))
	f.Fuzz(func(t *testing.T, name string, text []byte) {
		s := &sources{data: map[string]any{}}
		if err := s.addData(name, nil, text); err != nil {
			return
		}
		if _, err := dataValue(s.data); err != nil {
			t.Fatalf("decoded data does not convert: %v", err)
		}
	})
}

// FuzzLocate feeds message paths, which policies may build from manifest
// text: locating one always ends, on an existing position or on line 1.
func FuzzLocate(f *testing.F) {
	f.Add("spec.rollout.stages[0].traffic")
	f.Add(`metadata.labels["a.b/c"]`)
	f.Add("input.manifest.spec..x[")
	f.Fuzz(func(t *testing.T, path string) {
		seen := 0
		n := len(manifest.Segments(path))
		loc := locatorFunc(func(p string) (int, int, bool) {
			seen++
			if seen > 1+n*(n+1)/2 {
				t.Fatalf("more lookups than runs of the path's steps: %q", path)
			}
			return 7, 3, p == "spec"
		})
		line, col, _ := locate(loc, path)
		if strings.HasPrefix(path, "spec") && seen == 0 {
			t.Fatalf("%q was not looked up", path)
		}
		if line < 1 || col < 1 {
			t.Fatalf("locate(%q) = %d:%d", path, line, col)
		}
	})
}

type locatorFunc func(string) (int, int, bool)

func (f locatorFunc) Locate(p string) (int, int, bool) { return f(p) }

// FuzzParseConfigText feeds the texts parse_config and parse_config_file
// parse, which may come from a pull request: any bytes give a value that
// converts to Rego, or an error, never a panic.
func FuzzParseConfigText(f *testing.F) {
	f.Add("a.yaml", []byte("a: 1\n---\nb: [x, {c: yes}]\n"))
	f.Add("a.json", []byte("\xef\xbb\xbf{\"a\": [1, 2.5e3]}"))
	f.Add("a.yaml", []byte("%YAML 1.2\n---\nt: 2024-01-02\n"))
	f.Add("a.yaml", []byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, name string, text []byte) {
		v, err := parseConfigText(name, text)
		if err != nil {
			return
		}
		if _, err := term(v, "config"); err != nil {
			t.Fatalf("parsed config does not convert: %v", err)
		}
	})
}
