package workflowcheck

import (
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

	"github.com/modelgate/modelgate/internal/needs"
)

// root is the repository, seen from this package's directory.
const root = "../.."

// published is how a user's workflow names the action; the lint runs it as
// the local action of a project holding this repository's action.yml, so
// that actionlint checks every input and output against it.
const published = "uses: modelgate/modelgate@v1"

func TestActionMetadataValidates(t *testing.T) {
	v := FindValidator(t, root)
	require.NoError(t, v.Check(t.Context(), filepath.Join(root, "action.yml")))
}

func TestValidatorRefusesBadMetadata(t *testing.T) {
	v := FindValidator(t, root)
	const good = "name: x\ndescription: y\nruns:\n  using: docker\n  image: docker://ghcr.io/modelgate/modelgate-action:1\n"
	tests := []struct {
		name, yaml, message string
	}{
		{"a plain scalar holding ': '", good + "inputs:\n  base-ref:\n    description: Revision to compare with. Default: the base\n", "line 8 column 51: Parse Error: mapping values are not allowed"},
		{"a misspelled key", strings.Replace(good, "image:", "imag:", 1), "Additional property 'imag' is not allowed"},
		{"an input without a description", good + "inputs:\n  path:\n    default: .\n", "/inputs/path/description: This property is required"},
		{"no runs", "name: x\ndescription: y\n", "This property is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "action.yml")
			require.NoError(t, os.WriteFile(path, []byte(tt.yaml), 0o644))
			err := v.Check(t.Context(), path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// workflow is one workflow file to check, with where it came from.
type workflow struct {
	from, text string
}

// repositoryWorkflows gathers every workflow users read: the repository's
// own, the examples, and those written out in the README.
func repositoryWorkflows(t *testing.T) []workflow {
	t.Helper()
	var out []workflow
	for _, pattern := range []string{".github/workflows/*.yml", "examples/workflows/*.yml"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			rel, _ := filepath.Rel(root, f)
			out = append(out, workflow{from: rel, text: string(src)})
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	blocks, err := MarkdownWorkflows(readme)
	require.NoError(t, err, "README.md")
	require.NotEmpty(t, blocks, "the README shows workflows")
	for _, b := range blocks {
		out = append(out, workflow{from: "README.md line " + strconv.Itoa(b.Line) + " (" + b.Name + ")", text: b.Text})
	}
	return out
}

func TestWorkflowsLint(t *testing.T) {
	lint := FindLinter(t)
	v := FindValidator(t, root)
	for _, w := range repositoryWorkflows(t) {
		t.Run(w.from, func(t *testing.T) {
			dir := project(t, w.text)
			assert.NoError(t, lint.Check(t.Context(), dir, ".github/workflows/workflow.yml"))
			assert.NoError(t, v.Check(t.Context(), filepath.Join(dir, ".github/workflows/workflow.yml")))
		})
	}
}

func TestLinterRefusesBadWorkflows(t *testing.T) {
	lint := FindLinter(t)
	const head = "name: x\non: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
	tests := []struct {
		name, yaml, message string
	}{
		{"an input the action does not have", head + "      - " + published + "\n        with: {fail-onn: error}\n", `input "fail-onn" is not defined in action "modelgate"`},
		{"an output the action does not have", head + "      - " + published + "\n        id: mg\n      - run: echo ${{ steps.mg.outputs.findings }}\n", `property "findings" is not defined`},
		{"a key GitHub does not know", strings.Replace(head, "runs-on:", "run-on:", 1) + "      - run: true\n", `unexpected key "run-on"`},
		{"broken YAML", head + "      - run: [\n", "could not parse as YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := lint.Check(t.Context(), project(t, tt.yaml), ".github/workflows/workflow.yml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// project lays out a project with the workflow and this repository's
// action.yml at its root, the workflow's published action turned local.
func project(t *testing.T, workflow string) string {
	t.Helper()
	dir := t.TempDir()
	// actionlint finds a project's root, where local actions live, by its .git.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755))
	// The action: its metadata and the image it names, when it is built.
	for _, name := range []string{"action.yml", "Dockerfile"} {
		src, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) && name != "action.yml" {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), src, 0o644))
	}
	local := strings.ReplaceAll(workflow, published, "uses: ./")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".github", "workflows", "workflow.yml"), []byte(local), 0o644))
	return dir
}

func TestCIInstallsThisActionlint(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	require.NoError(t, err)
	assert.Contains(t, string(script), "actionlint_version="+ActionlintVersion)
}

// TestReleaseChecksTheActionImage runs the release workflow's own check
// that action.yml names the image of the version being tagged.
func TestReleaseChecksTheActionImage(t *testing.T) {
	bash := needs.Command(t, "bash", "apt-get install bash")
	src, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Env   map[string]string `yaml:"env"`
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	var script string
	for _, s := range wf.Jobs["images"].Steps {
		if s.Name == "action.yml runs this release's image" {
			script = s.Run
		}
	}
	require.NotEmpty(t, script, "the release checks action.yml")
	meta, err := os.ReadFile(filepath.Join(root, "action.yml"))
	require.NoError(t, err)
	image := regexp.MustCompile(`(?m)^  image: docker://ghcr\.io/modelgate/modelgate-action:(\d+\.\d+\.\d+)$`).FindSubmatch(meta)
	require.NotNil(t, image, "action.yml runs the released image, by version")
	version := string(image[1])

	run := func(tag string) (string, error) {
		cmd := exec.Command(bash, "-e", "-c", script)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GITHUB_REF_NAME="+tag, "IMAGE=ghcr.io/modelgate/modelgate-action")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("v" + version)
	assert.NoError(t, err, out)
	out, err = run("v9.9.9")
	assert.Error(t, err)
	assert.Contains(t, out, "::error file=action.yml::runs.image must be docker://ghcr.io/modelgate/modelgate-action:9.9.9 for the release v9.9.9")
}
