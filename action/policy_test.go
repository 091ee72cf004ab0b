package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const policies = "testdata/policies"

func TestValidatePolicyFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		lacks    []string
	}{
		{
			name:     "default bundle",
			args:     []string{"validate", example},
			code:     exitOK,
			contains: []string{"[modelgate.lineage.warn_external_parent]"},
		},
		{
			name:     "user policy and data beside the default bundle",
			args:     []string{"validate", "--policy", policies + "/conftest", "--data", policies + "/tasks.yaml", example},
			code:     exitOK,
			contains: []string{"task embedding is not one of [\"classification\"]  [main.warn]", "[modelgate.lineage.warn_external_parent]"},
		},
		{
			name:     "no default policy",
			args:     []string{"validate", "--no-default-policy", "--policy", policies + "/conftest", "--data", policies + "/tasks.yaml", example},
			code:     exitOK,
			contains: []string{"[main.warn]"},
			lacks:    []string{"modelgate."},
		},
		{
			name:  "a namespace without the user's main",
			args:  []string{"validate", "--no-default-policy", "--all-namespaces", "--policy", policies + "/conftest", example},
			code:  exitOK,
			lacks: []string{"modelgate."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			for _, s := range tt.contains {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.lacks {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestValidatePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"sandboxed built-in", []string{"validate", "--policy", policies + "/broken", example},
			"testdata/policies/broken/bad.rego:4: rego_type_error: unsafe built-in function calls in expression: http.send"},
		{"missing policy directory", []string{"validate", "--policy", "no/such/dir", example}, "no/such/dir"},
		{"unknown namespace", []string{"validate", "--namespace", "nope", example}, `namespace "nope"`},
		{"missing data file", []string{"validate", "--data", "no/such.json", example}, "load data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tt.err)
		})
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"default bundle", []string{"verify"}, exitOK, " passed, 0 failed, 0 errors"},
		{"the bundle's directory", []string{"verify", "../policy"}, exitOK, " passed, 0 failed, 0 errors"},
		{"user tests, verbose", []string{"verify", "-v", policies + "/conftest"}, exitOK, "PASS - testdata/policies/conftest/frameworks_test.rego:5"},
		{"a failing test", []string{"verify", policies + "/failing"}, exitFindings, "FAIL - testdata/policies/failing/always_test.rego:3"},
		{"filter", []string{"verify", "--run", "sklearn", policies + "/conftest"}, exitOK, "1 tests, 1 passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, out, tt.contains)
		})
	}
	code, _, stderr := runCLI("verify", policies+"/broken")
	assert.Equal(t, exitUsage, code)
	assert.True(t, strings.Contains(stderr, "http.send"), stderr)
}
