package report

import (
	"cmp"
	"io"
	"slices"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
)

// AnnotationsPerLevel is how many annotations of each level GitHub shows for
// one step; more are dropped silently, so they are counted instead.
const AnnotationsPerLevel = 10

// writeGitHub issues a workflow command per finding (::error, ::warning,
// ::notice) with its file, line and column, so GitHub shows it on the lines
// of the pull request: the action's annotations, and the CLI's in any
// workflow step. Findings are taken worst first, and within a level those
// that must never be missed first; past GitHub's limit per level, one
// notice says how many more there are. Exceptions are not annotated: the
// other reports list them. go-githubactions escapes the message and the
// properties, so text from the repository can neither end the command nor
// start another.
func writeGitHub(w io.Writer, r *Report) error {
	a := githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(func(string) string { return "" }))
	sorted := slices.DeleteFunc(slices.Clone(r.shown()), func(f finding.Finding) bool { return f.Severity == finding.Exception })
	finding.Sort(sorted)
	slices.SortStableFunc(sorted, func(x, y finding.Finding) int { return cmp.Compare(annotationOrder(x), annotationOrder(y)) })
	shown := make(map[finding.Severity]int)
	hidden := 0
	for _, f := range sorted {
		if shown[f.Severity] == AnnotationsPerLevel {
			hidden++
			continue
		}
		shown[f.Severity]++
		annotate(a, f)
	}
	if hidden > 0 {
		a.Noticef("modelgate: %s not annotated (GitHub shows %d per level); see the job summary, the SARIF and the JSON report", plural(hidden, "more finding"), AnnotationsPerLevel)
	}
	return nil
}

// annotationOrder ranks findings for annotation: by severity, and within
// a severity the pinned first. A reviewer must see that the pull request
// changes the rules that judge it (gate.RulePolicyChanged), whatever else it
// breaks.
func annotationOrder(f finding.Finding) int {
	if f.Rule == gate.RulePolicyChanged {
		return 2 * f.Severity.Rank()
	}
	return 2*f.Severity.Rank() + 1
}

func annotate(a *githubactions.Action, f finding.Finding) {
	fields := map[string]string{"title": annotationTitle(f)}
	if f.File != "" {
		fields["file"] = f.File
		if f.Line > 0 {
			fields["line"] = strconv.Itoa(f.Line)
		}
		if f.Column > 0 {
			fields["col"] = strconv.Itoa(f.Column)
		}
	}
	msg := sarifString(f.Message)
	switch f.Severity {
	case finding.Error:
		a.WithFieldsMap(fields).Errorf("%s", msg)
	case finding.Warning:
		a.WithFieldsMap(fields).Warningf("%s", msg)
	default:
		a.WithFieldsMap(fields).Noticef("%s", msg)
	}
}

func annotationTitle(f finding.Finding) string {
	title := "modelgate: " + ruleID(f)
	if f.Title != "" {
		title += " (" + f.Title + ")"
	}
	return title
}
