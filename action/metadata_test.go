package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// actionMetadata is action.yml as GitHub's loader reads it: the keys of
// the action metadata syntax, and nothing else.
type actionMetadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description        string `yaml:"description"`
		Required           bool   `yaml:"required"`
		Default            string `yaml:"default"`
		DeprecationMessage string `yaml:"deprecationMessage"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using      string            `yaml:"using"`
		Image      string            `yaml:"image"`
		Args       []string          `yaml:"args"`
		Env        map[string]string `yaml:"env"`
		Entrypoint string            `yaml:"entrypoint"`
	} `yaml:"runs"`
}

// readActionMetadata parses action.yml strictly: a YAML error or a key
// the metadata syntax does not know fails, as it fails GitHub's loader.
func readActionMetadata(t *testing.T) actionMetadata {
	t.Helper()
	src, err := os.ReadFile("../action.yml")
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var m actionMetadata
	require.NoError(t, dec.Decode(&m), "action.yml must parse as GitHub reads it")
	return m
}

func TestActionMetadataParses(t *testing.T) {
	m := readActionMetadata(t)
	assert.Equal(t, "docker", m.Runs.Using)
	assert.NotEmpty(t, m.Description)
	for name, in := range m.Inputs {
		assert.NotEmpty(t, in.Description, "input %s has no description", name)
	}
	for name, out := range m.Outputs {
		assert.NotEmpty(t, out.Description, "output %s has no description", name)
	}
}

func TestActionInvocationFollowsActionYML(t *testing.T) {
	meta := readActionMetadata(t)
	meta.Inputs["with space"] = meta.Inputs["path"]
	meta.Runs.Args = []string{"github", "--path=${{ inputs.path }}"}
	env, args := actionInvocation(t, meta, map[string]string{"fail-on": "never"})
	assert.Contains(t, env, "INPUT_FAIL-ON=never", "hyphens kept, as GitHub keeps them")
	assert.Contains(t, env, "INPUT_SARIF-FILE=modelgate.sarif", "defaults applied")
	assert.Contains(t, env, "INPUT_WITH_SPACE=.", "spaces become underscores")
	assert.Len(t, env, len(meta.Inputs), "one variable per declared input")
	assert.Equal(t, []string{"github", "--path=."}, args)
}
