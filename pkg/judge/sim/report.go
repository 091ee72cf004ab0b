package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteMarkdown writes one table of rollback rates: a row per scenario, a
// column per size, each cell "ours / kayenta / mean-rule" in percent.
func (r Results) WriteMarkdown(w io.Writer, peeking bool) error {
	var b strings.Builder
	mode := fmt.Sprintf("judged once at the final size; %s is told 1 planned look", oursName)
	if peeking {
		mode = fmt.Sprintf("peeking: judged at each of %d intervals, a failure at any look rolls back; "+
			"%s is told %d planned looks and the index of each", r.Options.Looks, oursName, r.Options.Looks)
	}
	if slices.Contains(r.Judges, boundName) {
		mode += fmt.Sprintf("; %s is told the family and judges the whole window once, the same figure in both tables", boundName)
	}
	fmt.Fprintf(&b, "Rollback rate %% (%s; %d replicates per cell; cells: %s)\n\n",
		mode, r.Options.Reps, strings.Join(r.Judges, " / "))
	b.WriteString("| scenario | kind |")
	for _, n := range r.Options.Sizes {
		fmt.Fprintf(&b, " n=%d |", n)
	}
	b.WriteString("\n|---|---|")
	for range r.Options.Sizes {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, sc := range r.Scenarios {
		fmt.Fprintf(&b, "| %s | %s |", sc.Name, label(sc.Kind))
		for _, n := range r.Options.Sizes {
			var parts []string
			for _, j := range r.Judges {
				parts = append(parts, fmt.Sprintf("%.1f", 100*r.Cells[Key{sc.Name, n, j}].Rate(peeking)))
			}
			fmt.Fprintf(&b, " %s |", strings.Join(parts, " / "))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func label(k Kind) string {
	if k == Regression {
		return "detection"
	}
	return k.String() + " false rollback"
}

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// WriteBoundMarkdown writes, per regression scenario and size, detection
// peeking as "ours / kayenta / bound" in percent, the bound exact where
// it can be computed (marked * where simulated). Nothing when the bound
// did not run.
func (r Results) WriteBoundMarkdown(w io.Writer) error {
	cells := r.BoundCells()
	if len(cells) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Detection %% against the bound (peeking, %d replicates; cells: %s / %s / %s exact power, * simulated; "+
		"the class of each cell)\n\n| scenario |", r.Options.Reps, oursName, kayentaName, boundName)
	for _, n := range r.Options.Sizes {
		fmt.Fprintf(&b, " n=%d |", n)
	}
	b.WriteString("\n|---|")
	for range r.Options.Sizes {
		b.WriteString("---|")
	}
	for i, c := range cells {
		if i%len(r.Options.Sizes) == 0 {
			fmt.Fprintf(&b, "\n| %s |", c.Scenario)
		}
		star := ""
		if !c.Exact {
			star = "*"
		}
		fmt.Fprintf(&b, " %.1f / %.1f / %.1f%s %s |", 100*c.Ours, 100*c.Kayenta, 100*c.Bound, star, c.Attainable)
	}
	b.WriteString("\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}
