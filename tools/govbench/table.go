package main

import (
	"cmp"
	"fmt"
	"io"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// table is what a run of govbench measured, rendered as Markdown: a line
// saying how it was measured, a row per size, and a line on how the times
// grew from the first size to the last.
type table struct {
	Runs       int
	Sizes      string // the -sizes flag as given
	Cores      int
	GOMAXPROCS string // the environment's, empty when unset
	GoVersion  string
	Conftest   string // module and version; empty without conftest
	Rows       []row
}

// row is one repository size.
type row struct {
	Manifests               int
	Validator, Bundle, Same measurement
	Conftest                *measurement // nil without conftest
	Ratio                   float64      // conftest / modelgate, the median of the pairs
	LoadBefore, LoadAfter   string
}

func (t table) head(w io.Writer) {
	procs := ""
	if t.GOMAXPROCS != "" {
		procs = " (GOMAXPROCS=" + t.GOMAXPROCS + ")"
	}
	conftest := "conftest not found"
	if t.Conftest != "" {
		conftest = t.Conftest
	}
	fmt.Fprintf(w, "`go run ./tools/govbench -runs %d -sizes %s` on %d cores%s, %s, %s. ", t.Runs, t.Sizes, t.Cores, procs, t.GoVersion, conftest)
	fmt.Fprintf(w, "Each cell: the median wall time of %d runs, the median CPU time (user and system) and the largest peak memory of the process. ", t.Runs)
	fmt.Fprintln(w, "The same-policy pair runs A B A B, and its ratio is the median of the pairs' wall-time ratios. Load: the one-minute load average before and after the row.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| manifests | validator only | default bundle | same policy: modelgate | same policy: %s | conftest / modelgate | load |\n", cmp.Or(t.Conftest, "conftest"))
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---|")
}

func (r row) write(w io.Writer) {
	conftest, ratio := "—", "—"
	if r.Conftest != nil {
		conftest, ratio = cell(*r.Conftest), fmt.Sprintf("%.1fx", r.Ratio)
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s → %s |\n", thousands(r.Manifests), cell(r.Validator), cell(r.Bundle), cell(r.Same), conftest, ratio, r.LoadBefore, r.LoadAfter)
}

// foot says how the default bundle's and the same policy's times grew
// from the first size to the last, beside how the manifests did: a check
// whose time is linear grows as much as they do.
func (t table) foot(w io.Writer) {
	if len(t.Rows) < 2 {
		return
	}
	first, last := t.Rows[0], t.Rows[len(t.Rows)-1]
	growth := func(m func(row) measurement) string {
		a, b := m(first), m(last)
		return fmt.Sprintf("wall time grew %.1fx and its CPU time %.1fx", ratio(median(b.walls), median(a.walls)), ratio(median(b.cpus), median(a.cpus)))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "From %s to %s manifests (%.0fx): the default bundle's %s; the same policy's in modelgate: %s.\n",
		thousands(first.Manifests), thousands(last.Manifests), float64(last.Manifests)/float64(first.Manifests),
		growth(func(r row) measurement { return r.Bundle }), growth(func(r row) measurement { return r.Same }))
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// cell is a measurement as the table shows it.
func cell(m measurement) string {
	return fmt.Sprintf("%s, %s CPU, %d MiB", seconds(median(m.walls)), seconds(median(m.cpus)), m.maxRSS/1024)
}

// seconds writes a duration with three significant digits.
func seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 1:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 100:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.0f s", s)
	}
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	return message.NewPrinter(language.English).Sprintf("%d", n)
}
