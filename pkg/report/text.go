package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/internal/plain"
	"github.com/modelgate/modelgate/pkg/gate"
)

// Text writes a report for a terminal: the findings grouped by file, each
// with its line, column, severity, message and rule, then the counts.
func Text(w io.Writer, r *gate.Result) error {
	bw := bufio.NewWriter(w)
	byFile := make(map[string][]int)
	var files []string
	for i, f := range r.Findings {
		if _, seen := byFile[f.File]; !seen {
			files = append(files, f.File)
		}
		byFile[f.File] = append(byFile[f.File], i)
	}
	for _, file := range files {
		heading := plain.Text(file)
		if file == "" {
			heading = "(repository)"
		}
		fmt.Fprintln(bw, heading)
		for _, i := range byFile[file] {
			f := r.Findings[i]
			fmt.Fprintf(bw, "  %8s %-8s %s  [%s]\n", where(f.Line, f.Column), f.Severity, plain.Text(f.Message), plain.Text(f.Rule))
		}
		fmt.Fprintln(bw)
	}
	status := ModelStatus(r.Findings)
	ids := r.Versions()
	fmt.Fprintf(bw, "%d model versions in %s\n", len(ids), plain.Text(r.Root))
	for _, id := range ids {
		m := r.Node(id).Manifest
		fmt.Fprintf(bw, "  %-7s %-40s %s\n", status(id), plain.Text(id), plain.Text(m.Spec.Lifecycle.Stage))
	}
	fmt.Fprintln(bw)
	s := Summarize(r)
	verdict := "passed"
	if s.Errors > 0 {
		verdict = "failed"
	}
	fmt.Fprintf(bw, "modelgate %s: %d manifests, %d errors, %d warnings, %d notes\n", verdict, s.Manifests, s.Errors, s.Warnings, s.Infos)
	return bw.Flush()
}

// where formats a position as line:column, or "-" when there is none.
func where(line, column int) string {
	if line == 0 {
		return "-"
	}
	return fmt.Sprintf("%d:%d", line, column)
}
