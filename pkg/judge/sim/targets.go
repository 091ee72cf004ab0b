package sim

import (
	"fmt"
	"math"
	"strings"
)

// Check is one target of the issue, measured.
type Check struct {
	What string
	OK   bool
}

// String renders the check as a line of the report.
func (c Check) String() string {
	mark := "ok  "
	if !c.OK {
		mark = "MISS"
	}
	return mark + " " + c.What
}

// The judges the targets compare, by name.
const (
	oursName     = "modelgate"
	fallbackName = "modelgate-msprt"
	kayentaName  = "kayenta-mw"
)

// Targets checks the targets on the results, for our judge (told
// the planned looks) against the Kayenta-style judge:
//   - false rollbacks on A/A and improvements at most 1 % in every cell,
//     judged once and peeking, for our judge and, when it ran, for its
//     fallback that does not know the planned looks;
//   - detection of +10 % latency and 0.5 % -> 1 % error rate at 100 samples
//     per side at least 95 % (peeking);
//   - detection at least the Kayenta-style judge's in every regression cell,
//     with fewer false rollbacks in total.
func (r Results) Targets() []Check {
	var checks []Check
	var oursFalse, kayFalse int
	for _, sc := range r.Scenarios {
		for _, n := range r.Options.Sizes {
			o, k := r.Cells[Key{sc.Name, n, oursName}], r.Cells[Key{sc.Name, n, kayentaName}]
			if sc.Kind == Regression {
				checks = append(checks, Check{
					What: fmt.Sprintf("detection >= kayenta: %s n=%d: %.1f %% vs %.1f %%", sc.Name, n, 100*o.Rate(true), 100*k.Rate(true)),
					OK:   o.Peeking >= k.Peeking,
				})
				continue
			}
			oursFalse += o.Peeking
			kayFalse += k.Peeking
			for _, name := range []string{oursName, fallbackName} {
				c, ok := r.Cells[Key{sc.Name, n, name}]
				if !ok {
					continue
				}
				for _, peeking := range []bool{false, true} {
					checks = append(checks, Check{
						What: fmt.Sprintf("false rollbacks <= 1 %%: %s %s n=%d %s: %.1f %%", name, sc.Name, n, mode(peeking), 100*c.Rate(peeking)),
						OK:   c.Rate(peeking) <= 0.01,
					})
				}
			}
		}
	}
	checks = append(checks, Check{
		What: fmt.Sprintf("fewer false rollbacks than kayenta (peeking, all A/A and improvement cells): %d vs %d", oursFalse, kayFalse),
		OK:   oursFalse < kayFalse,
	})
	for _, sc := range r.Scenarios {
		if sc.Name != "latency +10 %" && sc.Name != "error rate 0.5 % -> 1 %" {
			continue
		}
		c, ok := r.Cells[Key{sc.Name, 100, oursName}]
		if !ok {
			continue
		}
		checks = append(checks, Check{
			What: fmt.Sprintf("detection >= 95 %%: %s n=100: %.1f %%", sc.Name, 100*c.Rate(true)),
			OK:   c.Rate(true) >= 0.95,
		})
	}
	return checks
}

func mode(peeking bool) string {
	return strings.TrimSpace(map[bool]string{true: "peeking", false: "once"}[peeking])
}

// Attainability sorts a regression cell by what the bound says about the
// target "detection at least the Kayenta-style judge's".
type Attainability string

// The classes of a regression cell, peeking.
const (
	// Met: ours detects at least as often as the Kayenta-style judge.
	Met Attainability = "met"
	// Unattainable: the Kayenta-style judge detects more than the bound, by
	// more than two standard errors; no unbiased judge within 1 % false
	// rollbacks over the whole null family can match it.
	Unattainable Attainability = "unattainable"
	// Attainable: ours is below the Kayenta-style judge, which is at or
	// below the bound: attainable in principle, a gap we leave.
	Attainable Attainability = "attainable"
	// Undecided: the Kayenta-style judge is above the bound by less than
	// two standard errors.
	Undecided Attainability = "undecided"
)

// BoundCell compares, in one regression cell (peeking), ours and the
// Kayenta-style judge with the bound.
type BoundCell struct {
	Scenario string
	N        int
	// Ours and Kayenta are the detection rates peeking; Bound is the
	// bound's exact power when Exact, else its simulated rate.
	Ours, Kayenta, Bound float64
	Exact                bool
	// SE is the standard error of Kayenta − Bound.
	SE float64
	// KayentaAA is the Kayenta-style judge's false-rollback rate (peeking)
	// in the scenario's matching A/A scenario at the same size, if run.
	KayentaAA  float64
	HasAA      bool
	Attainable Attainability
}

// BoundCells classifies every regression cell; nil when the bound did not run.
func (r Results) BoundCells() []BoundCell {
	var out []BoundCell
	for _, sc := range r.Scenarios {
		if sc.Kind != Regression {
			continue
		}
		for _, n := range r.Options.Sizes {
			b, ok := r.Cells[Key{sc.Name, n, boundName}]
			if !ok {
				return nil
			}
			o, k := r.Cells[Key{sc.Name, n, oursName}], r.Cells[Key{sc.Name, n, kayentaName}]
			out = append(out, classify(sc, n, o, k, b, r.Cells[Key{sc.Null, n, kayentaName}]))
		}
	}
	return out
}

func classify(sc Scenario, n int, o, k, b, aa Cell) BoundCell {
	bc := BoundCell{Scenario: sc.Name, N: n, Ours: o.Rate(true), Kayenta: k.Rate(true),
		Bound: b.Rate(true), Exact: b.HasExact, KayentaAA: aa.Rate(true), HasAA: aa.Reps > 0}
	reps := float64(max(k.Reps, 1))
	if bc.Exact {
		// The exact power has no Monte Carlo error; Kayenta's rate is
		// binomial, its variance taken at its estimate or at the bound,
		// whichever is larger.
		bc.Bound = b.Exact
		bc.SE = math.Sqrt(math.Max(binomialVar(bc.Kayenta, reps), bc.Bound*(1-bc.Bound)) / reps)
	} else {
		// Independent errors: conservative, the two are positively correlated.
		bc.SE = math.Sqrt((binomialVar(bc.Kayenta, reps) + binomialVar(bc.Bound, reps)) / reps)
	}
	switch {
	case o.Peeking >= k.Peeking:
		bc.Attainable = Met
	case bc.Kayenta-bc.Bound > 2*bc.SE:
		bc.Attainable = Unattainable
	case bc.Kayenta <= bc.Bound:
		bc.Attainable = Attainable
	default:
		bc.Attainable = Undecided
	}
	return bc
}

// binomialVar is p(1-p) for a rate measured over reps replicates, with p
// kept at least one replicate from 0 and 1: 2000 of 2000 is not a rate of
// exactly 1.
func binomialVar(p, reps float64) float64 {
	p = min(max(p, 1/reps), 1-1/reps)
	return p * (1 - p)
}

// String renders the cell as a line of the report.
func (c BoundCell) String() string {
	aa := "not run"
	if c.HasAA {
		aa = fmt.Sprintf("%.1f %%", 100*c.KayentaAA)
	}
	exact := "exact"
	if !c.Exact {
		exact = "simulated"
	}
	switch c.Attainable {
	case Unattainable:
		return fmt.Sprintf("unattainable: %s n=%d: bound %.1f %% < kayenta %.1f %% (%.1f standard errors above; ours %.1f %%; "+
			"kayenta's A/A false rollbacks in the matching A/A scenario: %s)",
			c.Scenario, c.N, 100*c.Bound, 100*c.Kayenta, (c.Kayenta-c.Bound)/c.SE, 100*c.Ours, aa)
	case Attainable:
		return fmt.Sprintf("attainable in principle: %s n=%d: ours %.1f %% < kayenta %.1f %% <= bound %.1f %% (%s); "+
			"ours trails the bound by %.1f points", c.Scenario, c.N, 100*c.Ours, 100*c.Kayenta, 100*c.Bound, exact,
			100*(c.Bound-c.Ours))
	case Undecided:
		return fmt.Sprintf("undecided: %s n=%d: ours %.2f %% < kayenta %.2f %%, bound %.2f %% (%s), within 2 SE (%.2f points)",
			c.Scenario, c.N, 100*c.Ours, 100*c.Kayenta, 100*c.Bound, exact, 200*c.SE)
	}
	return fmt.Sprintf("met: %s n=%d: ours %.1f %% >= kayenta %.1f %% (bound %.1f %%, %s)",
		c.Scenario, c.N, 100*c.Ours, 100*c.Kayenta, 100*c.Bound, exact)
}

// BoundSummary lists the regression cells where ours is below the
// Kayenta-style judge, each with what the bound says, and ends with a line
// counting the cells of each class. Empty when the bound did not run.
func (r Results) BoundSummary() []string {
	cells := r.BoundCells()
	if len(cells) == 0 {
		return nil
	}
	var lines []string
	count := map[Attainability]int{}
	for _, c := range cells {
		count[c.Attainable]++
		if c.Attainable != Met {
			lines = append(lines, c.String())
		}
	}
	return append(lines, fmt.Sprintf("regression cells (peeking) against the bound: %d in all; "+
		"met (ours >= kayenta) %d; unattainable (ours < kayenta, bound < kayenta by > 2 SE) %d; "+
		"attainable in principle (ours < kayenta <= bound) %d; kayenta above the bound within 2 SE %d",
		len(cells), count[Met], count[Unattainable], count[Attainable], count[Undecided]))
}
