package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/internal/plain"
	"github.com/modelgate/modelgate/pkg/finding"
)

// writeText writes a report for a terminal: the findings grouped by file,
// each with its line, column, severity, message and rule, then the model
// versions and the counts.
func writeText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fs := r.shown()
	byFile := make(map[string][]int)
	var files []string
	for i, f := range fs {
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
			f := fs[i]
			fmt.Fprintf(bw, "  %8s %-8s %s  [%s]\n", where(f.Line, f.Column), f.Severity, plain.Text(f.Message), plain.Text(f.Rule))
		}
		fmt.Fprintln(bw)
	}
	status := ModelStatus(fs)
	ids := r.Result.Versions()
	fmt.Fprintf(bw, "%s in %s\n", plural(len(ids), "model version"), plain.Text(r.Result.Root))
	for _, id := range ids {
		m := r.Result.Node(id).Manifest
		fmt.Fprintf(bw, "  %-7s %-40s %s\n", status(id), plain.Text(id), plain.Text(m.Spec.Lifecycle.Stage))
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "modelgate %s: %s, %s\n", verdict(r), plural(len(r.Result.Repo.Files), "manifest"), counts(finding.Count(fs), ", "))
	return bw.Flush()
}

// verdict is "passed" or "failed".
func verdict(r *Report) string {
	if r.Passed() {
		return "passed"
	}
	return "failed"
}

// where formats a position as line:column, or "-" when there is none.
func where(line, column int) string {
	if line == 0 {
		return "-"
	}
	return fmt.Sprintf("%d:%d", line, column)
}
