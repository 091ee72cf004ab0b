package governance

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// seeds are the values of the rules that read data only (no input, no
// per-document data such as data.modelgate.context, no clock, no
// randomness, no print), computed once at Load: OPA would
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

// ruleCache is OPA's cache of rule values for one evaluation, with the
// seeds in front of it. OPA's own cache allocates a node per rule path and
// per document; this one keeps its table from one document to the next
// (Engine.caches), cleared, not reallocated. Inside a with modifier (a
// pushed frame) data or input may be replaced: only the outer frame uses
// the seeds, and each frame sees only its own values, as in OPA's cache.
type ruleCache struct {
	seeds  *seeds
	frames []*cacheFrame
	depth  int
}

// cacheFrame holds rule values by path, chained by the hash of the path.
type cacheFrame struct {
	byHash  map[int]int32 // hash of a path -> 1 + index of its newest entry
	entries []cacheEntry
	terms   []*ast.Term // the entries' paths, copied: OPA reuses its own
}

type cacheEntry struct {
	ref   ast.Ref
	value *ast.Term // nil: the rule is undefined
	prev  int32     // 1 + index of the previous entry of the same hash; 0 for none
}

func newRuleCache(s *seeds) *ruleCache {
	return &ruleCache{seeds: s, frames: []*cacheFrame{newCacheFrame()}}
}

func newCacheFrame() *cacheFrame {
	return &cacheFrame{byHash: map[int]int32{}}
}

func (f *cacheFrame) reset() {
	clear(f.byHash)
	clear(f.entries)
	clear(f.terms)
	f.entries, f.terms = f.entries[:0], f.terms[:0]
}

func (f *cacheFrame) find(ref ast.Ref, hash int) *cacheEntry {
	for i := f.byHash[hash]; i != 0; i = f.entries[i-1].prev {
		if e := &f.entries[i-1]; e.ref.Equal(ref) {
			return e
		}
	}
	return nil
}

// reset readies the cache for another evaluation.
func (c *ruleCache) reset() {
	for _, f := range c.frames[:c.depth+1] {
		f.reset()
	}
	c.depth = 0
}

func (c *ruleCache) Push() {
	c.depth++
	if c.depth == len(c.frames) {
		c.frames = append(c.frames, newCacheFrame())
	}
}

func (c *ruleCache) Pop() {
	c.frames[c.depth].reset()
	c.depth--
}

func (c *ruleCache) Get(ref ast.Ref) (*ast.Term, bool) {
	if c.depth == 0 {
		if v, undefined, ok := c.seeds.get(ref); ok {
			return v, undefined
		}
	}
	if e := c.frames[c.depth].find(ref, ref.Hash()); e != nil {
		return e.value, e.value == nil
	}
	return nil, false
}

func (c *ruleCache) Put(ref ast.Ref, v *ast.Term) {
	f := c.frames[c.depth]
	hash := ref.Hash()
	if e := f.find(ref, hash); e != nil {
		e.value = v
		return
	}
	start := len(f.terms)
	f.terms = append(f.terms, ref...)
	f.entries = append(f.entries, cacheEntry{ref: f.terms[start:len(f.terms):len(f.terms)], value: v, prev: f.byHash[hash]})
	f.byHash[hash] = int32(len(f.entries))
}

func (c *ruleCache) Keys() []ast.Ref {
	var keys []ast.Ref
	for _, e := range c.frames[c.depth].entries {
		if e.value != nil {
			keys = append(keys, e.ref)
		}
	}
	return keys
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
	p := purity{engine: e, groups: map[string][]*ast.Rule{}, memo: map[*ast.Rule]bool{}}
	for _, m := range e.compiler.Modules {
		for _, r := range m.Rules {
			key := r.Ref().GroundPrefix().String()
			p.groups[key] = append(p.groups[key], r)
		}
	}
	var refs []ast.Ref
	for _, rules := range p.groups {
		if !slices.ContainsFunc(rules, func(r *ast.Rule) bool { return !seedable(r) }) && p.dataOnly(rules[0]) {
			refs = append(refs, rules[0].Ref().GroundPrefix())
		}
	}
	if values, ok := e.evalRefs(ctx, refs); ok {
		for i, ref := range refs {
			s.put(ref, values[i])
		}
		return s
	}
	for _, ref := range refs { // one fails: find which
		if values, ok := e.evalRefs(ctx, []ast.Ref{ref}); ok {
			s.put(ref, values[0])
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

// purity tells the rules that read data alone. A rule's value comes from
// all its definitions (its default, its else branches, its other
// bodies): groups gathers them by path, and each is judged with all the
// rules it reads.
type purity struct {
	engine *Engine
	groups map[string][]*ast.Rule
	memo   map[*ast.Rule]bool
}

// dataOnly reports whether every definition of a rule, and every rule they
// read, reads no input and calls no impure builtin.
func (p purity) dataOnly(r *ast.Rule) bool {
	if v, ok := p.memo[r]; ok {
		return v
	}
	group := p.groups[r.Ref().GroundPrefix().String()]
	for _, def := range group {
		p.memo[def] = true // Rego has no recursion; this ends the walk of a cycle
	}
	ok := true
	for _, def := range group {
		ok = ok && p.engine.bodyDataOnly(def)
		for dep := range p.engine.compiler.Graph.Dependencies(def) {
			if dr, isRule := dep.(*ast.Rule); ok && isRule {
				ok = p.dataOnly(dr)
			}
		}
	}
	for _, def := range group {
		p.memo[def] = ok
	}
	return ok
}

func (e *Engine) bodyDataOnly(r *ast.Rule) bool {
	ok := true
	ast.WalkTerms(r, func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Ref:
			head := v[0].Value
			if head.Compare(ast.InputRootDocument.Value) == 0 ||
				(head.Compare(ast.DefaultRootDocument.Value) == 0 && readsPerDocument(v)) {
				ok = false
			}
		case ast.Call:
			ok = ok && !impure(v[0].String())
		}
		return !ok
	})
	ast.WalkExprs(r, func(x *ast.Expr) bool {
		if x.IsCall() {
			ok = ok && !impure(x.Operator().String())
		}
		return !ok
	})
	return ok
}

// impure holds for a builtin that acts or answers differently from one
// evaluation to the next.
func impure(name string) bool {
	b := ast.BuiltinMap[name]
	return impureBuiltins[name] || (b != nil && b.Nondeterministic)
}

// evalRefs evaluates rules' values in one query within the time limit:
// nil for an undefined rule; ok is false when the evaluation fails.
func (e *Engine) evalRefs(ctx context.Context, refs []ast.Ref) ([]*ast.Term, bool) {
	if len(refs) == 0 {
		return nil, true
	}
	parts := make([]string, len(refs))
	for i, ref := range refs {
		parts[i] = "[__v | __v := " + ref.String() + "]"
	}
	pq, err := e.preparedQuery(ctx, resultVar+" := ["+strings.Join(parts, ", ")+"]")
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
	if !ok || arr.Len() != len(refs) {
		return nil, false
	}
	values := make([]*ast.Term, len(refs))
	for i := range refs {
		if v, ok := arr.Elem(i).Value.(*ast.Array); ok && v.Len() == 1 {
			values[i] = v.Elem(0)
		}
	}
	return values, true
}
