// Package report renders the result of a check in the formats people and
// tools read: one input (Report) and one Writer per format, picked by name
// with Get, as conftest's output package does.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
)

// Report is what every format renders.
type Report struct {
	// Result is the check.
	Result *gate.Result
	// Findings are the findings to show: nil for the result's, or a
	// selection of them (only the changed models', say).
	Findings []finding.Finding
	// FailOn is the least severe finding that fails the check, the verdict
	// every format shows; empty means error. NoFail passes every check.
	FailOn finding.Severity
	NoFail bool
	// Tool names the program in the formats that record it (SARIF, JUnit).
	Tool Tool
	// BlobURL, when set, is the prefix of links to files at the checked
	// commit, e.g. https://github.com/o/r/blob/<sha>/ (the job summary).
	BlobURL string
	// MaxBytes bounds the job summary; zero means MaxSummaryBytes.
	MaxBytes int
	// RuleChanges, when set, lists the policy rules the pull request
	// changes, which the check did not apply (the job summary).
	RuleChanges *gate.RuleChanges
}

// Tool is the program that made a report.
type Tool struct {
	Name           string
	Version        string
	InformationURI string
}

// Writer renders a report in one format.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

// writerFunc adapts a function to Writer.
type writerFunc func(io.Writer, *Report) error

func (f writerFunc) Write(w io.Writer, r *Report) error { return f(w, r) }

// formats are the writers by name, in the order Formats lists them.
func formats() []struct {
	name string
	w    Writer
} {
	return []struct {
		name string
		w    Writer
	}{
		{"text", writerFunc(writeText)},
		{"json", writerFunc(writeJSON)},
		{"markdown", writerFunc(writeSummary)},
		{"sarif", writerFunc(writeSARIF)},
		{"tap", writerFunc(writeTAP)},
		{"junit", writerFunc(writeJUnit)},
		{"table", writerFunc(writeTable)},
		{"github", writerFunc(writeGitHub)},
	}
}

// Formats lists the names Get knows.
func Formats() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.name)
	}
	return out
}

// Get returns the writer of a format: text, json, markdown (the job
// summary), sarif, tap, junit, table or github (workflow annotations).
func Get(format string) (Writer, error) {
	for _, f := range formats() {
		if f.name == format {
			return f.w, nil
		}
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats(), ", "))
}

// shown returns the findings to render.
func (r *Report) shown() []finding.Finding {
	if r.Findings != nil {
		return r.Findings
	}
	return r.Result.Findings
}

// fails reports whether a finding fails the check.
func (r *Report) fails(f finding.Finding) bool {
	if r.NoFail || f.Severity == finding.Exception {
		return false
	}
	threshold := r.FailOn
	if threshold == "" {
		threshold = finding.Error
	}
	return f.Severity.Rank() <= threshold.Rank()
}

// Passed reports whether no finding shown fails the check.
func (r *Report) Passed() bool {
	return !slices.ContainsFunc(r.shown(), r.fails)
}

// Summary counts what a check saw and found.
type Summary struct {
	Manifests  int `json:"manifests"`
	Models     int `json:"models"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Infos      int `json:"infos"`
	Exceptions int `json:"exceptions"`
}

// Summarize counts a report.
func (r *Report) Summarize() Summary {
	n := finding.Count(r.shown())
	return Summary{
		Manifests:  len(r.Result.Repo.Files),
		Models:     len(r.Result.Versions()),
		Errors:     n[finding.Error],
		Warnings:   n[finding.Warning],
		Infos:      n[finding.Info],
		Exceptions: n[finding.Exception],
	}
}

// Counts says in words how many findings of each severity are shown:
// "1 error, 2 warnings, 0 notes".
func (r *Report) Counts() string { return counts(finding.Count(r.shown()), ", ") }

// counts renders counts of findings in words: "1 error, 2 warnings, 0 notes"
// and, when there are any, exceptions.
func counts(n map[finding.Severity]int, sep string) string {
	parts := []string{
		plural(n[finding.Error], "error"),
		plural(n[finding.Warning], "warning"),
		plural(n[finding.Info], "note"),
	}
	if n[finding.Exception] > 0 {
		parts = append(parts, plural(n[finding.Exception], "exception"))
	}
	return strings.Join(parts, sep)
}

// plural writes a count with its noun: "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
