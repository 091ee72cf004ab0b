package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/modelgate/modelgate/internal/plain"
	"github.com/modelgate/modelgate/pkg/finding"
)

// writeTable writes the findings as a table for a terminal: severity,
// file, line, rule and message, one finding a row, then the counts.
func writeTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tFILE\tLINE\tRULE\tMESSAGE")
	for _, f := range r.shown() {
		file := f.File
		if file == "" {
			file = "(repository)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Severity, plain.Text(file), where(f.Line, f.Column), plain.Text(ruleID(f)), plain.Text(f.Message))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nmodelgate %s: %s, %s\n", verdict(r), plural(len(r.Result.Repo.Files), "manifest"), counts(finding.Count(r.shown()), ", "))
	return err
}
