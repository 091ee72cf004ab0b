package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"

	"github.com/modelgate/modelgate/internal/gittest"
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/governance"
)

func check(t *testing.T, root string, opts ...func(*gate.Options)) *gate.Result {
	t.Helper()
	o := gate.Options{Root: root}
	for _, f := range opts {
		f(&o)
	}
	res, err := gate.Run(context.Background(), o)
	require.NoError(t, err)
	res.Now = res.Now.AddDate(0, 0, 0)
	return res
}

// compiledSchema compiles a JSON schema file for validating our output.
func compiledSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(path)
	require.NoError(t, err)
	return sch
}

func validateJSON(t *testing.T, sch *jsonschema.Schema, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(v))
}

// hostile is text a pull request controls, carrying every kind of injection
// the reports must neutralise.
const hostile = "::error::pwned\n%0Aname=value\n</details><img src=x onerror=alert(1)> @org/team [x](javascript:alert(1)) click m0 call x()"

func hostileFindings(n int) []finding.Finding {
	var fs []finding.Finding
	for i := range n {
		sev := []finding.Severity{finding.Error, finding.Warning, finding.Info}[i%3]
		fs = append(fs, finding.Finding{
			Rule: "policy.rule" + fmt.Sprint(i%7), Title: "Title " + hostile, Severity: sev,
			Message: fmt.Sprintf("finding %d: %s", i, hostile), File: "models/a/model.yaml", Line: i%50 + 1, Column: 3,
			Path: "spec.metrics.f1", Model: "a@1.0.0",
		})
	}
	return fs
}

func TestSARIFMatchesTheSchema(t *testing.T) {
	sch := compiledSchema(t, "../../testdata/sarif/sarif-2.1.0-rtm.5.json")
	for name, fs := range map[string][]finding.Finding{
		"broken":  check(t, "../../testdata/broken").Findings,
		"hostile": hostileFindings(30),
		"empty":   nil,
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			rep := &Report{Result: check(t, "../../testdata/example"), Findings: nonNil(fs), Tool: Tool{Version: "1.2.3", InformationURI: "https://github.com/modelgate/modelgate"}}
			require.NoError(t, writeSARIF(&b, rep))
			validateJSON(t, sch, b.Bytes())
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Tool struct {
						Driver struct {
							Rules []struct {
								ID               string         `json:"id"`
								ShortDescription map[string]any `json:"shortDescription"`
								FullDescription  map[string]any `json:"fullDescription"`
								Help             map[string]any `json:"help"`
							} `json:"rules"`
						} `json:"driver"`
					} `json:"tool"`
					Results []struct {
						RuleID              string            `json:"ruleId"`
						Level               string            `json:"level"`
						PartialFingerprints map[string]string `json:"partialFingerprints"`
						Locations           []struct {
							PhysicalLocation struct {
								Region struct {
									StartLine int `json:"startLine"`
								} `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			require.NoError(t, json.Unmarshal(b.Bytes(), &log))
			assert.Equal(t, "2.1.0", log.Version)
			require.Len(t, log.Runs, 1)
			assert.Len(t, log.Runs[0].Results, len(fs))
			for _, r := range log.Runs[0].Tool.Driver.Rules {
				assert.NotEmpty(t, r.ID)
				assert.NotEmpty(t, r.ShortDescription["text"])
				assert.NotEmpty(t, r.FullDescription["text"])
				assert.NotEmpty(t, r.Help["text"])
			}
			for _, r := range log.Runs[0].Results {
				assert.NotEmpty(t, r.PartialFingerprints["modelgate/v1"])
				assert.Contains(t, []string{"error", "warning", "note"}, r.Level)
				for _, l := range r.Locations {
					assert.Positive(t, l.PhysicalLocation.Region.StartLine)
				}
			}
		})
	}
}

func TestFingerprintIgnoresLines(t *testing.T) {
	a := finding.Finding{Rule: "r", File: "f", Path: "p", Message: "m", Line: 3}
	b := a
	b.Line = 30
	assert.Equal(t, fingerprint(a), fingerprint(b))
	b.Message = "other"
	assert.NotEqual(t, fingerprint(a), fingerprint(b))
}

func TestJSONMatchesItsSchema(t *testing.T) {
	sch := compiledSchema(t, "schema/report.schema.json")
	for _, root := range []string{"../../testdata/broken", "../../testdata/example", t.TempDir()} {
		var b bytes.Buffer
		require.NoError(t, writeJSON(&b, &Report{Result: check(t, root)}))
		validateJSON(t, sch, b.Bytes())
	}
	assert.Contains(t, string(JSONSchema()), "modelgate JSON report")
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeText(&b, &Report{Result: check(t, "../../testdata/broken")}))
	golden.Assert(t, "broken.txt", b.String())
}

func TestAnnotations(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, writeGitHub(&out, &Report{Result: check(t, "../../testdata/example"), Findings: hostileFindings(40)}))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 31, "10 per level, then one notice")
	// A command is ::name, optional properties without a colon (they are
	// escaped), then :: and the message: a hostile message cannot close the
	// properties early or start a line of its own.
	command := regexp.MustCompile(`^::(error|warning|notice)( [^:\n]*)?::[^\n]*$`)
	counts := map[string]int{}
	for _, l := range lines {
		m := command.FindStringSubmatch(l)
		require.NotNil(t, m, l)
		counts[m[1]]++
	}
	assert.Equal(t, map[string]int{"error": 10, "warning": 10, "notice": 11}, counts)
	assert.True(t, strings.HasPrefix(lines[0], "::error col=3,file=models/a/model.yaml,line=1,title=modelgate%3A policy.rule0 (Title %3A%3Aerror%3A%3Apwned%0A%250Aname=value%0A"), lines[0])
	assert.Contains(t, lines[0], "::finding 0: ::error::pwned%0A%250Aname=value%0A")
	assert.Contains(t, lines[30], "10 more findings not annotated")
}

func TestJobSummaryWithBase(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	f := filepath.Join(repo.Dir, "models/fraud-detector/3.2.0/model.yaml")
	src, err := os.ReadFile(f)
	require.NoError(t, err)
	changed := strings.NewReplacer("f1: 0.95", "f1: 0.91", "latency_p99_ms: 45", "latency_p99_ms: 52", "owner: risk-ml@example.com", "owner: \"@org/team </details>\"").Replace(string(src))
	require.NoError(t, os.WriteFile(f, []byte(changed), 0o644))
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Dir, "models/churn-predictor/1.0.0")))
	repo.Commit("pr")

	res := check(t, repo.Dir, func(o *gate.Options) { o.BaseRef = "main" })
	res.Base.Commit = "0123456789abcdef0123456789abcdef01234567"
	res.Findings = append(res.Findings, finding.Finding{Rule: "modelgate.metrics.deny", Severity: finding.Error, Message: "f1 0.91 is below 0.92 for tier high " + hostile, File: "models/fraud-detector/3.2.0/model.yaml", Line: 17, Column: 5, Model: "fraud-detector@3.2.0"})
	out := JobSummary(&Report{Result: res, BlobURL: "https://github.com/o/r/blob/abc/"})
	golden.Assert(t, "summary-base.md", out)
	assert.Contains(t, out, "| `fraud-detector@3.2.0` | f1 | 0.95 (3.2.0) | 0.91 | ▼ -4.2 % 🔴 |")
	assert.Contains(t, out, "| `fraud-detector@3.2.0` | latency\\_p99\\_ms | 45 (3.2.0) | 52 | ▲ +15.6 % 🔴 |")
	assert.Contains(t, out, "| `churn-predictor@1.0.0` | deleted |")
	assertInert(t, out)
}

// assertInert checks that no hostile text survived as markup.
func assertInert(t *testing.T, md string) {
	t.Helper()
	for _, bad := range []string{"<img", "</details><", "@org/team", "](javascript", "\n::error", "\nname=value"} {
		assert.NotContains(t, md, bad)
	}
}

func TestJobSummaryStaysUnderTheLimit(t *testing.T) {
	res := check(t, "../../testdata/example")
	fs := hostileFindings(5000)
	for i := range fs {
		fs[i].Message += strings.Repeat(" long", 200)
	}
	out := JobSummary(&Report{Result: res, Findings: fs})
	assert.Less(t, len(out), MaxSummaryBytes)
	assert.Regexp(t, `\*\*\d+ more findings not shown here\*\*`, out)
	assertInert(t, out)
	assert.Equal(t, strings.Count(out, "<details"), strings.Count(out, "</details>"))

	small := JobSummary(&Report{Result: res, Findings: hostileFindings(3)})
	assert.NotContains(t, small, "not shown here")
	golden.Assert(t, "summary-findings.md", small)
}

// TestJSONStreamsTheEncodersBytes holds the report written item by item to
// the bytes of encoding the whole report with an indenting json.Encoder,
// as the JSON writer did before it streamed: a repository with findings, a
// clean one, an empty one, hostile text, a base comparison with a deleted
// and a broken version, a selection of findings, and a result without
// findings or models.
func TestJSONStreamsTheEncodersBytes(t *testing.T) {
	hostileResult := check(t, "../../testdata/broken")
	hostileResult.Findings = hostileFindings(30)
	nothing := check(t, t.TempDir())
	nothing.Findings = nil
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Dir, "models/churn-predictor/1.0.0")))
	repo.Write("models/text-encoder/1.1.0/model.yaml", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: text-encoder\n")
	repo.Commit("pr")
	base := check(t, repo.Dir, func(o *gate.Options) {
		o.BaseRef, o.Policy = "main", &governance.Options{DefaultBundle: true}
	})
	broken := check(t, "../../testdata/broken")
	for name, r := range map[string]*Report{
		"base":      {Result: base},
		"broken":    {Result: broken, FailOn: finding.Warning},
		"selection": {Result: broken, Findings: broken.Findings[:3]},
		"example":   {Result: check(t, "../../testdata/example", func(o *gate.Options) { o.Policy = &governance.Options{DefaultBundle: true} })},
		"empty":     {Result: check(t, t.TempDir())},
		"hostile":   {Result: hostileResult},
		"nothing":   {Result: nothing},
	} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(NewJSON(r)))
			var got bytes.Buffer
			require.NoError(t, writeJSON(&got, r))
			assert.Equal(t, want.String(), got.String())
		})
	}
}

// TestBrokenManifestStaysInTheReports: a manifest a change leaves
// unparseable is reported as modified, in the JSON models, the summary's
// changes and the lineage picture, not as deleted.
func TestBrokenManifestStaysInTheReports(t *testing.T) {
	repo := gittest.New(t)
	repo.CopyDir("../../testdata/example")
	repo.Commit("models")
	repo.Write("models/text-encoder/1.1.0/model.yaml", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: text-encoder\n")
	repo.Commit("broken")
	res := check(t, repo.Dir, func(o *gate.Options) { o.BaseRef = "HEAD~1" })

	rep := NewJSON(&Report{Result: res})
	var found *JSONModel
	for i, m := range rep.Models {
		if m.ID == "text-encoder@1.1.0" {
			found = &rep.Models[i]
		}
	}
	require.NotNil(t, found, "the version stays in the JSON models")
	assert.Equal(t, "modified", found.Change)
	assert.Equal(t, "error", found.Status)
	summary := JobSummary(&Report{Result: res})
	assert.Contains(t, summary, "| `text-encoder@1.1.0` | modified (the manifest no longer loads) |")
	assert.NotContains(t, summary, "deleted")
	assert.Contains(t, summary, `text-encoder<br/>1.1.0`, "the version stays in the picture")
}

// TestPolicyChangeIsAlwaysAnnotated: the warning that a pull request
// changes a policy is annotated however many other warnings there are.
func TestPolicyChangeIsAlwaysAnnotated(t *testing.T) {
	var out bytes.Buffer
	fs := hostileFindings(60)
	fs = append(fs, finding.Finding{Rule: gate.RulePolicyChanged, Severity: finding.Warning, File: "policy/z.rego", Line: 1, Column: 1, Message: "policy changed in this pull request"})
	require.NoError(t, writeGitHub(&out, &Report{Result: check(t, "../../testdata/example"), Findings: fs}))
	assert.Contains(t, out.String(), "file=policy/z.rego")
	assert.Equal(t, AnnotationsPerLevel, strings.Count(out.String(), "::warning "))
}
