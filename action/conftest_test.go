package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/report"
)

// conftestVersion is the conftest the differential test compares with;
// .ci/run installs it (go install github.com/open-policy-agent/conftest@v0.59.0).
const conftestVersion = "0.59.0"

// deliberate lists the files of the corpus on which modelgate and conftest
// disagree on purpose, with the reason; the README lists the same. The test
// fails when another file disagrees, and when one of these agrees.
var deliberate = map[string]string{
	"models/yaml11-no/1.0.0/model.yaml":  "YAML 1.2: approved: no is the string \"no\" to modelgate, false to conftest (YAML 1.1)",
	"models/yaml11-yes/1.0.0/model.yaml": "YAML 1.2: pii: yes is the string \"yes\" to modelgate, true to conftest (YAML 1.1)",
}

// TestConftestParity runs conftest and modelgate on the same corpus of
// manifests with the same conftest-style policies (testdata/conftest-diff:
// bare and suffixed deny, violation and warn rules, string and object
// messages, exceptions with names and with "", several namespaces, data
// files, METADATA, data.conftest.file, the file builtins, iteration over
// input), and requires them to agree on every file's failures, warnings and
// exceptions, except the deliberate differences above.
func TestConftestParity(t *testing.T) {
	bin := conftestBinary(t)
	dir := conftestRepository(t)
	t.Chdir(dir)

	theirs := runConftest(t, bin)
	ours := runModelgate(t)

	agree, differ := 0, map[string]string{}
	files := keysOf(theirs, ours)
	slices.Sort(files)
	for _, file := range files {
		a, b := theirs[file].String(), ours[file].String()
		if a == b {
			agree++
			continue
		}
		differ[file] = fmt.Sprintf("conftest:\n%s\nmodelgate:\n%s", a, b)
	}
	for file, d := range differ {
		if _, ok := deliberate[file]; !ok {
			t.Errorf("%s: results differ\n%s", file, d)
		}
	}
	for file, reason := range deliberate {
		assert.Contains(t, differ, file, "a deliberate difference that no longer differs: %s", reason)
	}
	total := len(files)
	t.Logf("conftest v%s and modelgate on %d manifests: %d agree, %d differ deliberately", conftestVersion, total, agree, len(differ))
	assert.GreaterOrEqual(t, total, 100, "the corpus")
	conventions := coverage(theirs)
	for _, c := range []string{"main:failure", "main:warning", "main:exception", "team.risk:failure", "team.risk:exception", "team.quality:warning", "team.files:failure", "team.files:warning"} {
		assert.Positive(t, conventions[c], "the corpus exercises %s", c)
	}
}

// results are one file's results, each as namespace, kind and message.
type results []string

// String lists the results in order. Exceptions are compared as a set: an
// exception is reported once per result it silences by modelgate, once per
// matching entry by conftest (a deliberate difference of count, not of
// what is excepted).
func (r results) String() string {
	s := slices.Clone(r)
	slices.Sort(s)
	s = slices.CompactFunc(s, func(a, b string) bool { return a == b && strings.Contains(a, " exception ") })
	return strings.Join(s, "\n")
}

func keysOf(a, b map[string]results) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// coverage counts the conftest results by namespace and kind.
func coverage(rs map[string]results) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		for _, line := range r {
			ns, rest, _ := strings.Cut(line, " ")
			kind, _, _ := strings.Cut(rest, " ")
			out[ns+":"+kind]++
		}
	}
	return out
}

// conftestBinary finds conftest; without it the test skips, or fails under CI.
func conftestBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{filepath.Join(os.Getenv("HOME"), "go", "bin", "conftest")}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(gopath)), "bin", "conftest"))
	}
	if p, err := exec.LookPath("conftest"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, c := range candidates {
		out, err := exec.Command(c, "--version").Output()
		if err == nil && strings.Contains(string(out), "OPA") {
			abs, err := filepath.Abs(c)
			require.NoError(t, err)
			return abs
		}
	}
	msg := "needs conftest v" + conftestVersion + " (go install github.com/open-policy-agent/conftest@v" + conftestVersion + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// exceptionQuery is how conftest names an exception it applied.
var exceptionQuery = regexp.MustCompile(`^data\.(.+)\.exception\[_\]\[_\] == "(.*)"$`)

func runConftest(t *testing.T, bin string) map[string]results {
	t.Helper()
	cmd := exec.Command(bin, "test", "models", "--policy", "policy", "--data", "data", "--all-namespaces", "--output", "json", "--no-color")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		require.NoError(t, err, "conftest: %s", stderr.String())
	}
	var out []struct {
		Filename   string                 `json:"filename"`
		Namespace  string                 `json:"namespace"`
		Failures   []struct{ Msg string } `json:"failures"`
		Warnings   []struct{ Msg string } `json:"warnings"`
		Exceptions []struct{ Msg string } `json:"exceptions"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
	rs := map[string]results{}
	for _, r := range out {
		file := filepath.ToSlash(r.Filename)
		rs[file] = append(rs[file], []string(nil)...)
		for _, f := range r.Failures {
			rs[file] = append(rs[file], r.Namespace+" failure "+f.Msg)
		}
		for _, w := range r.Warnings {
			rs[file] = append(rs[file], r.Namespace+" warning "+w.Msg)
		}
		for _, e := range r.Exceptions {
			m := exceptionQuery.FindStringSubmatch(e.Msg)
			require.NotNil(t, m, e.Msg)
			rs[file] = append(rs[file], m[1]+" exception "+m[2])
		}
	}
	return rs
}

func runModelgate(t *testing.T) map[string]results {
	t.Helper()
	code, stdout, stderr := runCLI("validate", ".", "--no-default-policy", "--policy", "policy", "--data", "data", "--all-namespaces", "--format", "json")
	require.Contains(t, []int{exitOK, exitFindings}, code, stderr)
	var rep report.JSONReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	rs := map[string]results{}
	for _, m := range rep.Models {
		rs[m.File] = results{}
	}
	for _, f := range rep.Findings {
		ns, name, ok := policyRule(f.Rule)
		if !ok {
			continue // the validator's own findings: conftest has none
		}
		switch f.Severity {
		case finding.Error:
			rs[f.File] = append(rs[f.File], ns+" failure "+f.Message)
		case finding.Warning:
			rs[f.File] = append(rs[f.File], ns+" warning "+f.Message)
		case finding.Exception:
			rs[f.File] = append(rs[f.File], ns+" exception "+exceptionName(name))
		default:
			rs[f.File] = append(rs[f.File], ns+" "+string(f.Severity)+" "+f.Message)
		}
	}
	return rs
}

// policyRule splits the rule of a policy's finding: main.deny_x -> main,
// deny_x. The validator's rules (schema, lineage/…) are not policies'.
func policyRule(rule string) (ns, name string, ok bool) {
	if rule == "policy/error" {
		return "policy/error", "", true
	}
	i := strings.LastIndex(rule, ".")
	if i < 0 || strings.Contains(rule, "/") {
		return "", "", false
	}
	return rule[:i], rule[i+1:], true
}

// exceptionName is what conftest's exception query names: the rule's name
// without its deny_/violation_/warn_ prefix, "" for the bare rules.
func exceptionName(rule string) string {
	for _, p := range []string{"deny", "violation", "warn"} {
		if rule == p {
			return ""
		}
		if rest, ok := strings.CutPrefix(rule, p+"_"); ok {
			return rest
		}
	}
	return rule
}

// conftestRepository lays out a repository in a temporary directory: the
// policies, data and configuration files of testdata/conftest-diff, and the
// corpus of manifests.
func conftestRepository(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../testdata/conftest-diff")))
	for path, text := range corpus() {
		full := filepath.Join(dir, filepath.FromSlash(path))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(text), 0o644))
	}
	return dir
}

// corpus is the manifests: a hundred and twenty generated from a seeded
// choice of every trait the policies look at, written as block YAML, flow
// YAML, YAML with CRLF line ends and a byte order mark, and JSON; then the
// edge cases by hand.
func corpus() map[string]string {
	rng := rand.New(rand.NewPCG(18, 2026))
	pick := func(options ...string) string { return options[rng.IntN(len(options))] }
	out := map[string]string{}
	for i := range 120 {
		m := manifestTraits{
			name:      fmt.Sprintf("model-%d", i/4),
			version:   fmt.Sprintf("1.%d.0", i%4),
			framework: pick("pytorch", "pytorch", "xgboost", "sklearn", "keras", "tensorflow"),
			owner:     pick("risk-ml@example.com", "growth@example.com", "eve@example.com", ""),
			f1:        pick("0.95", "0.91", "0.72", "0.8"),
			latency:   pick("45", "99", "150"),
			memory:    pick("2300", "5000"),
			stages:    pick("[5, 25, 100]", "[80, 100]", ""),
			tier:      pick("high", "limited", "minimal", "extreme"),
			pii:       pick("true", "false", "true"),
			dpia:      pick("docs/dpia.md", ""),
			label:     pick("", "", "exempt: owner", "exempt: all", "exempt: stages-and-fields", "tier: exempt", "where: show", "combined: show", `"app.kubernetes.io/name": model`, "approved: false", `approved: "no"`),
			extra:     pick("", "", "", "status: {state: ready}", "now: '2030-01-01'", "file: elsewhere.yaml"),
		}
		ext, text := ".yaml", m.blockYAML()
		switch i % 5 {
		case 1:
			text = m.flowYAML()
		case 2:
			text = "\ufeff" + strings.ReplaceAll(text, "\n", "\r\n")
		case 3:
			ext, text = ".json", m.json()
		}
		out["models/"+m.name+"/"+m.version+"/model"+ext] = text
	}
	base := manifestTraits{framework: "pytorch", owner: "risk-ml@example.com", f1: "0.95", latency: "45", memory: "2300", stages: "[5, 25, 100]", tier: "high", pii: "true", dpia: "docs/dpia.md"}
	edge := func(name string, change func(*manifestTraits)) {
		m := base
		m.name, m.version = name, "1.0.0"
		change(&m)
		out["models/"+name+"/1.0.0/model.yaml"] = m.blockYAML()
	}
	edge("yaml11-yes", func(m *manifestTraits) { m.pii, m.dpia = "yes", "" })
	edge("yaml11-no", func(m *manifestTraits) { m.label = "approved: no" })
	edge("everything-wrong", func(m *manifestTraits) {
		m.framework, m.owner, m.f1, m.latency, m.memory, m.stages, m.tier, m.dpia, m.extra = "keras", "", "0.1", "500", "9000", "[90]", "extreme", "", "now: soon"
	})
	edge("excepted-everything-wrong", func(m *manifestTraits) {
		m.framework, m.owner, m.f1, m.latency, m.stages, m.label = "keras", "", "0.1", "500", "[90]", "exempt: all"
	})
	edge("dotted-labels", func(m *manifestTraits) {
		m.label = `"app.kubernetes.io/name": x, "app.kubernetes.io/part-of": payments`
	})
	return out
}

// manifestTraits are the traits a corpus manifest varies.
type manifestTraits struct {
	name, version, framework, owner, f1, latency, memory, stages, tier, pii, dpia, label, extra string
}

func (m manifestTraits) blockYAML() string {
	var b strings.Builder
	b.WriteString("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n  version: %s\n", m.name, m.version)
	if m.owner != "" {
		fmt.Fprintf(&b, "  owner: %s\n", m.owner)
	}
	b.WriteString("  labels:\n    team: risk\n")
	if m.label != "" {
		for _, l := range strings.Split(m.label, ", ") {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	fmt.Fprintf(&b, "spec:\n  framework: %s\n  task: classification\n", m.framework)
	fmt.Fprintf(&b, "  metrics:\n    f1: %s\n    latency_p99_ms: %s\n    memory_mb: %s\n", m.f1, m.latency, m.memory)
	fmt.Fprintf(&b, "  governance:\n    risk_tier: %s\n    pii: %s\n", m.tier, m.pii)
	if m.dpia != "" {
		fmt.Fprintf(&b, "    dpia: %s\n", m.dpia)
	}
	if m.stages != "" {
		b.WriteString("  rollout:\n    stages:\n")
		for _, s := range strings.Split(strings.Trim(m.stages, "[]"), ", ") {
			fmt.Fprintf(&b, "      - traffic: %s\n", s)
		}
	}
	if m.extra != "" {
		b.WriteString(m.extra + "\n")
	}
	return b.String()
}

func (m manifestTraits) flowYAML() string {
	labels := "team: risk"
	if m.label != "" {
		labels += ", " + m.label
	}
	owner := ""
	if m.owner != "" {
		owner = ", owner: " + m.owner
	}
	dpia := ""
	if m.dpia != "" {
		dpia = ", dpia: " + m.dpia
	}
	rollout := ""
	if m.stages != "" {
		var stages []string
		for _, s := range strings.Split(strings.Trim(m.stages, "[]"), ", ") {
			stages = append(stages, "{traffic: "+s+"}")
		}
		rollout = "\n  rollout: {stages: [" + strings.Join(stages, ", ") + "]}"
	}
	extra := ""
	if m.extra != "" {
		extra = m.extra + "\n"
	}
	return fmt.Sprintf("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: %s, version: %s%s, labels: {%s}}\nspec:\n  framework: %s\n  task: classification\n  metrics: {f1: %s, latency_p99_ms: %s, memory_mb: %s}\n  governance: {risk_tier: %s, pii: %s%s}%s\n%s",
		m.name, m.version, owner, labels, m.framework, m.f1, m.latency, m.memory, m.tier, m.pii, dpia, rollout, extra)
}

func (m manifestTraits) json() string {
	labels := map[string]any{"team": "risk"}
	if m.label != "" {
		for _, l := range strings.Split(m.label, ", ") {
			k, v, _ := strings.Cut(l, ": ")
			var val any = strings.Trim(v, `"`)
			if v == "false" {
				val = false
			}
			labels[strings.Trim(k, `"`)] = val
		}
	}
	meta := map[string]any{"name": m.name, "version": m.version, "labels": labels}
	if m.owner != "" {
		meta["owner"] = m.owner
	}
	num := func(s string) json.Number { return json.Number(s) }
	gov := map[string]any{"risk_tier": m.tier, "pii": m.pii == "true"}
	if m.dpia != "" {
		gov["dpia"] = m.dpia
	}
	spec := map[string]any{
		"framework": m.framework, "task": "classification",
		"metrics":    map[string]any{"f1": num(m.f1), "latency_p99_ms": num(m.latency), "memory_mb": num(m.memory)},
		"governance": gov,
	}
	if m.stages != "" {
		var stages []any
		for _, s := range strings.Split(strings.Trim(m.stages, "[]"), ", ") {
			stages = append(stages, map[string]any{"traffic": num(s)})
		}
		spec["rollout"] = map[string]any{"stages": stages}
	}
	doc := map[string]any{"apiVersion": "modelgate.dev/v1", "kind": "Model", "metadata": meta, "spec": spec}
	if m.extra != "" {
		k, v, _ := strings.Cut(m.extra, ": ")
		doc[k] = strings.Trim(v, "'{}")
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(data) + "\n"
}
