package imagetest

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/actionmeta"
	"github.com/modelgate/modelgate/internal/gittest"
)

// runnerUID is the user that owns the workspace on GitHub's hosted
// runners; the action's container runs as root.
const runnerUID = 1001

// checkout is a repository as actions/checkout leaves it in the workspace.
type checkout struct {
	dir, base, head string
}

// pullRequest is the example repository with a pull request on top that
// lowers fraud-detector 3.2.0's F1 and adds 3.3.0, cloned as
// actions/checkout clones it (depth 0 fetches everything; 1 the head
// alone), and owned by the runner's user.
func pullRequest(t testing.TB, depth int) checkout {
	t.Helper()
	origin := gittest.New(t)
	origin.CopyDir(filepath.Join(root, "testdata/example"))
	base := origin.Commit("models")
	origin.Git("checkout", "-q", "-b", "pr")
	fd := filepath.Join(origin.Dir, "models/fraud-detector/3.2.0/model.yaml")
	src, err := os.ReadFile(fd)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fd, bytes.Replace(src, []byte("f1: 0.95"), []byte("f1: 0.91"), 1), 0o644))
	origin.Write("models/fraud-detector/3.3.0/model.yaml", strings.ReplaceAll(string(src), "version: 3.2.0", "version: 3.3.0"))
	origin.Write("models/fraud-detector/3.3.0/lineage.json", `{"model_id": "fraud-detector", "version": "3.3.0", "parent_models": ["fraud-detector@3.2.0"]}`)
	head := origin.Commit("pr")

	ws := filepath.Join(t.TempDir(), "workspace")
	args := []string{"clone", "-q", "--no-local", "file://" + origin.Dir, ws}
	if depth > 0 {
		args = []string{"clone", "-q", "--depth", "1", "--branch", "pr", "file://" + origin.Dir, ws}
	}
	git(t, "", args...)
	git(t, ws, "checkout", "-q", head)
	chownTree(t, ws, runnerUID)
	return checkout{dir: ws, base: base, head: head}
}

func git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

func chownTree(t testing.TB, dir string, uid int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, uid)
	}))
}

// step is one run of the action's container and what it left.
type step struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
	sarif, report  []byte
}

// runner says how the test's runner starts the step.
type runner struct {
	event      map[string]any // nil: no GITHUB_EVENT_PATH at all
	eventName  string
	with       map[string]string
	withoutEnv []string // image variables to drop, to show what they do
}

// runAction runs the action's image as GitHub's runner runs a container
// action: the workspace, home, workflow and file-command directories
// bind-mounted under /github, the working directory the workspace, the
// INPUT_ variables and arguments from action.yml, the GITHUB_ variables,
// and the image's entrypoint, as root.
func runAction(t testing.TB, img *Image, co checkout, r runner) step {
	t.Helper()
	temp := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"home", "workflow", "file_commands"} {
		dirs[d] = filepath.Join(temp, d)
		require.NoError(t, os.MkdirAll(dirs[d], 0o755))
	}
	env := []string{
		"HOME=/github/home", "GITHUB_ACTIONS=true", "CI=true", "RUNNER_OS=Linux", "RUNNER_TEMP=/home/runner/work/_temp",
		"GITHUB_WORKSPACE=/github/workspace", "GITHUB_EVENT_NAME=" + r.eventName,
		"GITHUB_OUTPUT=/github/file_commands/set_output_1", "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_1",
		"GITHUB_REPOSITORY=acme/models", "GITHUB_SERVER_URL=https://github.com", "GITHUB_API_URL=https://api.github.com",
		"GITHUB_SHA=" + co.head,
	}
	if r.eventName == "pull_request" {
		env = append(env, "GITHUB_BASE_REF=main", "GITHUB_HEAD_REF=pr")
	}
	if r.event != nil {
		data, err := json.Marshal(r.event)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dirs["workflow"], "event.json"), data, 0o644))
		env = append(env, "GITHUB_EVENT_PATH=/github/workflow/event.json")
	}
	inputs, args, err := images.actionYML.Invocation(r.with)
	require.NoError(t, err)
	// docker run -e: the runner's variables over the image's.
	image := *img
	image.Env = slices.DeleteFunc(slices.Clone(img.Env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(r.withoutEnv, name)
	})
	var stdout, stderr bytes.Buffer
	c := Container{
		Root: img.Root,
		Mounts: []Mount{
			{Source: co.dir, Target: "/github/workspace"},
			{Source: dirs["home"], Target: "/github/home"},
			{Source: dirs["workflow"], Target: "/github/workflow"},
			{Source: dirs["file_commands"], Target: "/github/file_commands"},
		},
		Env: image.Environ(append(env, inputs...)...), Dir: "/github/workspace",
		Args: append(append([]string{}, img.Entrypoint...), args...), Stdout: &stdout, Stderr: &stderr,
	}
	err = c.Run(t.Context())
	s := step{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		s.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	require.NotEqual(t, 125, s.code, "the container could not start: %s", s.stderr)
	s.outputs = mustOutputs(t, filepath.Join(dirs["file_commands"], "set_output_1"))
	summary, _ := os.ReadFile(filepath.Join(dirs["file_commands"], "step_summary_1"))
	s.summary = string(summary)
	s.sarif, _ = os.ReadFile(filepath.Join(co.dir, orDefault(r.with["sarif-file"], images.actionYML.Inputs["sarif-file"].Default)))
	s.report, _ = os.ReadFile(filepath.Join(co.dir, orDefault(r.with["json-file"], images.actionYML.Inputs["json-file"].Default)))
	return s
}

func prEvent(co checkout) map[string]any {
	return map[string]any{"pull_request": map[string]any{"number": 7, "base": map[string]any{"sha": co.base, "ref": "main"}, "head": map[string]any{"sha": co.head}}}
}

func TestActionImageOnAPullRequest(t *testing.T) {
	img, _ := requireImages(t)
	co := pullRequest(t, 0)
	s := runAction(t, img, co, runner{event: prEvent(co), eventName: "pull_request", with: map[string]string{"sarif-file": "reports/modelgate.sarif"}})

	require.Equal(t, 1, s.code, "findings at error level: %s%s", s.stdout, s.stderr)
	command := regexp.MustCompile(`^::(error|warning|notice)( [^:\n]*)?::`)
	lines := strings.Split(strings.TrimSpace(s.stdout), "\n")
	for _, line := range lines {
		require.Regexp(t, command, line, "every line of stdout is a workflow command")
	}
	assert.Contains(t, lines, "::error col=5,file=models/fraud-detector/3.2.0/model.yaml,line=16,title=modelgate%3A modelgate.regression.deny_against_base (Regression against the base branch)::f1 regressed against the base branch: 0.95 -> 0.91 (tolerance 0.01)",
		"the base branch was read through git, in a workspace another user owns")
	assert.Equal(t, `["fraud-detector@3.2.0","fraud-detector@3.3.0"]`, s.outputs["models"])
	assert.Equal(t, "modelgate-report.json", s.outputs["report"])
	assert.NotEmpty(t, s.outputs["errors"])
	assert.Contains(t, s.summary, "## ❌ modelgate failed")
	assert.Contains(t, s.summary, "| `fraud-detector@3.2.0` | f1 | 0.95 (3.2.0) | 0.91 | ▼ -4.2 % 🔴 |")
	assert.Contains(t, s.summary, "```mermaid\nflowchart TD")
	requireSARIF(t, s.sarif)
	var rep struct {
		Passed bool
		Base   struct{ Commit string }
	}
	require.NoError(t, json.Unmarshal(s.report, &rep))
	assert.False(t, rep.Passed)
	assert.Equal(t, co.base, rep.Base.Commit)
}

// TestActionImageNeedsSafeDirectory shows what the image's git
// configuration is for: without it, git refuses the workspace that the
// runner's user owns, and the action cannot read the base branch.
func TestActionImageNeedsSafeDirectory(t *testing.T) {
	img, _ := requireImages(t)
	co := pullRequest(t, 0)
	s := runAction(t, img, co, runner{event: prEvent(co), eventName: "pull_request", withoutEnv: []string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}})
	assert.Equal(t, 2, s.code, s.stdout+s.stderr)
	assert.Contains(t, s.stdout+s.stderr, "dubious ownership")
}

func TestActionImageOnAShallowCheckout(t *testing.T) {
	img, _ := requireImages(t)
	co := pullRequest(t, 1)
	s := runAction(t, img, co, runner{event: prEvent(co), eventName: "pull_request"})
	assert.Equal(t, 2, s.code, "without the base commit the pull request's own rules are not trusted: %s", s.stdout+s.stderr)
	assert.Contains(t, s.stdout, "::error::read the base's policies: resolve \""+co.base+"\"")
}

func TestActionImageWithoutAnEventFile(t *testing.T) {
	img, _ := requireImages(t)
	co := pullRequest(t, 0)
	s := runAction(t, img, co, runner{eventName: "pull_request"})
	require.Equal(t, 1, s.code, s.stdout+s.stderr)
	assert.Contains(t, s.stdout, "f1 regressed against the base branch: 0.95 -> 0.91", "compared with origin/$GITHUB_BASE_REF")
	assert.Equal(t, `["fraud-detector@3.2.0","fraud-detector@3.3.0"]`, s.outputs["models"])
	var rep struct{ Base struct{ Ref, Commit string } }
	require.NoError(t, json.Unmarshal(s.report, &rep))
	assert.Equal(t, co.base, rep.Base.Commit)
}

func requireSARIF(t *testing.T, sarif []byte) {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join(root, "testdata/sarif/sarif-2.1.0-rtm.5.json"))
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sarif))
	require.NoError(t, err, "SARIF written")
	require.NoError(t, sch.Validate(doc))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func mustOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	out, err := actionmeta.ReadOutputs(path)
	require.NoError(t, err)
	return out
}
