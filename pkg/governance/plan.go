package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// plan is one prepared query that evaluates a set of rules, and the
// exception rules of their packages, in a single pass over a document.
type plan struct {
	rules []*rule
	// exceptions[ns] is the index in the result of ns's exception rule.
	exceptions map[string]int
	// wrapped[i] says whether result i is wrapped in an array (see wrap).
	wrapped []bool
	query   rego.PreparedEvalQuery
	// skipped are rules left out after repeated timeouts.
	skipped []skipped
}

// resultVar is the query's only binding: an array with one entry per rule,
// then one per exception rule: a partial set rule's value, or for other
// rules [] when undefined or [value].
const resultVar = "x"

// prepare compiles the query of a plan. Wrapping each rule in a
// comprehension keeps the query defined when a rule is undefined, so one
// odd rule cannot hide the others' results.
func (e *Engine) prepare(ctx context.Context, rules []*rule) (*plan, error) {
	p := &plan{rules: rules, exceptions: map[string]int{}}
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		part, wrapped := e.wrap(r.ref)
		parts, p.wrapped = append(parts, part), append(p.wrapped, wrapped)
	}
	for _, r := range rules {
		if _, done := p.exceptions[r.namespace]; done {
			continue
		}
		ref := r.ref[:len(r.ref)-1].Append(ast.StringTerm("exception"))
		if len(e.compiler.GetRulesExact(ref)) == 0 {
			continue
		}
		p.exceptions[r.namespace] = len(parts)
		part, wrapped := e.wrap(ref)
		parts, p.wrapped = append(parts, part), append(p.wrapped, wrapped)
	}
	query := resultVar + " := [" + strings.Join(parts, ", ") + "]"
	pq, err := e.preparedQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	p.query = pq
	return p, nil
}

// wrap puts a rule's value in a one-element array, or an empty one when
// the rule is undefined, and says so. Partial set rules (deny contains msg
// if ...) are never undefined: they stand as they are, which spares a
// comprehension, or an array, per rule and document.
func (e *Engine) wrap(ref ast.Ref) (string, bool) {
	rules := e.compiler.GetRulesExact(ref)
	multi := len(rules) > 0
	for _, r := range rules {
		multi = multi && r.Head.RuleKind() == ast.MultiValue
	}
	if multi {
		return ref.String(), false
	}
	return "[__v | __v := " + ref.String() + "]", true
}

// outcome is a plan's result for one document: the value of each rule
// (nil when undefined) and the names its package's exceptions silence.
type outcome struct {
	values []ast.Value
	except []map[string]bool
}

// eval runs the plan on one input within the engine's time limit. A
// cancel flag raised by a timer (or by ctx) stops the evaluation, which
// spares a goroutine and a context per document.
func (e *Engine) eval(ctx context.Context, p *plan, in evalInput) (o *outcome, err error) {
	defer func() {
		// The lazy input conversion panics on values that are not JSON.
		if v := recover(); v != nil {
			o, err = nil, fmt.Errorf("evaluation failed: %v", v)
		}
	}()
	cancel := topdown.NewCancel()
	timer := time.AfterFunc(e.timeout, cancel.Cancel)
	defer timer.Stop()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	cache := e.caches.Get().(*ruleCache)
	defer e.caches.Put(cache)
	cache.reset()
	opts := []rego.EvalOption{
		rego.EvalParsedInput(in.input),
		rego.EvalGenerateJSON(keepTerm),
		rego.EvalExternalCancel(cancel),
		rego.EvalBaseCache(in.data),
		rego.EvalVirtualCache(cache),
		rego.EvalMetrics(metrics.NoOp()),
	}
	if !in.now.IsZero() {
		opts = append(opts, rego.EvalTime(in.now))
	}
	if in.trace != nil {
		opts = append(opts, rego.EvalQueryTracer(in.trace))
	}
	rs, err := p.query.Eval(ctx, opts...)
	if err != nil {
		return nil, e.evalError(ctx, err)
	}
	if len(rs) != 1 {
		return nil, errors.New("the query returned no result")
	}
	t, _ := rs[0].Bindings[resultVar].(*ast.Term)
	arr, ok := t.Value.(*ast.Array)
	if !ok || arr.Len() != len(p.rules)+len(p.exceptions) {
		return nil, fmt.Errorf("the query returned %v", t)
	}
	o = &outcome{values: make([]ast.Value, len(p.rules)), except: make([]map[string]bool, len(p.rules))}
	for i, r := range p.rules {
		o.values[i] = p.unwrap(arr, i)
		if j, ok := p.exceptions[r.namespace]; ok {
			o.except[i] = exceptionNames(p.unwrap(arr, j))
		}
	}
	return o, nil
}

// errTimeout marks an evaluation stopped by the engine's time limit.
type errTimeout struct{ limit time.Duration }

func (e errTimeout) Error() string {
	return fmt.Sprintf("evaluation exceeded the time limit of %v", e.limit)
}

// evalError names a timeout as such; other errors pass unchanged.
func (e *Engine) evalError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if topdown.IsCancel(err) {
		return errTimeout{e.timeout}
	}
	return err
}

func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) {
	return t, nil
}

// unwrap undoes wrap for result i: [] -> nil, [v] -> v.
func (p *plan) unwrap(results *ast.Array, i int) ast.Value {
	t := results.Elem(i)
	if !p.wrapped[i] {
		return t.Value
	}
	arr, ok := t.Value.(*ast.Array)
	if !ok || arr.Len() == 0 {
		return nil
	}
	return arr.Elem(0).Value
}

// exceptionNames reads conftest's exception rule as conftest queries it
// (exception[_][_] == name): a set of collections of rule names,
// exception contains ["missing_owner"] if ..., with "" for the bare deny,
// violation and warn rules. A plain string names nothing, as in conftest.
func exceptionNames(v ast.Value) map[string]bool {
	names := map[string]bool{}
	eachElem(v, func(t *ast.Term) {
		eachElem(t.Value, func(t *ast.Term) {
			if s, ok := t.Value.(ast.String); ok {
				names[string(s)] = true
			}
		})
	})
	return names
}

// eachElem calls f on the elements of a set or array; other values have none.
func eachElem(v ast.Value, f func(*ast.Term)) {
	switch c := v.(type) {
	case ast.Set:
		c.Foreach(f)
	case *ast.Array:
		c.Foreach(f)
	}
}
