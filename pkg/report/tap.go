package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/modelgate/modelgate/internal/plain"
	"github.com/modelgate/modelgate/pkg/finding"
)

// writeTAP writes TAP version 13: one test point per file checked, "not ok"
// when a finding of the file fails the check, with the file's findings as
// a YAML diagnostic block, and the counts as a closing comment.
func writeTAP(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	groups := r.byFile()
	fmt.Fprintf(bw, "TAP version 13\n1..%d\n", len(groups))
	for i, g := range groups {
		status := "ok"
		for _, f := range g.findings {
			if r.fails(f) {
				status = "not ok"
			}
		}
		fmt.Fprintf(bw, "%s %d - %s\n", status, i+1, tapDescription(g.name()))
		if len(g.findings) > 0 {
			if err := writeTAPDiagnostics(bw, g.findings); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(bw, "# modelgate %s: %s\n", verdict(r), counts(finding.Count(r.shown()), ", "))
	return bw.Flush()
}

// tapDescription keeps a test point's description on its line and free of
// the characters TAP reads: a # would start a directive.
func tapDescription(s string) string {
	return strings.ReplaceAll(plain.Text(s), "#", `\#`)
}

// tapFinding is one finding in a TAP diagnostic block.
type tapFinding struct {
	Severity string `yaml:"severity"`
	Rule     string `yaml:"rule"`
	Line     int    `yaml:"line,omitempty"`
	Column   int    `yaml:"column,omitempty"`
	Path     string `yaml:"path,omitempty"`
	Model    string `yaml:"model,omitempty"`
	Message  string `yaml:"message"`
}

// writeTAPDiagnostics writes TAP 13's YAML block, indented under its test
// point between --- and ...; the YAML encoder quotes what needs quoting,
// so a message cannot end the block.
func writeTAPDiagnostics(w io.Writer, fs []finding.Finding) error {
	list := make([]tapFinding, len(fs))
	for i, f := range fs {
		list[i] = tapFinding{string(f.Severity), f.Rule, f.Line, f.Column, f.Path, f.Model, f.Message}
	}
	var data strings.Builder
	enc := yaml.NewEncoder(&data)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{"findings": list}); err != nil {
		return fmt.Errorf("write TAP: %w", err)
	}
	fmt.Fprintln(w, "  ---")
	for _, line := range strings.SplitAfter(strings.TrimRight(data.String(), "\n"), "\n") {
		fmt.Fprint(w, "  "+line)
	}
	fmt.Fprintln(w, "\n  ...")
	return nil
}
