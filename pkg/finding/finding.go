// Package finding defines the one result type that every check in modelgate
// produces: schema validation, lineage checks and governance policies alike.
package finding

import (
	"cmp"
	"slices"
)

// Severity says how much a finding matters. The action fails on Error by
// default; Warning and Info are reported only. Exception is a result that a
// policy's exception rule silenced: reported so that nothing is silenced
// without a trace (conftest's EXCP), never counted against the check.
type Severity string

// The severities, most severe first.
const (
	Error     Severity = "error"
	Warning   Severity = "warning"
	Info      Severity = "info"
	Exception Severity = "exception"
)

// Rank orders severities: a lower rank is more severe. Unknown severities
// rank last.
func (s Severity) Rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	case Info:
		return 2
	case Exception:
		return 3
	default:
		return 4
	}
}

// ParseSeverity maps the spellings policy authors use ("deny", "violation",
// "warn", "high", …) to a Severity. ok is false when the word is unknown.
func ParseSeverity(word string) (s Severity, ok bool) {
	switch word {
	case "error", "deny", "violation", "critical", "high", "failure":
		return Error, true
	case "warning", "warn", "medium", "moderate":
		return Warning, true
	case "info", "note", "low", "notice":
		return Info, true
	}
	return "", false
}

// Finding is one problem found in one file.
type Finding struct {
	// Rule identifies the check: "schema", "lineage/cycle", or for a policy
	// the package and rule, e.g. "modelgate.lifecycle.deny".
	Rule string `json:"rule"`
	// Title and Description come from the rule's METADATA annotation.
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Severity    Severity `json:"severity"`
	Message     string   `json:"message"`
	// File is relative to the repository root, with forward slashes.
	File string `json:"file"`
	// Line and Column are 1-based; 0 when unknown.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Path is the dotted field path the finding is about, e.g.
	// "spec.metrics.f1", or empty for the whole file.
	Path string `json:"path,omitempty"`
	// Model is "name@version" of the manifest concerned, when known.
	Model string `json:"model,omitempty"`
}

// Sort orders findings by severity, then file, line, column, rule and
// message, so that reports are stable from run to run.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Severity.Rank(), b.Severity.Rank()),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Reaches reports whether any finding is at least as severe as threshold.
// Exceptions reach none.
func Reaches(fs []Finding, threshold Severity) bool {
	for _, f := range fs {
		if f.Severity != Exception && f.Severity.Rank() <= threshold.Rank() {
			return true
		}
	}
	return false
}

// Count returns how many findings have each severity.
func Count(fs []Finding) map[Severity]int {
	n := make(map[Severity]int, 3)
	for _, f := range fs {
		n[f.Severity]++
	}
	return n
}
