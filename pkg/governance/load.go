package governance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.yaml.in/yaml/v3"

	"github.com/modelgate/modelgate/policy"
)

// defaultBundlePrefix names the embedded policy files in messages, as in the
// repository ("policy/lineage.rego").
const defaultBundlePrefix = "policy/"

// sources are parsed policies and merged data, ready to compile.
type sources struct {
	modules map[string]*ast.Module
	data    map[string]any
	// alias renames directories in file names (see Options.Alias).
	alias map[string]string
	// defaultPackages are the packages of the default bundle ("modelgate.risk").
	defaultPackages map[string]bool
}

// sourceOptions say which policies and data to read.
type sourceOptions struct {
	defaultBundle bool
	dirs, data    []string
	alias         map[string]string
	tests         bool // *_test.rego files too
}

// loadSources reads the default bundle (when asked), then the user's policy
// directories, then the data files, each layer of data merged over the last.
func loadSources(o sourceOptions) (*sources, error) {
	s := &sources{
		modules:         map[string]*ast.Module{},
		data:            map[string]any{},
		defaultPackages: map[string]bool{},
		alias:           o.alias,
	}
	if o.defaultBundle {
		if err := s.addFS(policy.Bundle(), ".", defaultBundlePrefix, o.tests); err != nil {
			return nil, fmt.Errorf("load default bundle: %w", err)
		}
		for _, m := range s.modules {
			s.defaultPackages[namespaceOf(m)] = true
		}
	}
	for _, dir := range o.dirs {
		if err := s.addPath(dir, o.tests, true); err != nil {
			return nil, fmt.Errorf("load policies: %w", s.unalias(err))
		}
	}
	for _, file := range o.data {
		if err := s.addPath(file, o.tests, false); err != nil {
			return nil, fmt.Errorf("load data: %w", s.unalias(err))
		}
	}
	return s, nil
}

// name is how a file read from disk is named: by its path, or by the path
// its alias gives it.
func (s *sources) name(p string) string {
	p = filepath.ToSlash(p)
	for from, to := range s.alias {
		from = filepath.ToSlash(filepath.Clean(from))
		if rest, ok := strings.CutPrefix(p, from+"/"); ok {
			return filepath.ToSlash(filepath.Join(to, rest))
		}
		if p == from {
			return filepath.ToSlash(filepath.Clean(to))
		}
	}
	return p
}

// unalias names the files of an error (a missing directory) by their alias.
func (s *sources) unalias(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && s.name(pe.Path) != filepath.ToSlash(pe.Path) {
		return fmt.Errorf("%s %s: %w", pe.Op, s.name(pe.Path), pe.Err)
	}
	return err
}

// addPath loads a directory or a single file from disk. Policy paths give
// Rego files and bundle data files; data paths give every JSON/YAML file.
func (s *sources) addPath(p string, tests, isPolicy bool) error {
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		text, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if isPolicy && strings.HasSuffix(p, ".rego") {
			return s.addModule(s.name(p), text)
		}
		return s.addData(s.name(p), nil, text)
	}
	prefix := s.name(filepath.Clean(p)) + "/"
	if prefix == "./" {
		prefix = ""
	}
	if isPolicy {
		return s.addFS(os.DirFS(p), ".", prefix, tests)
	}
	return s.addDataFS(os.DirFS(p), prefix)
}

// addFS walks a policy tree: *.rego files (tests only when asked) and
// data.json / data.yaml files, placed at their directory's path.
func (s *sources) addFS(fsys fs.FS, root, prefix string, tests bool) error {
	return fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".rego"):
			if strings.HasSuffix(name, "_test.rego") && !tests {
				return nil
			}
			text, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			return s.addModule(prefix+name, text)
		case isBundleData(d.Name()):
			text, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			return s.addData(prefix+name, dirKeys(name), text)
		}
		return nil
	})
}

// addDataFS walks a data directory: every JSON or YAML file, placed at its
// directory's path (OPA's loader does the same).
func (s *sources) addDataFS(fsys fs.FS, prefix string) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isDataFile(name) {
			return nil
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		return s.addData(prefix+name, dirKeys(name), text)
	})
}

// addModule parses a policy and adds it.
func (s *sources) addModule(name string, text []byte) error {
	m, err := parseModule(name, text)
	if err != nil {
		return err
	}
	s.modules[name] = m
	return nil
}

// parseModule parses a policy as Rego v1 and, when that fails but the text
// is valid v0 (conftest's older `deny[msg] { ... }` style), as v0. The v1
// error is the one reported.
func parseModule(name string, text []byte) (*ast.Module, error) {
	m, err := ast.ParseModuleWithOpts(name, string(text), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
	if err != nil {
		m0, err0 := ast.ParseModuleWithOpts(name, string(text), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV0})
		if err0 != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		m = m0
	}
	if m == nil {
		return nil, fmt.Errorf("parse %s: empty module: a policy needs a package declaration", name)
	}
	return m, nil
}

// RuleTexts parses one policy file, as Load would, and returns the text of
// each of its rules by id (package.rule), every definition of a rule
// joined: what tells whether a change to the file changes a rule.
func RuleTexts(name string, text []byte) (map[string]string, error) {
	m, err := parseModule(name, text)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	pkg := namespaceOf(m)
	for _, r := range m.Rules {
		id := pkg + "." + r.Head.Name.String()
		if r.Head.Name == "" {
			id = pkg + "." + r.Head.Ref().String()
		}
		out[id] += r.String() + "\n"
	}
	return out, nil
}

// addData decodes a JSON or YAML document and merges it at keys.
func (s *sources) addData(name string, keys []string, text []byte) error {
	v, err := decodeData(name, text)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok && len(keys) == 0 {
		return fmt.Errorf("data %s: the top level must be an object, got %s", name, describe(v))
	}
	var tree any = obj
	if !ok {
		tree = v
	}
	for i := len(keys) - 1; i >= 0; i-- {
		tree = map[string]any{keys[i]: tree}
	}
	s.data = mergeData(s.data, tree.(map[string]any))
	return nil
}

// decodeData parses JSON (numbers kept exact) or YAML, by file extension.
func decodeData(name string, text []byte) (any, error) {
	var v any
	if strings.HasSuffix(name, ".json") {
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("data %s: invalid JSON: %w", name, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("data %s: invalid JSON: more than one value", name)
		}
		return v, nil
	}
	if err := yaml.Unmarshal(text, &v); err != nil {
		return nil, fmt.Errorf("data %s: invalid YAML: %w", name, err)
	}
	v, err := normalizeYAML(v)
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", name, err)
	}
	return v, nil
}

// normalizeYAML turns the map[any]any... YAML may produce into JSON shapes.
func normalizeYAML(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v: object keys must be strings", k)
			}
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			m[ks] = n
		}
		return m, nil
	case []any:
		for i, e := range v {
			n, err := normalizeYAML(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	}
	return v, nil
}

// mergeData merges src into dst: objects key by key, anything else replaced.
func mergeData(dst, src map[string]any) map[string]any {
	for k, v := range src {
		d, dok := dst[k].(map[string]any)
		s, sok := v.(map[string]any)
		if dok && sok {
			dst[k] = mergeData(d, s)
			continue
		}
		dst[k] = v
	}
	return dst
}

func isBundleData(base string) bool {
	return base == "data.json" || base == "data.yaml" || base == "data.yml"
}

func isDataFile(name string) bool {
	switch path.Ext(name) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

// dirKeys are the data keys of a file's directory: "a/b/data.json" -> [a b].
func dirKeys(name string) []string {
	dir := path.Dir(name)
	if dir == "." {
		return nil
	}
	return strings.Split(dir, "/")
}

// namespaceOf is a module's package without the "data." root: "modelgate.risk".
func namespaceOf(m *ast.Module) string {
	return strings.TrimPrefix(m.Package.Path.String(), "data.")
}
