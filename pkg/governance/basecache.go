package governance

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// dataCache serves the policies' base documents (data.json and --data
// files) to every evaluation from the converted data, shared read-only
// across documents and goroutines. It replaces OPA's per-evaluation cache,
// which reads the store and records each path it reads afresh for every
// document. The data never changes after Load.
type dataCache struct {
	data ast.Object
}

// Get returns the base document at ref, or nil to let OPA read the store:
// for data itself (the store hides its system key), for references that do
// not start at data, and for paths that do not exist.
func (c dataCache) Get(ref ast.Ref) ast.Value {
	if len(ref) < 2 || !ref[0].Equal(ast.DefaultRootDocument) {
		return nil
	}
	v, err := c.data.Find(ref[1:])
	if err != nil {
		return nil
	}
	return v
}

// Put ignores the store's answers: Get already has everything it can serve.
func (dataCache) Put(ast.Ref, ast.Value) {}
