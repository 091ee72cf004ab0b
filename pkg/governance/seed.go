package governance

import (
	"context"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// seeds are the values of the rules that read data only (no input, no
// clock, no randomness, no print), computed once at Load: OPA would
// otherwise compute them again for every document, since its cache of rule
// values lives for one evaluation. A tree keyed by the terms of the rule's
// path, data.modelgate.lifecycle.order, so that a lookup allocates nothing.
type seeds struct {
	children map[ast.Value]*seeds
	value    *ast.Term // nil: no seed here
	// undefined marks a rule without a value: OPA caches that too.
	undefined bool
}

// get returns a seeded rule value, whether it is undefined, and whether
// the rule is seeded at all.
func (s *seeds) get(ref ast.Ref) (*ast.Term, bool, bool) {
	n := s
	for _, t := range ref {
		if !scalar(t.Value) {
			return nil, false, false // rule paths hold names only
		}
		if n = n.children[t.Value]; n == nil {
			return nil, false, false
		}
	}
	if n.value == nil && !n.undefined {
		return nil, false, false
	}
	return n.value, n.undefined, true
}

// scalar holds for the values a map can use as keys.
func scalar(v ast.Value) bool {
	switch v.(type) {
	case ast.String, ast.Var, ast.Number, ast.Boolean, ast.Null:
		return true
	}
	return false
}

func (s *seeds) put(ref ast.Ref, v *ast.Term) {
	n := s
	for _, t := range ref {
		next := n.children[t.Value]
		if next == nil {
			next = &seeds{}
			if n.children == nil {
				n.children = map[ast.Value]*seeds{}
			}
			n.children[t.Value] = next
		}
		n = next
	}
	n.value, n.undefined = v, v == nil
}

// seededCache is OPA's virtual cache for one evaluation, in front of which
// the seeds answer. Inside a with modifier (a pushed frame) data or input
// may be replaced, so only the outer frame uses the seeds.
type seededCache struct {
	seeds *seeds
	inner topdown.VirtualCache
	depth int
}

func newSeededCache(s *seeds) *seededCache {
	return &seededCache{seeds: s, inner: topdown.NewVirtualCache()}
}

func (c *seededCache) Push() {
	c.depth++
	c.inner.Push()
}

func (c *seededCache) Pop() {
	c.depth--
	c.inner.Pop()
}

func (c *seededCache) Get(ref ast.Ref) (*ast.Term, bool) {
	if c.depth == 0 {
		if v, undefined, ok := c.seeds.get(ref); ok {
			return v, undefined
		}
	}
	return c.inner.Get(ref)
}

func (c *seededCache) Put(ref ast.Ref, v *ast.Term) {
	c.inner.Put(ref, v)
}

func (c *seededCache) Keys() []ast.Ref {
	return c.inner.Keys()
}

// impureBuiltins give another answer per evaluation, or act: a rule that
// calls one, directly or through the rules it reads, is never seeded.
var impureBuiltins = map[string]bool{
	"print": true, "internal.print": true, "trace": true, "time.now_ns": true, "opa.runtime": true,
}

// seedRules evaluates once the complete rules that depend on data alone.
// A rule whose evaluation fails or exceeds the time limit is left to each
// document's evaluation, which reports the failure as before.
func (e *Engine) seedRules(ctx context.Context) *seeds {
	s := &seeds{}
	pure := map[*ast.Rule]bool{}
	for _, m := range e.compiler.Modules {
		for _, r := range m.Rules {
			if !seedable(r) || !e.dataOnly(r, pure, map[*ast.Rule]bool{}) {
				continue
			}
			ref := r.Ref().GroundPrefix()
			if _, _, done := s.get(ref); done {
				continue
			}
			if v, ok := e.evalRef(ctx, ref); ok {
				s.put(ref, v)
			}
		}
	}
	return s
}

// seedable holds for complete rules with a fixed path: not functions,
// partial sets or objects.
func seedable(r *ast.Rule) bool {
	return len(r.Head.Args) == 0 && r.Head.RuleKind() == ast.SingleValue && r.Ref().IsGround() &&
		r.Head.Key == nil
}

// dataOnly reports whether a rule, and every rule it reads, reads no input
// and calls no impure or unknown builtin.
func (e *Engine) dataOnly(r *ast.Rule, memo, visiting map[*ast.Rule]bool) bool {
	if v, ok := memo[r]; ok {
		return v
	}
	if visiting[r] {
		return true // a cycle is decided by its first rule
	}
	visiting[r] = true
	ok := e.bodyDataOnly(r)
	for dep := range e.compiler.Graph.Dependencies(r) {
		if dr, isRule := dep.(*ast.Rule); ok && isRule {
			ok = e.dataOnly(dr, memo, visiting)
		}
	}
	memo[r] = ok
	return ok
}

func (e *Engine) bodyDataOnly(r *ast.Rule) bool {
	ok := true
	ast.WalkTerms(r, func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Ref:
			head := v[0].Value
			if head.Compare(ast.InputRootDocument.Value) == 0 ||
				(head.Compare(ast.DefaultRootDocument.Value) == 0 && len(v.GroundPrefix()) < 2) {
				ok = false
			}
		case ast.Call:
			name := v[0].String()
			b := ast.BuiltinMap[name]
			if impureBuiltins[name] || (b != nil && b.Nondeterministic) {
				ok = false
			}
		}
		return !ok
	})
	ast.WalkExprs(r, func(x *ast.Expr) bool {
		if x.IsCall() {
			name := x.Operator().String()
			b := ast.BuiltinMap[name]
			if impureBuiltins[name] || (b != nil && b.Nondeterministic) {
				ok = false
			}
		}
		return !ok
	})
	return ok
}

// evalRef evaluates one rule's value within the time limit; ok is false
// when it fails.
func (e *Engine) evalRef(ctx context.Context, ref ast.Ref) (*ast.Term, bool) {
	pq, err := e.preparedQuery(ctx, resultVar+" := ["+ref.String()+" | true]")
	if err != nil {
		return nil, false
	}
	cancel := topdown.NewCancel()
	timer := time.AfterFunc(e.timeout, cancel.Cancel)
	defer timer.Stop()
	rs, err := pq.Eval(ctx, rego.EvalExternalCancel(cancel), rego.EvalBaseCache(e.data),
		rego.EvalParsedInput(ast.NewObject()), rego.EvalGenerateJSON(keepTerm))
	if err != nil || len(rs) != 1 {
		return nil, false
	}
	t, _ := rs[0].Bindings[resultVar].(*ast.Term)
	arr, ok := t.Value.(*ast.Array)
	if !ok {
		return nil, false
	}
	if arr.Len() == 0 {
		return nil, true // undefined
	}
	return arr.Elem(0), true
}
