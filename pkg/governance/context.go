package governance

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/modelgate/modelgate/internal/plain"
)

// The documents modelgate sets per manifest beside the policies' data
// (DESIGN.md, "Policy input"): conftest's file information, and modelgate's
// own context, so that input stays the manifest exactly.
var (
	conftestFilePath = []string{"conftest", "file"}
	contextPath      = []string{"modelgate", "context"}
)

// perDocument lists the data paths set per document (documentData.value
// serves them by index).
func perDocument() [2][]string { return [2][]string{conftestFilePath, contextPath} }

// evalInput is what one evaluation reads besides the policies: the input
// document, the data with the per-document paths in front of the shared
// data, and the time of the run.
type evalInput struct {
	input ast.Value // nil: no input, as conftest gives an empty file
	data  *documentData
	now   time.Time
	// trace records the evaluation when the engine traces; nil otherwise.
	trace *topdown.BufferTracer
}

// newEvalInput prepares a document for evaluation. The conversions to OPA
// values are lazy: only the fields a policy reads are converted, once each,
// which is what makes thousands of documents cheap. Values OPA cannot
// convert make the evaluation panic; eval turns that into an error.
func (e *Engine) newEvalInput(doc *Document) (evalInput, error) {
	input, err := inputValue(doc.Input)
	if err != nil {
		return evalInput{}, fmt.Errorf("evaluation failed: %w", err)
	}
	d := &documentData{shared: e.data, doc: doc}
	if doc.Context != nil {
		d.context = ast.LazyObject(doc.Context)
	}
	now := doc.Now
	if now.IsZero() {
		now = contextTime(doc.Context)
	}
	in := evalInput{input: input, data: d, now: now}
	if e.trace != nil {
		in.trace = topdown.NewBufferTracer()
	}
	return in, nil
}

// traceText renders the recorded trace as `opa eval --explain full` does,
// control characters escaped: the trace quotes the manifest.
func (in evalInput) traceText() string {
	if in.trace == nil {
		return ""
	}
	var b strings.Builder
	topdown.PrettyTraceWithLocation(&b, *in.trace)
	return plain.Lines(b.String())
}

// fileInfo is data.conftest.file as conftest sets it: the base name and the
// absolute directory of the file it was given.
func fileInfo(doc *Document) ast.Value {
	p := cmp.Or(doc.Path, doc.File)
	if p == "" {
		return nil
	}
	if !filepath.IsAbs(p) {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
	}
	return ast.NewObject(
		ast.Item(ast.InternedTerm("name"), ast.StringTerm(filepath.Base(p))),
		ast.Item(ast.InternedTerm("dir"), ast.StringTerm(filepath.Dir(p))),
	)
}

// contextTime is the context's now, so that time.now_ns() in policies
// agrees with it.
func contextTime(ctx map[string]any) time.Time {
	s, _ := ctx["now"].(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// documentData serves one evaluation's base documents: the per-document
// paths (data.conftest.file, data.modelgate.context) from the document, the
// rest from the data shared by every document. OPA reads base documents
// through this cache before its store, so the per-document values need no
// store transaction, and documents are evaluated concurrently.
type documentData struct {
	shared  dataCache
	doc     *Document // nil for none
	context ast.Value // nil without a context
	// file is data.conftest.file, made when a policy first reads it.
	file     ast.Value
	fileDone bool
}

// Get returns the base document at ref. Under a per-document path it is
// the document's value (nil when absent: the store has nothing there
// either); above one, the shared document with the per-document values set
// in it; elsewhere the shared data's.
func (d *documentData) Get(ref ast.Ref) ast.Value {
	if len(ref) == 0 || !ref[0].Equal(ast.DefaultRootDocument) {
		return nil
	}
	keys := ref[1:]
	for i, path := range perDocument() {
		n := commonPrefix(keys, path)
		switch {
		case n == len(path):
			v := d.value(i)
			if v == nil {
				return nil
			}
			v, err := v.Find(keys[n:])
			if err != nil {
				return nil
			}
			return v
		case n == len(keys):
			return d.above(keys)
		}
	}
	return d.shared.Get(ref)
}

// Put ignores the store's answers, as dataCache does.
func (*documentData) Put(ast.Ref, ast.Value) {}

// value is the document's value at perDocument()[i]; nil for none.
func (d *documentData) value(i int) ast.Value {
	if i == 1 {
		return d.context
	}
	if !d.fileDone && d.doc != nil {
		d.file, d.fileDone = fileInfo(d.doc), true
	}
	return d.file
}

// above builds the document at keys, a strict prefix of per-document paths
// (data, data.modelgate, data.conftest): the shared one, copied shallowly
// along the way, with the per-document values set in it. Only policies that
// read such a whole document (some pkg in data.modelgate) pay for it.
func (d *documentData) above(keys ast.Ref) ast.Value {
	var obj ast.Object = ast.NewObject()
	if v, err := d.shared.data.Find(keys); err == nil {
		o, ok := v.(ast.Object)
		if !ok {
			return v
		}
		obj = o
	}
	for i, path := range perDocument() {
		if v := d.value(i); v != nil && commonPrefix(keys, path) == len(keys) {
			obj = setPath(obj, path[len(keys):], v)
		}
	}
	return obj
}

// setPath returns a shallow copy of obj with value at path, creating the
// objects on the way.
func setPath(obj ast.Object, path []string, value ast.Value) ast.Object {
	out := ast.NewObjectWithCapacity(obj.Len() + 1)
	obj.Foreach(func(k, v *ast.Term) { out.Insert(k, v) })
	key := ast.InternedTerm(path[0])
	if len(path) == 1 {
		out.Insert(key, ast.NewTerm(value))
		return out
	}
	child := ast.NewObject()
	if t := obj.Get(key); t != nil {
		if o, ok := t.Value.(ast.Object); ok {
			child = o
		}
	}
	out.Insert(key, ast.NewTerm(setPath(child, path[1:], value)))
	return out
}

// commonPrefix counts the leading keys of ref that are the strings of path.
func commonPrefix(ref ast.Ref, path []string) int {
	n := 0
	for n < len(ref) && n < len(path) {
		s, ok := ref[n].Value.(ast.String)
		if !ok || string(s) != path[n] {
			break
		}
		n++
	}
	return n
}

// readsPerDocument holds for a data reference that may read a per-document
// path: one that starts with a prefix of one (data.modelgate[x]) or with
// one of them (data.modelgate.context.now).
func readsPerDocument(ref ast.Ref) bool {
	for _, p := range perDocument() {
		if mayRead(ref, p) {
			return true
		}
	}
	return false
}

// readsContext reports whether any module of the compiler has a reference
// that may read data.modelgate.context (see mayRead).
func readsContext(c *ast.Compiler) bool {
	found := false
	for _, m := range c.Modules {
		ast.WalkRefs(m, func(ref ast.Ref) bool {
			found = found || ref[0].Equal(ast.DefaultRootDocument) && mayRead(ref, contextPath)
			return found
		})
		if found {
			return true
		}
	}
	return false
}

// mayRead holds for a data reference that may read the data at path: one
// that starts with a prefix of it (data.modelgate[x]) or with it
// (data.modelgate.context.now).
func mayRead(ref ast.Ref, path []string) bool {
	ground := ref.GroundPrefix()
	if len(ground) < 2 {
		return true // data[x] or data itself
	}
	n := commonPrefix(ground[1:], path)
	return n == len(path) || n == len(ground)-1
}

// checkReserved refuses policies and data that declare the per-document
// paths, which modelgate sets for every manifest.
func (s *sources) checkReserved() error {
	for name, m := range s.modules {
		ns := namespaceOf(m)
		for _, p := range perDocument() {
			reserved := strings.Join(p, ".")
			if ns == reserved || strings.HasPrefix(ns, reserved+".") {
				return fmt.Errorf("%s: package %s: data.%s is set for every manifest; a policy cannot declare it", name, ns, reserved)
			}
		}
	}
	for _, p := range perDocument() {
		if has(s.data, p) {
			return fmt.Errorf("load data: data.%s is set for every manifest; a data file cannot declare it", strings.Join(p, "."))
		}
	}
	return nil
}

// has reports whether the nested maps of data have a value at path.
func has(data map[string]any, path []string) bool {
	var v any = data
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}
