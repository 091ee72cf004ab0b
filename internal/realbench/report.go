package realbench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteMarkdown writes the tables: per scenario, the share of windows
// rolled back by each plan and judge, with the windows counted and the
// stages paused.
func (r Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	o := r.Options
	by := "a real Prometheus"
	if o.Simulated {
		by = "the fake Prometheus in simulated time"
	}
	fmt.Fprintf(&b, "Rollback rate %% per stage (%v stages of %d looks, %v scrapes, %d pairs per scenario recorded for %v by %s, seed %d; "+
		"load average at the end %s)\n\n", o.Stage, o.Looks, o.Scrape, o.Pairs, o.Record, by, o.Seed, strings.TrimSpace(r.Load))
	b.WriteString("| scenario | windows (gaps left out) |")
	for _, j := range r.Judges {
		fmt.Fprintf(&b, " %s |", j)
	}
	b.WriteString("\n|---|---:|")
	for range r.Judges {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, sc := range r.Scenarios {
		first := r.Cells[Key{sc.Name, r.Judges[0]}]
		fmt.Fprintf(&b, "| %s | %d (%d) |", sc.Name, first.Windows, first.Gaps)
		for _, j := range r.Judges {
			c := r.Cells[Key{sc.Name, j}]
			cell := pct(c.Rate())
			if c.Paused > 0 {
				cell += fmt.Sprintf(" (%d paused)", c.Paused)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nToday's query, histogram_quantile over rate(...[1m]) in the same stages: %s\n\n", r.Refused)
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100*x)
}
