package sim

import (
	"fmt"
	"io"
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
