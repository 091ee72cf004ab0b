package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/modelgate/modelgate/pkg/finding"
)

// SARIFOptions describe the tool in a SARIF log.
type SARIFOptions struct {
	Version        string
	InformationURI string
}

// SARIF writes findings as a SARIF 2.1.0 log in the shape GitHub code
// scanning accepts: one run, a rule per rule id with its descriptions and
// help, and results with a level, a region and partial fingerprints that
// stay the same when unrelated lines move.
func SARIF(w io.Writer, fs []finding.Finding, opts SARIFOptions) error {
	run := sarif.NewRunWithInformationURI("modelgate", opts.InformationURI)
	run.Tool.Driver.WithVersion(opts.Version).WithSemanticVersion(strings.TrimPrefix(opts.Version, "v"))
	for _, f := range fs {
		rule := ruleID(f)
		if run.GetRuleIndex(rule) < 0 {
			addRule(run, f, rule)
		}
		res := run.CreateResultForRule(rule).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(sarifText(f.Message))).
			WithPartialFingerprints(map[string]string{"modelgate/v1": fingerprint(f)})
		if f.File != "" {
			region := sarif.NewRegion().WithStartLine(max(f.Line, 1))
			if f.Column > 0 {
				region.WithStartColumn(f.Column)
			}
			res.AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(f.File).WithURIBaseID("%SRCROOT%")).
				WithRegion(region)))
		}
	}
	log := sarif.NewReport()
	log.AddRun(run)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

// ruleID is a finding's rule; findings without one share "modelgate".
func ruleID(f finding.Finding) string {
	if f.Rule == "" {
		return "modelgate"
	}
	return f.Rule
}

func addRule(run *sarif.Run, f finding.Finding, id string) {
	title := f.Title
	if title == "" {
		title = id
	}
	full := f.Description
	if full == "" {
		full = title
	}
	help := full + "\n\nReported by modelgate rule " + id + "."
	run.AddRule(id).
		WithName(ruleName(id)).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(sarifText(title))).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(sarifText(full))).
		WithHelp(sarif.NewMultiformatMessageString().WithText(sarifText(help))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(f.Severity))).
		WithProperties(sarif.NewPropertyBag().Add("tags", []string{"modelgate", "governance"}))
}

// ruleName turns a rule id into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	default:
		return "note"
	}
}

// sarifText keeps SARIF messages plain and of bounded length: code
// scanning renders some Markdown in messages, and text from a pull request
// must stay text.
func sarifText(s string) string {
	const max = 4000
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}

// fingerprint identifies a finding by what it is about, not by its line:
// rule, file, field path and message.
func fingerprint(f finding.Finding) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Rule, f.File, f.Path, f.Model, f.Message}, "\x00")))
	return hex.EncodeToString(sum[:16])
}
