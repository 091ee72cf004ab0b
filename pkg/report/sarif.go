package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modelgate/modelgate/pkg/finding"
)

// The SARIF 2.1.0 log modelgate writes: only what carries meaning, in the
// shape GitHub code scanning reads. (A general SARIF library writes every
// property with its default, -1 indexes and empty arrays included: twenty
// kilobytes for ten results.)
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name            string      `json:"name"`
		Version         string      `json:"version,omitempty"`
		SemanticVersion string      `json:"semanticVersion,omitempty"`
		InformationURI  string      `json:"informationUri,omitempty"`
		Rules           []sarifRule `json:"rules,omitempty"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		Name                 string         `json:"name"`
		ShortDescription     sarifText      `json:"shortDescription"`
		FullDescription      sarifText      `json:"fullDescription"`
		Help                 sarifText      `json:"help"`
		DefaultConfiguration sarifLevel     `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties,omitempty"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifLevel struct {
		Level string `json:"level"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations,omitempty"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification"`
	}
)

// writeSARIF writes the findings as a SARIF 2.1.0 log: one run, a rule per
// rule id with its descriptions and help, and results with a level, a
// region and partial fingerprints that stay the same when unrelated lines
// move. A result an exception silenced is written suppressed.
func writeSARIF(w io.Writer, r *Report) error {
	driver := sarifDriver{Name: "modelgate", Version: r.Tool.Version, InformationURI: r.Tool.InformationURI}
	if v := strings.TrimPrefix(r.Tool.Version, "v"); semver.IsValid("v" + v) {
		driver.SemanticVersion = v
	}
	run := sarifRun{Results: []sarifResult{}}
	index := map[string]int{}
	for _, f := range r.shown() {
		id := ruleID(f)
		i, ok := index[id]
		if !ok {
			i = len(driver.Rules)
			index[id] = i
			driver.Rules = append(driver.Rules, newSARIFRule(f, id))
		}
		run.Results = append(run.Results, sarifResultOf(f, id, i))
	}
	run.Tool = sarifTool{Driver: driver}
	log := sarifLog{
		Schema:  "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

func sarifResultOf(f finding.Finding, id string, index int) sarifResult {
	res := sarifResult{
		RuleID: id, RuleIndex: index, Level: sarifLevelOf(f.Severity),
		Message:             sarifText{sarifString(f.Message)},
		PartialFingerprints: map[string]string{"modelgate/v1": fingerprint(f)},
	}
	if f.File != "" {
		res.Locations = []sarifLocation{{PhysicalLocation: sarifPhysical{
			ArtifactLocation: sarifArtifact{URI: f.File, URIBaseID: "%SRCROOT%"},
			Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: f.Column},
		}}}
	}
	if f.Severity == finding.Exception {
		res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: "silenced by an exception rule of the policy"}}
	}
	return res
}

// ruleID is a finding's rule; findings without one share "modelgate".
func ruleID(f finding.Finding) string {
	if f.Rule == "" {
		return "modelgate"
	}
	return f.Rule
}

func newSARIFRule(f finding.Finding, id string) sarifRule {
	title := f.Title
	if title == "" {
		title = id
	}
	full := f.Description
	if full == "" {
		full = title
	}
	return sarifRule{
		ID:                   id,
		Name:                 ruleName(id),
		ShortDescription:     sarifText{sarifString(title)},
		FullDescription:      sarifText{sarifString(full)},
		Help:                 sarifText{sarifString(full + "\n\nReported by modelgate rule " + id + ".")},
		DefaultConfiguration: sarifLevel{sarifLevelOf(f.Severity)},
		Properties:           map[string]any{"tags": []string{"modelgate", "governance"}},
	}
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

func sarifLevelOf(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	default:
		return "note"
	}
}

// sarifString keeps SARIF messages plain and of bounded length: code
// scanning renders some Markdown in messages, and text from a pull request
// must stay text.
func sarifString(s string) string {
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
