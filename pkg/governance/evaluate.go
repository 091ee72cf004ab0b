package governance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/modelgate/modelgate/internal/parallel"
	"github.com/modelgate/modelgate/internal/plain"
	"github.com/modelgate/modelgate/pkg/finding"
)

// timeoutsBeforeSkip is how many documents a rule may exceed the time limit
// on before the rest of the run skips it: a policy that loops would
// otherwise cost the time limit on every document. Every skipped document
// still gets a finding saying so.
const timeoutsBeforeSkip = 2

// Evaluate runs the selected rules on every document, concurrently across
// GOMAXPROCS. Findings come grouped by document, in document order (sort
// them with finding.Sort for a report). A policy that fails on a document
// gives that document an ErrorRule finding and leaves every other result
// in place; the error return is only for a cancelled ctx.
func (e *Engine) Evaluate(ctx context.Context, docs []Document) ([]finding.Finding, error) {
	return e.NewRun().Each(ctx, len(docs), func(i int) (Document, error) { return docs[i], nil })
}

// Run is one evaluation of the rules over the documents of a check, which
// may come from several goroutines at once: a rule that exceeds the time
// limit on too many documents of the run is skipped for its remaining ones.
// The plan in force changes when a rule is skipped.
type Run struct {
	engine   *Engine
	plan     atomic.Pointer[plan]
	mu       sync.Mutex
	timeouts map[*rule]int
	// traceMu keeps the traces Document writes from interleaving.
	traceMu sync.Mutex
}

// NewRun starts a run of the engine's rules.
func (e *Engine) NewRun() *Run {
	r := &Run{engine: e, timeouts: map[*rule]int{}}
	r.plan.Store(e.full)
	return r
}

// Traces reports whether the engine writes the trace of every evaluation
// (Options.Trace).
func (e *Engine) Traces() bool { return e.trace != nil }

// Each evaluates n documents that build makes when each is evaluated, so
// that the run holds the inputs of the documents in evaluation only, not
// of all of them at once; as Evaluate otherwise, traces written in
// document order. A document build fails to make gets an ErrorRule finding
// with the error, placed by the File and Model of the document returned
// beside it.
func (r *Run) Each(ctx context.Context, n int, build func(i int) (Document, error)) ([]finding.Finding, error) {
	perDoc := make([][]finding.Finding, n)
	traces := make([]trace, n)
	parallel.ForEach(n, func(i int) {
		if ctx.Err() != nil {
			return
		}
		d, err := build(i)
		if err != nil {
			perDoc[i] = []finding.Finding{errorFinding(&d, err.Error())}
			return
		}
		var text string
		perDoc[i], text = r.document(ctx, &d)
		traces[i] = trace{file: d.File, model: d.Model, text: text, done: true}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if err := r.engine.writeTraces(traces); err != nil {
		return nil, err
	}
	return slices.Concat(perDoc...), nil
}

// Document evaluates every rule on one document; safe to call from several
// goroutines. When the engine traces, the document's trace is written as
// it ends (Each writes them in document order). A cancelled ctx ends it
// early, with what it found so far.
func (r *Run) Document(ctx context.Context, doc *Document) []finding.Finding {
	fs, text := r.document(ctx, doc)
	if r.engine.trace != nil {
		r.traceMu.Lock()
		defer r.traceMu.Unlock()
		if err := r.engine.writeTraces([]trace{{file: doc.File, model: doc.Model, text: text, done: true}}); err != nil {
			fs = append(fs, errorFinding(doc, err.Error()))
		}
	}
	return fs
}

// trace is the trace of one document's evaluation; not done for a
// document that could not be built.
type trace struct {
	file, model, text string
	done              bool
}

// writeTraces writes each evaluated document's trace, in order.
func (e *Engine) writeTraces(traces []trace) error {
	if e.trace == nil {
		return nil
	}
	for _, t := range traces {
		if !t.done {
			continue
		}
		if _, err := fmt.Fprintf(e.trace, "trace of %s (%s):\n%s\n", plain.Text(t.file), plain.Text(t.model), t.text); err != nil {
			return fmt.Errorf("write trace: %w", err)
		}
	}
	return nil
}

// document evaluates every rule on one document, and returns its trace
// when the engine traces. When the single query of the plan fails, the
// rules are evaluated one by one so that the failure is pinned on its rule
// and the other rules still report.
func (r *Run) document(ctx context.Context, doc *Document) ([]finding.Finding, string) {
	p := r.plan.Load()
	out := p.skippedFindings(doc)
	in, err := r.engine.newEvalInput(doc)
	if err != nil {
		return append(out, errorFinding(doc, err.Error())), ""
	}
	o, err := r.engine.eval(ctx, p, in)
	switch {
	case err == nil:
		out = append(out, o.findings(doc, p)...)
	case ctx.Err() == nil:
		out = append(out, r.isolate(ctx, doc, p, in)...)
	}
	return out, in.traceText()
}

func (r *Run) isolate(ctx context.Context, doc *Document, p *plan, in evalInput) []finding.Finding {
	var out []finding.Finding
	for _, rl := range p.rules {
		single, err := r.engine.single(ctx, rl)
		if err != nil {
			out = append(out, errorFinding(doc, fmt.Sprintf("%s: %v", rl.id, err)))
			continue
		}
		o, err := r.engine.eval(ctx, single, in)
		if ctx.Err() != nil {
			return out
		}
		if err != nil {
			out = append(out, errorFinding(doc, fmt.Sprintf("%s: %v", rl.id, err)))
			if errors.As(err, new(errTimeout)) {
				r.timedOut(ctx, rl)
			}
			continue
		}
		out = append(out, o.findings(doc, single)...)
	}
	return out
}

// timedOut counts a rule's timeouts and, at the limit, switches the run to
// a plan without it.
func (r *Run) timedOut(ctx context.Context, rl *rule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timeouts[rl]++
	if r.timeouts[rl] != timeoutsBeforeSkip {
		return
	}
	cur := r.plan.Load()
	rules := slices.DeleteFunc(slices.Clone(cur.rules), func(x *rule) bool { return x == rl })
	next, err := r.engine.prepare(ctx, rules)
	if err != nil {
		return // keep evaluating it: slower, still correct
	}
	next.skipped = append(slices.Clone(cur.skipped), skipped{rl, timeoutsBeforeSkip})
	r.plan.Store(next)
}

// single returns the plan of one rule alone, prepared once per engine.
func (e *Engine) single(ctx context.Context, rl *rule) (*plan, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.singles[rl]; ok {
		return p, nil
	}
	p, err := e.prepare(ctx, []*rule{rl})
	if err != nil {
		return nil, err
	}
	if e.singles == nil {
		e.singles = map[*rule]*plan{}
	}
	e.singles[rl] = p
	return p, nil
}

// skipped is a rule a run stopped evaluating after repeated timeouts.
type skipped struct {
	rule     *rule
	timeouts int
}

func (p *plan) skippedFindings(doc *Document) []finding.Finding {
	var out []finding.Finding
	for _, s := range p.skipped {
		out = append(out, errorFinding(doc, fmt.Sprintf(
			"%s: not evaluated: it exceeded the time limit on %d other documents", s.rule.id, s.timeouts)))
	}
	return out
}

func (o *outcome) findings(doc *Document, p *plan) []finding.Finding {
	var out []finding.Finding
	for i, rl := range p.rules {
		out = append(out, rl.findings(doc, o.values[i], o.except[i])...)
	}
	return out
}
