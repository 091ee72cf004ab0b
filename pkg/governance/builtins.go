package governance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/types"
	"go.yaml.in/yaml/v3"
)

// maxConfigFile bounds what parse_config_file and
// parse_combined_config_files read of one file, as the manifests are bounded.
const maxConfigFile = 1 << 20

// The built-in functions conftest adds to Rego, which conftest policies
// call. Each failure stops the evaluation of the rule that called it, which
// becomes a policy/error finding: a rule must not pass because the file it
// checks could not be read (conftest makes the call undefined instead, unless
// --show-builtin-errors).
var (
	parseConfigDecl = &rego.Function{
		Name: "parse_config",
		Decl: types.NewFunction(types.Args(types.Named("parser", types.S), types.Named("config", types.S)), types.A),
	}
	parseConfigFileDecl = &rego.Function{
		Name: "parse_config_file",
		Decl: types.NewFunction(types.Args(types.Named("path", types.S)), types.A),
	}
	parseCombinedDecl = &rego.Function{
		Name: "parse_combined_config_files",
		Decl: types.NewFunction(types.Args(types.Named("paths", types.NewArray(nil, types.S))), types.A),
	}
)

// builtinDecls declares the functions to the compiler.
func builtinDecls() map[string]*ast.Builtin {
	out := map[string]*ast.Builtin{}
	for _, b := range (files{}).builtins() {
		out[b.decl.Name] = b.ast()
	}
	return out
}

// builtin is one function: its declaration and the option that gives a
// query its implementation.
type builtin struct {
	decl *rego.Function
	impl func(*rego.Rego)
}

func (b builtin) ast() *ast.Builtin { return &ast.Builtin{Name: b.decl.Name, Decl: b.decl.Decl} }

// files is what the file built-ins may read: the files under one
// directory, the repository, read through an os.Root so that neither a
// path nor a symbolic link leads out of it. Paths are relative to the
// directory of the policy that calls them, as in conftest.
type files struct {
	// root is the repository's absolute path; "" refuses every file.
	root string
}

func (f files) builtins() []builtin {
	return []builtin{
		{parseConfigDecl, rego.Function2(parseConfigDecl, f.parseConfig)},
		{parseConfigFileDecl, rego.Function1(parseConfigFileDecl, f.parseConfigFile)},
		{parseCombinedDecl, rego.Function1(parseCombinedDecl, f.parseCombined)},
	}
}

// functions returns the implementations, as options of a query.
func (f files) functions() []func(*rego.Rego) {
	var out []func(*rego.Rego)
	for _, b := range f.builtins() {
		out = append(out, b.impl)
	}
	return out
}

// testerBuiltins are the functions for the Rego unit tests' runner.
func (f files) testerBuiltins() []*tester.Builtin {
	var out []*tester.Builtin
	for _, b := range f.builtins() {
		out = append(out, &tester.Builtin{Decl: b.ast(), Func: b.impl})
	}
	return out
}

// parseConfig parses text with a named parser: parse_config("yaml", s).
func (f files) parseConfig(_ rego.BuiltinContext, parser, text *ast.Term) (*ast.Term, error) {
	name, ok1 := parser.Value.(ast.String)
	src, ok2 := text.Value.(ast.String)
	if !ok1 || !ok2 {
		return nil, rego.NewHaltError(errors.New("want a parser name and a text"))
	}
	ext, ok := parserExtension(string(name))
	if !ok {
		return nil, rego.NewHaltError(fmt.Errorf("parser %q: modelgate parses json and yaml", string(name)))
	}
	v, err := parseConfigText("config"+ext, []byte(src))
	if err != nil {
		return nil, rego.NewHaltError(err)
	}
	return f.term(v)
}

// parseConfigFile reads and parses one file: parse_config_file("x.yaml").
func (f files) parseConfigFile(bctx rego.BuiltinContext, path *ast.Term) (*ast.Term, error) {
	p, ok := path.Value.(ast.String)
	if !ok {
		return nil, rego.NewHaltError(errors.New("want a path"))
	}
	v, _, err := f.read(bctx, string(p))
	if err != nil {
		return nil, rego.NewHaltError(err)
	}
	return f.term(v)
}

// parseCombined reads several files into one list of {path, contents},
// sorted by path, a multi-document file giving one entry per document:
// conftest's --combine for the files a policy names.
func (f files) parseCombined(bctx rego.BuiltinContext, paths *ast.Term) (*ast.Term, error) {
	arr, ok := paths.Value.(*ast.Array)
	if !ok {
		return nil, rego.NewHaltError(errors.New("want an array of paths"))
	}
	type entry struct {
		path     string
		contents any
	}
	var entries []entry
	var err error
	arr.Until(func(t *ast.Term) bool {
		p, ok := t.Value.(ast.String)
		if !ok {
			err = fmt.Errorf("paths: %v is not a string", t)
			return true
		}
		v, name, rerr := f.read(bctx, string(p))
		if rerr != nil {
			err = rerr
			return true
		}
		if docs, multi := v.([]any); multi {
			for _, d := range docs {
				entries = append(entries, entry{name, d})
			}
			return false
		}
		entries = append(entries, entry{name, v})
		return false
	})
	if err != nil {
		return nil, rego.NewHaltError(err)
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return strings.Compare(a.path, b.path) })
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = map[string]any{"path": e.path, "contents": e.contents}
	}
	return f.term(out)
}

func (files) term(v any) (*ast.Term, error) {
	t, err := term(v, "config")
	if err != nil {
		return nil, rego.NewHaltError(err)
	}
	return t, nil
}

// read resolves a path from the calling policy's directory, checks that it
// stays inside the repository, and parses the file by its extension. name
// is the path as conftest names it: the policy's directory joined with p.
func (f files) read(bctx rego.BuiltinContext, p string) (v any, name string, err error) {
	policy := ""
	if bctx.Location != nil {
		policy = bctx.Location.File
	}
	name = filepath.Join(filepath.Dir(policy), p)
	if f.root == "" {
		return nil, name, fmt.Errorf("%s: no repository to read files from", name)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, name, err
	}
	rel, err := filepath.Rel(f.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, name, fmt.Errorf("%s is outside the repository: policies read only the repository's files", name)
	}
	data, err := readInRoot(f.root, rel)
	if err != nil {
		return nil, name, fmt.Errorf("read %s: %w", name, err)
	}
	if _, ok := parserExtension(strings.TrimPrefix(filepath.Ext(name), ".")); !ok {
		return nil, name, fmt.Errorf("%s: modelgate parses .json, .yaml and .yml files", name)
	}
	v, err = parseConfigText(name, data)
	return v, name, err
}

// readInRoot reads a file of root by a relative path that may not leave it,
// symbolic links included, and no larger than maxConfigFile.
func readInRoot(root, rel string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	file, err := r.Open(rel)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("larger than %d bytes", maxConfigFile)
	}
	return data, nil
}

// parserExtension maps conftest's parser names modelgate supports to a file
// extension.
func parserExtension(parser string) (string, bool) {
	switch strings.ToLower(parser) {
	case "json":
		return ".json", true
	case "yaml", "yml":
		return ".yaml", true
	}
	return "", false
}

// parseConfigText parses JSON, or YAML 1.2 (the way modelgate reads
// manifests); a YAML text of several documents gives the list of them, as
// conftest's parser does.
func parseConfigText(name string, text []byte) (any, error) {
	text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
	if strings.HasSuffix(name, ".json") {
		return decodeData(name, text)
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: invalid YAML: %w", name, err)
		}
		n, err := normalizeYAML(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		docs = append(docs, n)
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
		return docs[0], nil
	}
	return docs, nil
}
