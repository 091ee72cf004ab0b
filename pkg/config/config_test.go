package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`
manifests: "ml/**/model.yaml"
fail-on: warning
policy:
  dirs: [policy/, more/policies]
  data: [policy/thresholds.yaml]
  namespaces: [main, custom]
  default-bundle: false
rollout:
  environment: production
  stages: [{traffic: 5, analysis: 30m}, {traffic: 100}]
bot:
  allow-forks: true
`))
	require.NoError(t, err)
	assert.Equal(t, "ml/**/model.yaml", c.Manifests)
	assert.Equal(t, "warning", c.FailOn)
	assert.Equal(t, []string{"policy/", "more/policies"}, c.Policy.Dirs)
	assert.False(t, c.Policy.UsesDefaultBundle())
	assert.True(t, c.Bot.AllowForks)
	assert.Equal(t, "production", c.Rollout["environment"])
	assert.Equal(t, []string{Path, "policy/", "more/policies", "policy/thresholds.yaml"}, c.PolicyPaths())
}

func TestParseRefusesBadConfig(t *testing.T) {
	tests := []struct{ name, yaml, msg string }{
		{"unknown field", "polcy: {dirs: [x]}\n", ".github/modelgate.yml:1: unknown key polcy (valid keys here: manifests, fail-on, policy, rollout, bot)"},
		{"typo of fail-on", "manifests: x\nfail_on: warning\n", ".github/modelgate.yml:2: unknown key fail_on (valid keys here: manifests, fail-on, policy, rollout, bot)"},
		{"typo in a section", "policy:\n  dirs: [a]\n  namespace: [main]\n", ".github/modelgate.yml:3: unknown key namespace (valid keys here: dirs, data, namespaces, all-namespaces, default-bundle)"},
		{"typo in bot", "bot:\n  allow_forks: true\n", ".github/modelgate.yml:2: unknown key allow_forks (valid keys here: allow-forks)"},
		{"bad fail-on", "fail-on: sometimes\n", `fail-on: "sometimes"`},
		{"path out", "policy: {dirs: [../../etc]}\n", "inside the repository"},
		{"absolute path", "policy: {data: [/etc/passwd]}\n", "inside the repository"},
		{"not yaml", "a: [\n", "line"},
		{"wrong type", "policy: {dirs: yes}\n", ".github/modelgate.yml:1: cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), ".github/modelgate.yml")
			assert.NotContains(t, err.Error(), "config.", "no Go type name")
		})
	}
}

func TestLoad(t *testing.T) {
	root := t.TempDir()
	c, err := Load(root)
	require.NoError(t, err)
	assert.True(t, c.Policy.UsesDefaultBundle(), "no file: defaults")
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".github"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, Path), []byte("fail-on: never\n"), 0o644))
	c, err = Load(root)
	require.NoError(t, err)
	assert.Equal(t, "never", c.FailOn)
	require.NoError(t, os.WriteFile(filepath.Join(root, Path), make([]byte, MaxBytes+10), 0o644))
	_, err = Load(root)
	assert.ErrorContains(t, err, "over")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("policy: {dirs: [a]}\n"))
	f.Add([]byte("rollout: {stages: [{traffic: 5}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
