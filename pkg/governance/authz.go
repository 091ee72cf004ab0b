package governance

import (
	"context"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// prepareAuthz compiles the query of the modelgate.authz deny rules, or
// returns nil when no policy declares them.
func (e *Engine) prepareAuthz(ctx context.Context) (*plan, error) {
	ref := ast.MustParseRef("data." + AuthzNamespace + ".deny")
	if len(e.compiler.GetRulesExact(ref)) == 0 {
		return nil, nil
	}
	p, err := e.prepare(ctx, []*rule{{namespace: AuthzNamespace, name: "deny", id: AuthzNamespace + ".deny", ref: ref}})
	if err != nil {
		return nil, fmt.Errorf("prepare authorization rules: %w", err)
	}
	return p, nil
}

// Authorize evaluates the ChatOps authorization rules (the deny rules of
// package modelgate.authz) on a command and returns why it is refused:
// none means allowed, as does an engine without such rules. Input:
// {command, commenter, manifest, pull_request, rollout}; see
// policy/authz/authz.rego. An evaluation error refuses nothing and is
// returned: the caller must treat it as a refusal.
func (e *Engine) Authorize(ctx context.Context, input map[string]any) ([]string, error) {
	if e.authz == nil {
		return nil, nil
	}
	o, err := e.eval(ctx, e.authz, evalInput{input: ast.LazyObject(input), data: &documentData{shared: e.data}})
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	reasons, err := messages(o.values[0])
	if err != nil {
		return nil, fmt.Errorf("authorize: %s: %w", AuthzNamespace+".deny", err)
	}
	slices.Sort(reasons)
	return reasons, nil
}

// messages reads a deny rule's value: a set or array of strings or of
// objects with a string msg.
func messages(v ast.Value) ([]string, error) {
	var out []string
	var bad ast.Value
	each := func(t *ast.Term) {
		switch m := t.Value.(type) {
		case ast.String:
			out = append(out, string(m))
		case ast.Object:
			if s, ok := stringField(m, "msg"); ok {
				out = append(out, s)
				return
			}
			bad = m
		default:
			bad = m
		}
	}
	switch c := v.(type) {
	case nil:
		return nil, nil
	case ast.Set:
		c.Foreach(each)
	case *ast.Array:
		c.Foreach(each)
	default:
		return nil, fmt.Errorf("returned %s; expected a set of messages", ast.ValueName(v))
	}
	if bad != nil {
		return nil, fmt.Errorf("returned the message %v; expected a string or an object with msg", bad)
	}
	return out, nil
}
