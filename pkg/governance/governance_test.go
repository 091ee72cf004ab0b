package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
)

// fakeLocator knows the positions of a few paths, as pkg/manifest would.
type fakeLocator map[string][2]int

// manifestLocator answers for the paths of fakeLocator that exist in the
// manifest, so that a field a test deletes is not found.
type manifestLocator struct {
	manifest  map[string]any
	positions fakeLocator
}

func (l manifestLocator) Locate(path string) (int, int, bool) {
	p, ok := l.positions[path]
	if !ok || !exists(l.manifest, path) {
		return 0, 0, false
	}
	return p[0], p[1], true
}

// exists walks a dotted path with [i] indices through maps and slices.
func exists(v any, path string) bool {
	for _, step := range strings.Split(strings.ReplaceAll(path, "[", ".["), ".") {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[step]
			if !ok {
				return false
			}
			v = next
		case []any:
			var i int
			if _, err := fmt.Sscanf(step, "[%d]", &i); err != nil || i >= len(c) {
				return false
			}
			v = c[i]
		default:
			return false
		}
	}
	return true
}

var testLocator = fakeLocator{
	"metadata":                       {3, 1},
	"metadata.owner":                 {6, 3},
	"spec":                           {8, 1},
	"spec.metrics":                   {12, 3},
	"spec.metrics.f1":                {13, 5},
	"spec.metrics.latency_p99_ms":    {14, 5},
	"spec.governance":                {16, 3},
	"spec.rollout.stages[0].traffic": {20, 9},
}

// testDoc builds a document: the manifest as input, a context with its
// file and time.
func testDoc(file string, mutate func(m map[string]any)) Document {
	m := map[string]any{
		"apiVersion": "modelgate.dev/v1",
		"kind":       "Model",
		"metadata": map[string]any{
			"name": "fraud", "version": "1.0.0", "owner": "risk@example.com",
			"labels": map[string]any{"team": "risk"},
		},
		"spec": map[string]any{
			"framework":  "pytorch",
			"metrics":    map[string]any{"f1": 0.9, "latency_p99_ms": int64(45)},
			"governance": map[string]any{"intended_use": "fraud scoring"},
			"rollout": map[string]any{"stages": []any{
				map[string]any{"traffic": json.Number("5")},
			}},
		},
	}
	if mutate != nil {
		mutate(m)
	}
	ctx := map[string]any{"manifest": m, "file": file, "now": "2026-11-25T10:00:00Z"}
	return Document{File: file, Model: "fraud@1.0.0", Input: m, Context: ctx, Locator: manifestLocator{m, testLocator}}
}

func load(t *testing.T, opts Options) *Engine {
	t.Helper()
	e, err := Load(context.Background(), opts)
	require.NoError(t, err)
	return e
}

func evaluate(t *testing.T, e *Engine, docs ...Document) []finding.Finding {
	t.Helper()
	fs, err := e.Evaluate(context.Background(), docs)
	require.NoError(t, err)
	return fs
}

// byRule indexes findings by rule id; several findings of one rule are
// joined by message order.
func byRule(fs []finding.Finding) map[string][]finding.Finding {
	m := map[string][]finding.Finding{}
	for _, f := range fs {
		m[f.Rule] = append(m[f.Rule], f)
	}
	return m
}

func TestConftestConventions(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/conftest"}})
	assert.Equal(t, []string{"main.deny", "main.deny_owner", "main.violation", "main.warn", "main.warn_excepted"}, e.Rules())

	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []finding.Finding
	}{
		{
			name: "compliant manifest only gets the unconditional warning",
			want: []finding.Finding{
				{Rule: "main.warn_excepted", Severity: finding.Warning, Message: "always warns unless excepted", Line: 1, Column: 1},
			},
		},
		{
			name: "string and object messages of deny, violation, warn and deny_<name>",
			mutate: func(m map[string]any) {
				m["spec"].(map[string]any)["framework"] = "sklearn"
				m["spec"].(map[string]any)["metrics"].(map[string]any)["f1"] = 0.4
				delete(m["metadata"].(map[string]any), "owner")
				delete(m["metadata"].(map[string]any), "labels")
			},
			want: []finding.Finding{
				{Rule: "main.deny", Severity: finding.Error, Message: "framework sklearn is not allowed", Line: 1, Column: 1},
				{Rule: "main.deny_owner", Severity: finding.Error, Message: "metadata.owner is required", Path: "metadata.owner", Line: 3, Column: 1},
				{Rule: "main.violation", Severity: finding.Error, Message: "f1 below 0.5", Path: "spec.metrics.f1", Line: 13, Column: 5},
				{Rule: "main.warn", Severity: finding.Warning, Message: "metadata.labels.team is missing", Line: 1, Column: 1},
				{Rule: "main.warn_excepted", Severity: finding.Warning, Message: "always warns unless excepted", Line: 1, Column: 1},
			},
		},
		{
			name: "an exception silences the rule it names, and says so",
			mutate: func(m map[string]any) {
				m["metadata"].(map[string]any)["labels"] = map[string]any{"team": "risk", "exempt": "true"}
			},
			want: []finding.Finding{
				{Rule: "main.warn_excepted", Severity: finding.Exception, Message: "always warns unless excepted", Line: 1, Column: 1},
			},
		},
		{
			name: `[""] silences the bare rules; an exception that silences nothing is reported too`,
			mutate: func(m map[string]any) {
				m["spec"].(map[string]any)["framework"] = "sklearn"
				m["metadata"].(map[string]any)["labels"] = map[string]any{"bare": "true"}
			},
			want: []finding.Finding{
				{Rule: "main.deny", Severity: finding.Exception, Message: "framework sklearn is not allowed", Line: 1, Column: 1},
				{Rule: "main.warn", Severity: finding.Exception, Message: "metadata.labels.team is missing", Line: 1, Column: 1},
				{Rule: "main.violation", Severity: finding.Exception, Message: `data.main.exception names "" (violation); the rule reported nothing here`, Line: 1, Column: 1},
				{Rule: "main.warn_excepted", Severity: finding.Warning, Message: "always warns unless excepted", Line: 1, Column: 1},
			},
		},
		{
			name: "a plain string names nothing, as in conftest",
			mutate: func(m map[string]any) {
				m["metadata"].(map[string]any)["labels"] = map[string]any{"team": "risk", "plain": "true"}
			},
			want: []finding.Finding{
				{Rule: "main.warn_excepted", Severity: finding.Warning, Message: "always warns unless excepted", Line: 1, Column: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evaluate(t, e, testDoc("models/fraud/model.yaml", tt.mutate))
			for i := range tt.want {
				tt.want[i].File = "models/fraud/model.yaml"
				tt.want[i].Model = "fraud@1.0.0"
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

func TestMetadataPathsAndData(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/v1"}})
	doc := testDoc("m.yaml", func(m map[string]any) {
		spec := m["spec"].(map[string]any)
		spec["metrics"].(map[string]any)["latency_p99_ms"] = 150.5
		spec["rollout"].(map[string]any)["stages"].([]any)[0].(map[string]any)["traffic"] = 50
		delete(spec["governance"].(map[string]any), "intended_use")
	})
	got := byRule(evaluate(t, e, doc))

	lat := got["main.deny_latency"]
	require.Len(t, lat, 1)
	assert.Equal(t, "Latency budget", lat[0].Title)
	assert.Equal(t, "The p99 latency must stay within the budget of data.limits.latency_ms.", lat[0].Description)
	assert.Equal(t, finding.Error, lat[0].Severity, "in package main a deny stays an error whatever METADATA says")
	assert.Equal(t, "latency_p99_ms 150.5 exceeds 100", lat[0].Message)
	assert.Equal(t, [2]int{14, 5}, [2]int{lat[0].Line, lat[0].Column})

	roll := got["ROLL-1"]
	require.Len(t, roll, 1, "a message's rule field replaces the rule id")
	assert.Equal(t, "spec.rollout.stages[0].traffic", roll[0].Path, "array paths are rendered with brackets")
	assert.Equal(t, 20, roll[0].Line)
	assert.Equal(t, "Stages", roll[0].Title)

	card := got["main.deny"]
	require.Len(t, card, 1)
	assert.Equal(t, finding.Error, card[0].Severity, "in package main a deny stays an error whatever its message says")
	assert.Equal(t, 16, card[0].Line, "a missing field points at its nearest existing ancestor")

	assert.Equal(t, 1, got["main.warn"][0].Line, "no path: first line")
	assert.Empty(t, got["main.deny_now"], "time.now_ns() follows the context's now")
}

func TestDataFilesOverride(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/v1"}, DataFiles: []string{"testdata/data/override.yaml"}})
	got := byRule(evaluate(t, e, testDoc("m.yaml", nil)))
	require.Len(t, got["main.deny_latency"], 1)
	assert.Equal(t, "latency_p99_ms 45 exceeds 10", got["main.deny_latency"][0].Message)
}

func TestNamespaces(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"main by default, absent here", Options{}, nil},
		{"one named", Options{Namespaces: []string{"team.a"}}, []string{"team.a.deny"}},
		{"several named", Options{Namespaces: []string{"team.a", "team.b"}}, []string{"team.a.deny", "team.b.warn"}},
		{"all", Options{AllNamespaces: true}, []string{"team.a.deny", "team.b.warn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.PolicyDirs = []string{"testdata/namespaces"}
			e := load(t, tt.opts)
			var rules []string
			for _, f := range evaluate(t, e, testDoc("m.yaml", nil)) {
				rules = append(rules, f.Rule)
			}
			assert.Equal(t, tt.want, rules)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"syntax error names file and line", Options{PolicyDirs: []string{"testdata/syntax"}},
			[]string{"testdata/syntax/bad.rego:4", "rego_parse_error"}},
		{"http.send is refused", Options{PolicyDirs: []string{"testdata/http"}},
			[]string{"testdata/http/fetch.rego:4", "unsafe built-in function calls in expression: http.send"}},
		{"opa.runtime is refused", Options{PolicyDirs: []string{"testdata/runtime"}},
			[]string{"testdata/runtime/env.rego:4", "opa.runtime"}},
		{"net.lookup_ip_addr is refused", Options{PolicyDirs: []string{"testdata/netlookup"}},
			[]string{"testdata/netlookup/dns.rego:4", "net.lookup_ip_addr"}},
		{"invalid JSON data", Options{DataFiles: []string{"testdata/data/invalid.json"}},
			[]string{"testdata/data/invalid.json", "invalid JSON"}},
		{"data that is not an object", Options{DataFiles: []string{"testdata/data/notobject.json"}},
			[]string{"testdata/data/notobject.json", "must be an object"}},
		{"missing policy directory", Options{PolicyDirs: []string{"testdata/nope"}},
			[]string{"load policies", "testdata/nope"}},
		{"unknown namespace", Options{PolicyDirs: []string{"testdata/namespaces"}, Namespaces: []string{"team.c"}},
			[]string{`namespace "team.c"`, "team.a, team.b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), tt.opts)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestDataDirectoryKeys(t *testing.T) {
	s, err := loadSources(sourceOptions{data: []string{"testdata/datadir"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"team": map[string]any{"owner": "risk"}}, s.data)
}

func TestWrongResultTypes(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/wrongtype"}})
	got := evaluate(t, e, testDoc("m.yaml", nil))
	var errs []string
	var good []string
	for _, f := range got {
		if f.Rule == ErrorRule {
			errs = append(errs, f.Message)
			assert.Equal(t, finding.Error, f.Severity)
			assert.Equal(t, 1, f.Line)
			continue
		}
		good = append(good, f.Message)
	}
	assert.Equal(t, []string{"a good message"}, good)
	require.Len(t, errs, 4)
	joined := strings.Join(errs, "\n")
	assert.Contains(t, joined, "main.deny returned number; a rule must produce a set of messages")
	assert.Contains(t, joined, "main.warn returned a message of type number")
	assert.Contains(t, joined, "main.warn returned a message object without a string msg")
	assert.Contains(t, joined, "main.violation returned a message object without a string msg")
}

func TestRuntimeErrorIsolated(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/conflict"}})
	got := byRule(evaluate(t, e, testDoc("a.yaml", nil), testDoc("b.yaml", nil)))
	require.Len(t, got[ErrorRule], 2, "one error per document")
	assert.Contains(t, got[ErrorRule][0].Message, "main.deny: ")
	assert.Contains(t, got[ErrorRule][0].Message, "conflict.rego")
	assert.Len(t, got["main.warn"], 2, "the other rule still reports on both documents")
}

func TestSlowPolicyIsBoundedAndSkipped(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/slow"}, Timeout: 50 * time.Millisecond})
	docs := make([]Document, 6)
	for i := range docs {
		docs[i] = testDoc("m"+string(rune('0'+i))+".yaml", nil)
	}
	start := time.Now()
	got := evaluate(t, e, docs...)
	assert.Less(t, time.Since(start), 5*time.Second, "a looping rule must not cost the limit on every document")
	rules := byRule(got)
	assert.Len(t, rules["main.deny_fast"], 6, "the fast rule reports on every document")
	require.Len(t, rules[ErrorRule], 6, "every document says the slow rule did not complete")
	var limit, skipped int
	for _, f := range rules[ErrorRule] {
		switch {
		case strings.Contains(f.Message, "main.deny_slow: evaluation exceeded the time limit of 50ms"):
			limit++
		case strings.Contains(f.Message, "main.deny_slow: not evaluated: it exceeded the time limit on 2 other documents"):
			skipped++
		default:
			t.Errorf("unexpected error finding: %s", f.Message)
		}
	}
	assert.GreaterOrEqual(t, limit, timeoutsBeforeSkip)
	assert.Equal(t, 6, limit+skipped)
}

func TestInputConversionError(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/namespaces"}, AllNamespaces: true})
	unread := testDoc("unread.yaml", func(m map[string]any) { m["spec"].(map[string]any)["x"] = make(chan int) })
	bad := testDoc("bad.yaml", nil)
	bad.Input.(map[string]any)["kind"] = make(chan int)
	bad.Input.(map[string]any)["number"] = json.Number("1x")
	got := evaluate(t, e, unread, bad, testDoc("good.yaml", nil))
	require.Len(t, got, 6)
	assert.Equal(t, "unread.yaml", got[0].File, "input is converted lazily: a field no policy reads cannot fail")
	for _, f := range got[2:4] {
		assert.Equal(t, ErrorRule, f.Rule)
		assert.Equal(t, "bad.yaml", f.File)
		assert.Contains(t, f.Message, "evaluation failed: ast: interface conversion: json: unsupported type: chan int")
	}
	assert.Contains(t, got[2].Message, "team.a.deny: ", "the error names the rule that read the value")
	assert.Equal(t, "good.yaml", got[4].File)
}

func TestEvaluateCancelled(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/namespaces"}, AllNamespaces: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Evaluate(ctx, []Document{testDoc("m.yaml", nil)})
	require.ErrorIs(t, err, context.Canceled)
}

func TestPrintOutput(t *testing.T) {
	var buf bytes.Buffer
	e := load(t, Options{PolicyDirs: []string{"testdata/print"}, Print: &buf})
	evaluate(t, e, testDoc("m.yaml", nil))
	assert.Equal(t, "testdata/print/p.rego:4: kind is Model\n", buf.String())

	quiet := load(t, Options{PolicyDirs: []string{"testdata/print"}})
	assert.Len(t, evaluate(t, quiet, testDoc("m.yaml", nil)), 1, "without a writer print() is dropped")
}

func TestRunBuildsDocumentsAsItGoes(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/conftest"}})
	docs := []Document{testDoc("a.yaml", nil), testDoc("b.yaml", nil), testDoc("c.yaml", nil)}
	built := make([]int, len(docs))
	fs, err := e.NewRun().Each(context.Background(), len(docs), func(i int) (Document, error) {
		built[i]++
		if i == 1 {
			return Document{File: "b.yaml", Model: "b@1.0.0"}, fmt.Errorf("decode again: broken")
		}
		return docs[i], nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1}, built, "each document is built once")
	first := evaluate(t, e, docs[0])
	require.NotEmpty(t, first)
	require.Len(t, fs, 2*len(first)+1)
	assert.Equal(t, first, fs[:len(first)], "a.yaml as Evaluate finds it")
	assert.Equal(t, finding.Finding{
		Rule: ErrorRule, Title: "Policy evaluation failed", Severity: finding.Error,
		Message: "decode again: broken", File: "b.yaml", Line: 1, Column: 1, Model: "b@1.0.0",
	}, fs[len(first)], "a document that cannot be built gets a finding, in its place")
	assert.Equal(t, evaluate(t, e, docs[2]), fs[len(first)+1:], "the documents after it are evaluated")
}

// TestSeverityOnlyInModelgateNamespaces holds the severity rule: a policy
// under modelgate.* may lower or raise its findings' severity (METADATA
// custom.severity, a message's severity); elsewhere the rule's name decides,
// as in conftest (TestMetadataPathsAndData runs the same rules in main).
func TestSeverityOnlyInModelgateNamespaces(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/severity"}, Namespaces: []string{"modelgate.acme"}})
	doc := testDoc("m.yaml", func(m map[string]any) {
		spec := m["spec"].(map[string]any)
		spec["metrics"].(map[string]any)["latency_p99_ms"] = 150.5
		delete(spec["governance"].(map[string]any), "intended_use")
	})
	got := byRule(evaluate(t, e, doc))
	require.Len(t, got["modelgate.acme.deny_latency"], 1)
	assert.Equal(t, finding.Warning, got["modelgate.acme.deny_latency"][0].Severity, "custom.severity in METADATA overrides the deny kind")
	require.Len(t, got["modelgate.acme.deny"], 1)
	assert.Equal(t, finding.Info, got["modelgate.acme.deny"][0].Severity, "a message's severity wins")
	assert.True(t, OwnsSeverity("modelgate.lineage"))
	assert.False(t, OwnsSeverity("main"))
	assert.False(t, OwnsSeverity("modelgatex.a"))
}

func TestPrintEscapesControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	e := load(t, Options{PolicyDirs: []string{"testdata/print"}, Print: &buf})
	evaluate(t, e, testDoc("m.yaml", func(m map[string]any) { m["kind"] = "Model\n::error::forged" }))
	assert.Equal(t, "testdata/print/p.rego:4: kind is Model\\x0a::error::forged\n", buf.String())
}

func TestTrace(t *testing.T) {
	var buf bytes.Buffer
	e := load(t, Options{PolicyDirs: []string{"testdata/namespaces"}, AllNamespaces: true, Trace: &buf})
	evaluate(t, e, testDoc("a.yaml", nil), testDoc("b.yaml", nil))
	out := buf.String()
	a, b := strings.Index(out, "trace of a.yaml (fraud@1.0.0):\n"), strings.Index(out, "trace of b.yaml (fraud@1.0.0):\n")
	require.True(t, a >= 0 && b > a, "one trace per document, in order:\n%s", out)
	assert.Contains(t, out, "Enter data.team.a.deny")
	assert.Contains(t, out, "testdata/namespaces/a.rego:")
}

// TestPathsOfDottedKeysAndArrays points a finding at the key's own line
// whether the policy names it as an array of keys, a quoted path or plain
// dots, and reports the canonical path.
func TestPathsOfDottedKeysAndArrays(t *testing.T) {
	loc := fakeLocator{
		"metadata":        {3, 1},
		"metadata.labels": {7, 3},
		`metadata.labels["app.kubernetes.io/name"]`: {9, 5},
		"metadata.labels.tiers":                     {10, 5},
		"metadata.labels.tiers[1]":                  {12, 9},
	}
	tests := []struct {
		path     ast.Value
		line     int
		wantPath string
	}{
		{ast.NewArray(ast.StringTerm("metadata"), ast.StringTerm("labels"), ast.StringTerm("app.kubernetes.io/name")), 9, `metadata.labels["app.kubernetes.io/name"]`},
		{ast.String(`metadata.labels["app.kubernetes.io/name"]`), 9, `metadata.labels["app.kubernetes.io/name"]`},
		{ast.String("metadata.labels.app.kubernetes.io/name"), 9, `metadata.labels["app.kubernetes.io/name"]`},
		{ast.String("input.metadata.labels.app.kubernetes.io/name"), 9, `metadata.labels["app.kubernetes.io/name"]`},
		{ast.NewArray(ast.StringTerm("metadata"), ast.StringTerm("labels"), ast.StringTerm("tiers"), ast.IntNumberTerm(1)), 12, "metadata.labels.tiers[1]"},
		{ast.String("metadata.labels.tiers.1"), 12, "metadata.labels.tiers[1]"},
		{ast.String("metadata.labels.missing.key"), 7, "metadata.labels.missing.key"},
		{ast.String("nowhere"), 1, "nowhere"},
	}
	r := &rule{id: "main.warn", severity: finding.Warning}
	for _, tt := range tests {
		t.Run(tt.path.String(), func(t *testing.T) {
			msg := ast.NewObject(ast.Item(ast.StringTerm("msg"), ast.StringTerm("m")), ast.Item(ast.StringTerm("path"), ast.NewTerm(tt.path)))
			f := r.finding(&Document{File: "m.yaml", Locator: locatorFunc(func(p string) (int, int, bool) {
				pos, ok := loc[p]
				return pos[0], pos[1], ok
			})}, msg)
			assert.Equal(t, tt.line, f.Line)
			assert.Equal(t, tt.wantPath, f.Path)
		})
	}
}
