package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/modelgate/modelgate/pkg/judge"
)

// Options sizes a benchmark run.
type Options struct {
	// Sizes are the final numbers of samples per side.
	Sizes []int
	// Reps is the number of seeded replicates per scenario and size.
	Reps int
	// Looks is the number of analysis intervals a window is judged at when
	// peeking; the last look is at the final size. A PlannedJudge is told
	// this number as the planned looks, and 1 when judging once.
	Looks int
	// MinLook is the fewest samples per side of the first look.
	MinLook int
	Seed    uint64
	Workers int
}

// DefaultOptions is the full benchmark: 10, 30, 100 and 300 samples per
// side, 1000 replicates, 10 looks.
func DefaultOptions() Options {
	return Options{Sizes: []int{10, 30, 100, 300}, Reps: 1000, Looks: 10, MinLook: 5, Seed: 1, Workers: 2}
}

// Cell counts the rollbacks of one judge on one scenario and size.
type Cell struct {
	Reps int
	// Final counts failures judged once, at the final size.
	Final int
	// Peeking counts failures at any look of the growing window.
	Peeking int
	// Phi sums a Reference's test function over the replicates: its
	// expected number of rollbacks, the same peeking or not (it judges the
	// whole window once). Reference marks such a cell.
	Phi       float64
	Reference bool
	// Exact is a Reference's exact rate when it can compute one (HasExact).
	Exact    float64
	HasExact bool
}

// Rate returns the fraction of replicates rolled back, peeking or not.
func (c Cell) Rate(peeking bool) float64 {
	if c.Reps == 0 {
		return 0
	}
	if c.Reference {
		return c.Phi / float64(c.Reps)
	}
	if peeking {
		return float64(c.Peeking) / float64(c.Reps)
	}
	return float64(c.Final) / float64(c.Reps)
}

// Key names a cell.
type Key struct {
	Scenario string
	N        int
	Judge    string
}

// Results are the counts of a run.
type Results struct {
	Options   Options
	Scenarios []Scenario
	Judges    []string
	Cells     map[Key]Cell
}

// Reference is a judge that is told the scenario, generating family
// included, and judges the whole window once: Phi is the probability that
// it rolls back (a randomized test), in [0, 1].
type Reference interface {
	Name() string
	Phi(sc Scenario, base, can []float64) float64
}

// ExactReference is a Reference that also computes its rollback rate at n
// samples per side exactly, false when it cannot for this scenario.
type ExactReference interface {
	Reference
	Power(sc Scenario, n int) (float64, bool)
}

// Run simulates every scenario at every size and judges each replicate with
// every judge and every reference; adding judges or references changes no
// other judge's figures (the samples depend only on the seed, scenario,
// size and replicate).
func Run(ctx context.Context, opts Options, scenarios []Scenario, judges []Judge, refs ...Reference) (Results, error) {
	res := Results{Options: opts, Scenarios: scenarios, Cells: map[Key]Cell{}}
	for _, j := range judges {
		res.Judges = append(res.Judges, j.Name())
	}
	for _, r := range refs {
		res.Judges = append(res.Judges, r.Name())
	}
	type job struct{ si, n int }
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(opts.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				cells := runCell(opts, jb.si, scenarios[jb.si], jb.n, judges, refs)
				mu.Lock()
				for name, c := range cells {
					res.Cells[Key{scenarios[jb.si].Name, jb.n, name}] = c
				}
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for si := range scenarios {
		for _, n := range opts.Sizes {
			select {
			case jobs <- job{si, n}:
			case <-ctx.Done():
				err = fmt.Errorf("benchmark: %w", ctx.Err())
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	return res, err
}

func runCell(opts Options, si int, sc Scenario, n int, judges []Judge, refs []Reference) map[string]Cell {
	cells := make(map[string]Cell, len(judges)+len(refs))
	looks := PlannedLooks(n, opts.Looks, opts.MinLook)
	base, can := make([]float64, n), make([]float64, n)
	for rep := range opts.Reps {
		r := rand.New(rand.NewPCG(opts.Seed, uint64(si)<<40|uint64(n)<<20|uint64(rep)))
		if sc.DrawSeries != nil {
			copy(base, sc.DrawSeries(r, n, false))
			copy(can, sc.DrawSeries(r, n, true))
		} else {
			for i := range n {
				base[i], can[i] = sc.Draw(r, false), sc.Draw(r, true)
			}
		}
		for _, j := range judges {
			c := cells[j.Name()]
			c.Reps++
			final, peek := judgeWindow(j, sc, base, can, looks)
			if final {
				c.Final++
			}
			if peek {
				c.Peeking++
			}
			cells[j.Name()] = c
		}
		for _, rj := range refs {
			c := cells[rj.Name()]
			c.Reps++
			c.Reference = true
			c.Phi += rj.Phi(sc, base, can)
			cells[rj.Name()] = c
		}
	}
	for _, rj := range refs {
		if er, ok := rj.(ExactReference); ok {
			c := cells[rj.Name()]
			c.Exact, c.HasExact = er.Power(sc, n)
			cells[rj.Name()] = c
		}
	}
	return cells
}

// judgeWindow judges the growing window at every look and reports whether
// a one-shot judgement of the whole window fails and whether any look
// fails. A PlannedJudge is told each look's index among the planned ones,
// and that a one-shot judgement is the only look of its plan.
func judgeWindow(j Judge, sc Scenario, base, can []float64, looks []WindowLook) (final, any bool) {
	decide := func(l judge.Look, n int) bool {
		ms := []judge.Metric{{Name: sc.Metric, Direction: sc.Direction, Tolerance: sc.Tolerance,
			Critical: true, Baseline: base[:n], Canary: can[:n]}}
		if pj, ok := j.(PlannedJudge); ok {
			return pj.DecideAt(l, ms) == judge.DecisionFail
		}
		return j.Decide(ms) == judge.DecisionFail
	}
	for _, l := range looks {
		failed := decide(l.Look, l.N)
		any = any || failed
		final = failed
	}
	if _, ok := j.(PlannedJudge); ok {
		final = decide(judge.Look{Planned: 1, Index: 1}, len(base))
	}
	return final, any
}

// WindowLook is one look at a growing window: its samples per side and
// its place in the plan.
type WindowLook struct {
	N    int
	Look judge.Look
}

// PlannedLooks is LookSizes with each look's index among the planned ones:
// looks skipped for too few samples keep their place in the plan.
func PlannedLooks(n, looks, minLook int) []WindowLook {
	var out []WindowLook
	for _, l := range LookSizes(n, looks, minLook) {
		k := looks // the first planned look that reaches l samples
		for i := 1; i <= looks; i++ {
			if (i*n+looks-1)/looks >= l {
				k = i
				break
			}
		}
		out = append(out, WindowLook{N: l, Look: judge.Look{Planned: looks, Index: k}})
	}
	return out
}

// LookSizes spreads looks evenly over a window of n samples per side,
// skipping those with fewer than minLook samples; the last is n.
func LookSizes(n, looks, minLook int) []int {
	var sizes []int
	for k := 1; k <= looks; k++ {
		l := (k*n + looks - 1) / looks
		if l < minLook || (len(sizes) > 0 && sizes[len(sizes)-1] == l) {
			continue
		}
		sizes = append(sizes, l)
	}
	if len(sizes) == 0 || sizes[len(sizes)-1] != n {
		sizes = append(sizes, n)
	}
	return sizes
}
