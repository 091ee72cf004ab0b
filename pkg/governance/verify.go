package governance

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// VerifyOptions says which Rego unit tests to run.
type VerifyOptions struct {
	// DefaultBundle runs the tests of the embedded default bundle.
	DefaultBundle bool
	// PolicyDirs are directories of policies and their *_test.rego files.
	PolicyDirs []string
	// DataFiles are merged over the data, as for Load.
	DataFiles []string
	// Run keeps only the tests whose name matches this regular expression.
	Run string
	// Timeout bounds each test; DefaultTestTimeout when 0.
	Timeout time.Duration
	// Repository is the directory the file built-ins may read, as for Load.
	Repository string
}

// TestResult is the outcome of one test_ rule.
type TestResult struct {
	Package  string // "data.modelgate.lineage_test"
	Name     string // "test_cycle_denied"
	File     string
	Line     int
	Outcome  string // "PASS", "FAIL", "ERROR" or "SKIP"
	Error    string
	Output   string // what print() wrote
	Duration time.Duration
}

// VerifyReport lists the test results, sorted by file, line and name.
type VerifyReport struct {
	Results []TestResult
}

// DefaultTestTimeout bounds one Rego unit test. A test may build whole
// manifests and evaluate the bundle over them several times, so it gets
// far more than one document's DefaultTimeout: on a slow or loaded CI
// machine, 2 s cut correct tests short.
const DefaultTestTimeout = 30 * time.Second

// Verify runs Rego unit tests (test_ rules; todo_test_ rules are skipped)
// in the sandbox Load uses, like `opa test` and `conftest verify`.
func Verify(ctx context.Context, opts VerifyOptions) (VerifyReport, error) {
	src, err := loadSources(sourceOptions{defaultBundle: opts.DefaultBundle, dirs: opts.PolicyDirs, data: opts.DataFiles, tests: true})
	if err != nil {
		return VerifyReport{}, err
	}
	if err := src.checkReserved(); err != nil {
		return VerifyReport{}, err
	}
	store, err := newStore(src.data)
	if err != nil {
		return VerifyReport{}, err
	}
	repo, err := repositoryRoot(opts.Repository)
	if err != nil {
		return VerifyReport{}, err
	}
	timeout := cmp.Or(opts.Timeout, DefaultTestTimeout)
	compiler := ast.NewCompiler().
		WithBuiltins(builtinDecls()).
		WithUnsafeBuiltins(unsafeBuiltins()).
		WithEnablePrintStatements(true).
		WithDefaultRegoVersion(ast.RegoV1)
	ch, err := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetModules(src.modules).
		AddCustomBuiltins(files{root: repo}.testerBuiltins()).
		CapturePrintOutput(true).
		SetTimeout(timeout).
		Filter(opts.Run).
		RunTests(ctx, nil)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("compile policies: %w", err)
	}
	var report VerifyReport
	for r := range ch {
		report.Results = append(report.Results, testResult(r))
	}
	slices.SortFunc(report.Results, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	return report, ctx.Err()
}

func testResult(r *tester.Result) TestResult {
	t := TestResult{
		Package:  r.Package,
		Name:     r.Name,
		Output:   string(r.Output),
		Duration: r.Duration,
	}
	if r.Location != nil {
		t.File, t.Line = r.Location.File, r.Location.Row
	}
	switch {
	case r.Skip:
		t.Outcome = "SKIP"
	case r.Error != nil:
		t.Outcome, t.Error = "ERROR", r.Error.Error()
	case r.Fail:
		t.Outcome = "FAIL"
	default:
		t.Outcome = "PASS"
	}
	return t
}

// Count returns how many results have each outcome.
func (r VerifyReport) Count() map[string]int {
	n := map[string]int{}
	for _, t := range r.Results {
		n[t.Outcome]++
	}
	return n
}

// OK says whether every test passed (or was skipped) and there was one.
func (r VerifyReport) OK() bool {
	n := r.Count()
	return len(r.Results) > 0 && n["FAIL"] == 0 && n["ERROR"] == 0
}

// Write prints one line per test (failures and errors always, passes when
// verbose, with print() output under failures) and a summary line.
func (r VerifyReport) Write(w io.Writer, verbose bool) error {
	var b strings.Builder
	for _, t := range r.Results {
		if t.Outcome == "PASS" && !verbose {
			continue
		}
		fmt.Fprintf(&b, "%s - %s:%d - %s.%s", t.Outcome, t.File, t.Line, t.Package, t.Name)
		if t.Outcome != "SKIP" {
			fmt.Fprintf(&b, " (%v)", t.Duration.Round(time.Microsecond))
		}
		b.WriteByte('\n')
		if t.Error != "" {
			fmt.Fprintf(&b, "  %s\n", t.Error)
		}
		if t.Output != "" && (t.Outcome != "PASS" || verbose) {
			for line := range strings.SplitSeq(strings.TrimRight(t.Output, "\n"), "\n") {
				fmt.Fprintf(&b, "  | %s\n", line)
			}
		}
	}
	n := r.Count()
	fmt.Fprintf(&b, "%d tests, %d passed, %d failed, %d errors, %d skipped\n",
		len(r.Results), n["PASS"], n["FAIL"], n["ERROR"], n["SKIP"])
	_, err := io.WriteString(w, b.String())
	return err
}
