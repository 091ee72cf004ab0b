package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/actionmeta"
	"github.com/modelgate/modelgate/internal/gittest"
)

// e2eVersion is the version the end-to-end binary is built with, as the
// Dockerfile sets the release's.
const e2eVersion = "1.4.2"

// actionBinary is the binary the Dockerfile builds, built the same way once
// for all the end-to-end tests of this process.
var actionBinary struct {
	once sync.Once
	path string
	err  error
}

func buildAction(t *testing.T) string {
	t.Helper()
	actionBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "modelgate-action-")
		if err != nil {
			actionBinary.err = err
			return
		}
		actionBinary.path = filepath.Join(dir, "modelgate")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+e2eVersion, "-o", actionBinary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			actionBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, actionBinary.err)
	return actionBinary.path
}

// workspace is a checkout as actions/checkout leaves it with fetch-depth 0:
// a base commit with the example models, and a pull request commit on top.
type workspace struct {
	dir, base, head string
}

const hostileRef = "fraud-detector@9.9.9\n::error file=evil::pwned %0A\nname=value"

func prWorkspace(t *testing.T) workspace {
	repo := gittest.New(t)
	repo.CopyDir("../testdata/example")
	base := repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	fd := filepath.Join(repo.Dir, "models/fraud-detector/3.2.0/model.yaml")
	src, err := os.ReadFile(fd)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fd, bytes.Replace(src, []byte("f1: 0.95"), []byte("f1: 0.91"), 1), 0o644))
	lineage, err := json.Marshal(map[string]any{"model_id": "fraud-detector", "version": "3.3.0", "parent_models": []string{"fraud-detector@3.2.0", hostileRef}})
	require.NoError(t, err)
	repo.Write("models/fraud-detector/3.3.0/model.yaml", strings.ReplaceAll(string(src), "version: 3.2.0", "version: 3.3.0"))
	repo.Write("models/fraud-detector/3.3.0/lineage.json", string(lineage))
	require.NoError(t, os.RemoveAll(filepath.Join(repo.Dir, "models/churn-predictor/1.0.0")))
	head := repo.Commit("pr")
	return workspace{dir: repo.Dir, base: base, head: head}
}

type actionRun struct {
	code            int
	stdout, stderr  string
	outputs         map[string]string
	summary         string
	sarif, jsonFile []byte
}

func runAction(t *testing.T, bin string, ws workspace, inputs map[string]string) actionRun {
	t.Helper()
	files := t.TempDir()
	event := filepath.Join(files, "event.json")
	payload := map[string]any{"pull_request": map[string]any{"number": 7, "base": map[string]any{"sha": ws.base, "ref": "main"}, "head": map[string]any{"sha": ws.head}}}
	data, err := json.Marshal(payload)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(event, data, 0o644))
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + files,
		"GITHUB_ACTIONS=true", "CI=true", "GITHUB_WORKSPACE=" + ws.dir, "GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + event,
		"GITHUB_OUTPUT=" + filepath.Join(files, "output"), "GITHUB_STEP_SUMMARY=" + filepath.Join(files, "summary.md"),
		"GITHUB_REPOSITORY=acme/models", "GITHUB_SERVER_URL=https://github.com", "GITHUB_SHA=" + ws.head,
		"GITHUB_BASE_REF=main", "GITHUB_HEAD_REF=pr",
	}
	inputEnv, args, err := readActionMetadata(t).Invocation(inputs)
	require.NoError(t, err)
	env = append(env, inputEnv...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = ws.dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	run := actionRun{code: code, stdout: stdout.String(), stderr: stderr.String(), outputs: mustOutputs(t, filepath.Join(files, "output"))}
	summary, _ := os.ReadFile(filepath.Join(files, "summary.md"))
	run.summary = string(summary)
	meta := readActionMetadata(t)
	run.sarif, _ = os.ReadFile(filepath.Join(ws.dir, orDefault(inputs["sarif-file"], meta.Inputs["sarif-file"].Default)))
	run.jsonFile, _ = os.ReadFile(filepath.Join(ws.dir, orDefault(inputs["json-file"], meta.Inputs["json-file"].Default)))
	return run
}

func TestActionEndToEnd(t *testing.T) {
	bin := buildAction(t)
	ws := prWorkspace(t)
	run := runAction(t, bin, ws, map[string]string{"sarif-file": "reports/modelgate.sarif"})

	assert.Equal(t, exitFindings, run.code, run.stderr)
	// Annotations: one command per line, on the exact file and line.
	command := regexp.MustCompile(`^::(error|warning|notice)( [^:\n]*)?::`)
	var annotations []string
	for _, line := range strings.Split(strings.TrimSpace(run.stdout), "\n") {
		require.Regexp(t, command, line, "every line of stdout is a well-formed command")
		annotations = append(annotations, line)
	}
	require.Len(t, annotations, 5)
	assert.Contains(t, annotations, "::error col=5,file=models/fraud-detector/3.2.0/model.yaml,line=16,title=modelgate%3A modelgate.regression.deny_against_base (Regression against the base branch)::f1 regressed against the base branch: 0.95 -> 0.91 (tolerance 0.01)")
	assert.Contains(t, annotations, "::error col=70,file=models/fraud-detector/3.3.0/lineage.json,line=1,title=modelgate%3A modelgate.lineage.deny_unknown_parent (Parent model missing)::parent fraud-detector@9.9.9%0A::error file=evil::pwned %250A%0Aname=value does not exist; known versions of fraud-detector: 3.1.0, 3.2.0, 3.3.0")
	assert.True(t, strings.HasPrefix(annotations[4], "::notice "), "worst first")

	assert.Equal(t, map[string]string{"errors": "4", "warnings": "0", "models": `["fraud-detector@3.2.0","fraud-detector@3.3.0"]`, "report": "modelgate-report.json"}, run.outputs)

	assert.Contains(t, run.summary, "## ❌ modelgate failed")
	assert.Contains(t, run.summary, "compared with `main` at `"+ws.base[:12]+"`", "the base branch is named beside its commit")
	assert.Contains(t, run.summary, "| `fraud-detector@3.2.0` | f1 | 0.95 (3.2.0) | 0.91 | ▼ -4.2 % 🔴 |")
	assert.Contains(t, run.summary, "| `churn-predictor@1.0.0` | deleted |")
	assert.Contains(t, run.summary, "```mermaid\nflowchart TD")
	assert.Contains(t, run.summary, "(https://github.com/acme/models/blob/"+ws.head+"/models/fraud-detector/3.3.0/lineage.json#L1)")
	assert.NotContains(t, run.summary, "\n::error")
	assert.NotContains(t, run.summary, "\nname=value")

	c := jsonschema.NewCompiler()
	sch, err := c.Compile("../testdata/sarif/sarif-2.1.0-rtm.5.json")
	require.NoError(t, err)
	sarifDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(run.sarif))
	require.NoError(t, err, "SARIF written to reports/modelgate.sarif")
	require.NoError(t, sch.Validate(sarifDoc))
	assert.Contains(t, string(run.sarif), `"version": "`+e2eVersion+`"`, "the version set at build time, not dev")
	assert.Contains(t, string(run.sarif), `"semanticVersion": "`+e2eVersion+`"`)

	var rep struct {
		Passed   bool `json:"passed"`
		Base     struct{ Commit string }
		Findings []struct{ File string }
	}
	require.NoError(t, json.Unmarshal(run.jsonFile, &rep))
	assert.False(t, rep.Passed)
	assert.Equal(t, ws.base, rep.Base.Commit)
	require.Len(t, rep.Findings, 5)
}

func TestActionInputs(t *testing.T) {
	bin := buildAction(t)
	ws := prWorkspace(t)
	tests := []struct {
		name   string
		inputs map[string]string
		code   int
		stdout string
	}{
		{"fail-on never", map[string]string{"fail-on": "never"}, exitOK, ""},
		{"bad fail-on", map[string]string{"fail-on": "sometimes"}, exitUsage, `fail-on: \"sometimes\" is not one of error, warning, never`},
		{"bad changed-only", map[string]string{"changed-only": "yes"}, exitUsage, "changed-only"},
		{"missing path", map[string]string{"path": "nope"}, exitUsage, "nope: not a git repository"},
		{"missing path, trusted PR policy", map[string]string{"path": "nope", "trust-pr-policy": "true"}, exitUsage, "modelgate could not run"},
		{"missing base ref: the policies cannot be trusted", map[string]string{"base-ref": "origin/gone"}, exitUsage, `::error::read the base's policies: resolve \"origin/gone\": unknown revision`},
		{"missing base ref with trusted PR policy warns and goes on", map[string]string{"base-ref": "origin/gone", "fail-on": "warning", "trust-pr-policy": "true"}, exitFindings, "::warning title=modelgate%3A base/unavailable"},
		{"bad trust-pr-policy", map[string]string{"trust-pr-policy": "maybe"}, exitUsage, "trust-pr-policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runAction(t, bin, ws, tt.inputs)
			assert.Equal(t, tt.code, run.code, run.stdout+run.stderr)
			assert.Contains(t, run.stdout, strings.ReplaceAll(tt.stdout, `\"`, `"`))
		})
	}
}

func TestActionChangedOnlyAndSubdirectory(t *testing.T) {
	bin := buildAction(t)
	repo := gittest.New(t)
	require.NoError(t, os.MkdirAll(filepath.Join(repo.Dir, "ml"), 0o755))
	require.NoError(t, os.CopyFS(filepath.Join(repo.Dir, "ml"), os.DirFS("../testdata/broken")))
	base := repo.Commit("broken models")
	repo.Write("ml/models/new/1.0.0/model.yaml", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: new, version: 1.0.0}\nspec:\n  metrics: {f1: high}\n  lineage: {parent_models: []}\n")
	head := repo.Commit("one more")
	ws := workspace{dir: repo.Dir, base: base, head: head}

	all := runAction(t, bin, ws, map[string]string{"path": "ml"})
	changed := runAction(t, bin, ws, map[string]string{"path": "ml", "changed-only": "true"})
	var allRep, changedRep struct{ Findings []struct{ File string } }
	require.NoError(t, json.Unmarshal(all.jsonFile, &allRep))
	require.NoError(t, json.Unmarshal(changed.jsonFile, &changedRep))
	require.NotEmpty(t, changedRep.Findings)
	assert.Greater(t, len(allRep.Findings), len(changedRep.Findings))
	for _, f := range changedRep.Findings {
		assert.True(t, strings.HasPrefix(f.File, "ml/models/new/1.0.0/"), "changed-only reports only the changed model, found %s", f.File)
	}
	assert.Contains(t, changed.stdout, "file=ml/models/new/1.0.0/model.yaml,line=5")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if actionBinary.path != "" {
		os.RemoveAll(filepath.Dir(actionBinary.path))
	}
	os.Exit(code)
}

func TestActionRepositoryConfigAndPolicies(t *testing.T) {
	bin := buildAction(t)
	repo := gittest.New(t)
	repo.CopyDir("../testdata/example")
	repo.Write(".github/modelgate.yml", "fail-on: never\npolicy:\n  dirs: [policies]\n")
	repo.Write("policies/owner.rego", "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.metadata.labels.team == \"risk\"\n\tmsg := sprintf(\"%s: the risk team's models need a second owner\", [input.metadata.name])\n}\n")
	repo.Write("extra/conftest.rego", "package extra\n\nwarn contains {\"msg\": \"spec.task is set\", \"path\": \"spec.task\"} if input.spec.task\n")
	head := repo.Commit("models and policies")
	ws := workspace{dir: repo.Dir, base: head, head: head}

	run := runAction(t, bin, ws, map[string]string{"policy": "extra", "namespace": "extra\nmain"})
	assert.Equal(t, exitOK, run.code, "fail-on: never from .github/modelgate.yml")
	assert.Equal(t, "2", run.outputs["errors"], run.stdout)
	assert.Contains(t, run.stdout, "::error col=1,file=models/fraud-detector/3.1.0/model.yaml,line=1,title=modelgate%3A main.deny::fraud-detector: the risk team's models need a second owner")
	assert.Contains(t, run.stdout, "::warning col=3,file=models/churn-predictor/1.0.0/model.yaml,line=10,title=modelgate%3A extra.warn::spec.task is set")

	strict := runAction(t, bin, ws, map[string]string{"fail-on": "error"})
	assert.Equal(t, exitFindings, strict.code, "the input overrides the configuration")

	// A broken configuration in the pull request is not obeyed: the base's is.
	repo.Write(".github/modelgate.yml", "fail-on: sometimes\n")
	pr := runAction(t, bin, ws, nil)
	assert.Equal(t, exitOK, pr.code, pr.stdout)
	bad := runAction(t, bin, ws, map[string]string{"trust-pr-policy": "true"})
	assert.Equal(t, exitUsage, bad.code)
	assert.Contains(t, bad.stdout, "::error::.github/modelgate.yml: fail-on: \"sometimes\"")
}

func TestPullRequestCannotRewriteItsRules(t *testing.T) {
	bin := buildAction(t)
	const denyRisk = "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.metadata.labels.team == \"risk\"\n\tmsg := \"the risk team's models need a second owner\"\n}\n"
	tests := []struct {
		name        string
		change      func(r *gittest.Repo)
		inputs      map[string]string
		code        int
		errors      string
		changedRule []string
		summary     []string
	}{
		{
			name:        "deletes the policy directory",
			change:      func(r *gittest.Repo) { r.Git("rm", "-rq", "policies") },
			code:        exitFindings,
			errors:      "2",
			changedRule: []string{"policies/owner.rego"},
			summary:     []string{"| `main.deny` | removed |"},
		},
		{
			name: "adds a policy that allows everything and empties the real one",
			change: func(r *gittest.Repo) {
				r.Write("policies/allow.rego", "package allow\n\ndeny := set()\n")
				r.Write("policies/owner.rego", "package main\n\ndeny := set()\n")
			},
			code:        exitFindings,
			errors:      "2",
			changedRule: []string{"policies/allow.rego", "policies/owner.rego"},
			summary:     []string{"| `allow.deny` | added |", "| `main.deny` | changed |", "**not applied**"},
		},
		{
			name: "lowers the bar in .github/modelgate.yml",
			change: func(r *gittest.Repo) {
				r.Write(".github/modelgate.yml", "fail-on: never\npolicy:\n  default-bundle: false\n")
			},
			code:        exitFindings,
			errors:      "2",
			changedRule: []string{".github/modelgate.yml"},
		},
		{
			name: "opted out with trust-pr-policy",
			change: func(r *gittest.Repo) {
				r.Git("rm", "-rq", "policies")
				r.Write(".github/modelgate.yml", "fail-on: error\n")
			},
			inputs: map[string]string{"trust-pr-policy": "true"},
			code:   exitOK,
			errors: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := gittest.New(t)
			repo.CopyDir("../testdata/example")
			repo.Write(".github/modelgate.yml", "fail-on: error\npolicy:\n  dirs: [policies]\n")
			repo.Write("policies/owner.rego", denyRisk)
			base := repo.Commit("models and rules")
			repo.Git("checkout", "-q", "-b", "pr")
			tt.change(repo)
			head := repo.Commit("pr")

			run := runAction(t, bin, workspace{dir: repo.Dir, base: base, head: head}, tt.inputs)
			assert.Equal(t, tt.code, run.code, run.stdout+run.stderr)
			assert.Equal(t, tt.errors, run.outputs["errors"], run.stdout)
			for _, f := range tt.changedRule {
				assert.Contains(t, run.stdout, "::warning col=1,file="+f+",line=1,title=modelgate%3A trust/policy-changed (Policy changed in this pull request)::policy changed in this pull request; evaluated with the base branch's policy")
			}
			if len(tt.changedRule) == 0 {
				assert.NotContains(t, run.stdout, "trust/policy-changed")
			}
			for _, line := range tt.summary {
				assert.Contains(t, run.summary, line)
			}
		})
	}
}

func TestHostileManifestTextStaysData(t *testing.T) {
	bin := buildAction(t)
	repo := gittest.New(t)
	repo.CopyDir("../testdata/example")
	base := repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	hostile := "x::error file=a,line=1::injected %0A\nstolen=value\n</details><img src=x onerror=alert(1)> @org/team\nclick m0 href \"javascript:alert(1)\"" + strings.Repeat(" padding", 100_000/8)
	quoted, err := json.Marshal(hostile)
	require.NoError(t, err)
	src, err := os.ReadFile(filepath.Join(repo.Dir, "models/churn-predictor/2.0.0/model.yaml"))
	require.NoError(t, err)
	manifest := strings.Replace(string(src), "license: mit", "license: "+string(quoted), 1)
	repo.Write("models/churn-predictor/2.0.0/model.yaml", manifest)
	repo.Write("models/churn-predictor/2.0.0/lineage.json", `{"model_id": "churn-predictor", "version": "2.0.0", "parent_models": [`+string(quoted)+`], "training_data": {"versions": [], "checksums": []}}`)
	head := repo.Commit("hostile")

	run := runAction(t, bin, workspace{dir: repo.Dir, base: base, head: head}, map[string]string{"sarif-file": "modelgate.sarif"})
	require.Equal(t, exitFindings, run.code, run.stderr)
	command := regexp.MustCompile(`^::(error|warning|notice)( [^:\n]*)?::`)
	for _, line := range strings.Split(strings.TrimSpace(run.stdout), "\n") {
		require.Regexp(t, command, line)
		assert.Less(t, len(line), 10_000, "messages are cut")
	}
	assert.Contains(t, run.stdout, "::licence x::error file=a,line=1::injected %250A%0Astolen=value%0A")

	assert.ElementsMatch(t, []string{"errors", "warnings", "models", "report"}, keys(run.outputs), "no forged output")
	for _, bad := range []string{"<img", "</details><", "@org/team", "\nclick m0", "\nstolen=value", "\n::error"} {
		assert.NotContains(t, run.summary, bad)
	}
	assert.Less(t, len(run.summary), 200_000, "a 100 KB line is cut in the summary")

	sch, err := jsonschema.NewCompiler().Compile("../testdata/sarif/sarif-2.1.0-rtm.5.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(run.sarif))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	out, err := actionmeta.ReadOutputs(path)
	require.NoError(t, err)
	return out
}
