package soak

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Table prints the results side by side: rollouts, faults injected by
// kind, restarts, take-over times, invariant violations; then each
// violation.
func Table(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, cell func(Result) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t", cell(r))
		}
		fmt.Fprintln(tw)
	}
	row("", func(r Result) string { return r.Name })
	row("rollouts", func(r Result) string { return fmt.Sprint(r.Rollouts) })
	row("  promoted", func(r Result) string { return fmt.Sprint(r.Promoted) })
	row("  rolled back", func(r Result) string { return fmt.Sprint(r.RolledBack) })
	for _, kind := range faultKinds(results) {
		row("fault: "+kind, func(r Result) string { return fmt.Sprint(r.Faults[kind]) })
	}
	row("restarts", func(r Result) string { return fmt.Sprint(r.Restarts) })
	row("take-overs timed", func(r Result) string { return fmt.Sprint(len(r.TakeOvers)) })
	row("take-over p50", func(r Result) string { return quantile(r.TakeOvers, 0.5) })
	row("take-over max", func(r Result) string { return quantile(r.TakeOvers, 1) })
	row("took", func(r Result) string { return r.Took.Round(time.Second).String() })
	row("invariant violations", func(r Result) string { return fmt.Sprint(len(r.Violations)) })
	tw.Flush()
	for _, r := range results {
		for _, v := range r.Violations {
			fmt.Fprintf(w, "%s: %s\n", r.Name, strings.ReplaceAll(v, "\n", "\n    "))
		}
	}
}

func faultKinds(results []Result) []string {
	var kinds []string
	for _, r := range results {
		for k := range r.Faults {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// quantile is the q-quantile of ds (the nearest rank), or "-".
func quantile(ds []time.Duration, q float64) string {
	if len(ds) == 0 {
		return "-"
	}
	s := sorted(ds)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i].Round(100 * time.Millisecond).String()
}
