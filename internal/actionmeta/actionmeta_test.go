package actionmeta

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadTheRepositorysActionYML(t *testing.T) {
	m, err := Read("../../action.yml")
	require.NoError(t, err, "action.yml must parse as GitHub reads it")
	assert.Equal(t, "docker", m.Runs.Using)
	assert.NotEmpty(t, m.Description)
	for name, in := range m.Inputs {
		assert.NotEmpty(t, in.Description, "input %s has no description", name)
	}
	for name, out := range m.Outputs {
		assert.NotEmpty(t, out.Description, "output %s has no description", name)
	}
}

func TestReadRefusesWhatGitHubRefuses(t *testing.T) {
	tests := []struct{ name, yaml, message string }{
		{"a plain scalar holding ': '", "name: x\ndescription: Default: the base\n", "mapping values are not allowed"},
		{"a key the syntax does not know", "name: x\nruns:\n  using: docker\n  imag: Dockerfile\n", "field imag not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "action.yml")
			require.NoError(t, os.WriteFile(path, []byte(tt.yaml), 0o644))
			_, err := Read(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestInvocation(t *testing.T) {
	var m Metadata
	m.Inputs = map[string]Input{"fail-on": {Default: "error"}, "sarif-file": {Default: "modelgate.sarif"}, "with space": {Default: "."}}
	m.Runs.Args = []string{"github", "--path=${{ inputs.with space }}", "${{inputs.fail-on}}"}
	m.Runs.Env = map[string]string{"MODE": "ci"}
	env, args, err := m.Invocation(map[string]string{"fail-on": "never"})
	require.NoError(t, err)
	assert.Equal(t, []string{"INPUT_FAIL-ON=never", "INPUT_SARIF-FILE=modelgate.sarif", "INPUT_WITH_SPACE=.", "MODE=ci"}, env,
		"hyphens kept as GitHub keeps them, defaults applied, spaces made underscores")
	assert.Equal(t, []string{"github", "--path=${{ inputs.with space }}", "never"}, args, "only names GitHub accepts are expanded")

	_, _, err = m.Invocation(map[string]string{"fail-onn": "never"})
	assert.EqualError(t, err, `input "fail-onn" is not declared in action.yml`)
}

func TestReadOutputs(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		path := filepath.Join(dir, "output")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		return path
	}
	got, err := ReadOutputs(write("errors=3\nmodels<<ghadelim_1\n[\"a\",\n\"b\"]\nghadelim_1\nreport=x=y\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"errors": "3", "models": "[\"a\",\n\"b\"]", "report": "x=y"}, got)

	got, err = ReadOutputs(filepath.Join(dir, "none"))
	require.NoError(t, err)
	assert.Empty(t, got)

	for content, msg := range map[string]string{
		"a=1\na=2\n":             "output a set twice",
		"a<<EOF\nnever closed\n": "output a: no closing EOF",
		"just text\n":            `line "just text" is neither`,
	} {
		_, err := ReadOutputs(write(content))
		assert.ErrorContains(t, err, msg)
	}
}
