package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/finding"
)

// The JUnit XML that Jenkins, GitLab and Buildkite read (the schema of
// Jenkins' JUnit plugin): a test suite per file checked, a test case per
// finding, or one passing case for a file without findings.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Skipped   *string       `xml:"skipped"`
		Failure   *junitFailure `xml:"failure"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// writeJUnit writes the JUnit XML report. A finding that fails the check
// is a failure; one below the fail-on level passes with its text as output;
// one an exception silenced is skipped.
func writeJUnit(w io.Writer, r *Report) error {
	suites := junitSuites{Name: "modelgate", Time: "0"}
	stamp := r.Result.Now.UTC().Format(time.RFC3339)
	for _, g := range r.byFile() {
		suite := junitSuite{Name: g.name(), Time: "0", Timestamp: stamp}
		for _, f := range g.findings {
			suite.Cases = append(suite.Cases, r.junitCase(g, f))
		}
		if len(suite.Cases) == 0 {
			suite.Cases = []junitCase{{Name: "no findings", Classname: g.name(), Time: "0"}}
		}
		for _, c := range suite.Cases {
			suite.Tests++
			if c.Failure != nil {
				suite.Failures++
			}
			if c.Skipped != nil {
				suite.Skipped++
			}
		}
		suites.Tests += suite.Tests
		suites.Failures += suite.Failures
		suites.Suites = append(suites.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return fmt.Errorf("write JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (r *Report) junitCase(g fileFindings, f finding.Finding) junitCase {
	first, _, _ := strings.Cut(f.Message, "\n")
	c := junitCase{Name: ruleID(f) + ": " + truncate(first, 200), Classname: g.name(), Time: "0"}
	detail := junitDetail(g, f)
	switch {
	case f.Severity == finding.Exception:
		c.Skipped = &detail
	case r.fails(f):
		c.Failure = &junitFailure{Message: truncate(f.Message, 1000), Type: string(f.Severity), Text: detail}
	default:
		c.SystemOut = detail
	}
	return c
}

// junitDetail says where and what: file:line:column, severity, rule, message.
func junitDetail(g fileFindings, f finding.Finding) string {
	where := g.name()
	if f.Line > 0 {
		where += ":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column)
	}
	return fmt.Sprintf("%s: %s %s: %s", where, f.Severity, ruleID(f), f.Message)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
