package governance

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerify(t *testing.T) {
	report, err := Verify(context.Background(), VerifyOptions{PolicyDirs: []string{"testdata/verify"}})
	require.NoError(t, err)
	assert.False(t, report.OK())
	assert.Equal(t, map[string]int{"PASS": 2, "FAIL": 1, "ERROR": 1, "SKIP": 1}, withZeros(report.Count()))

	var out bytes.Buffer
	require.NoError(t, report.Write(&out, false))
	got := regexp.MustCompile(`\(\d[^)]*\)`).ReplaceAllString(out.String(), "(T)")
	golden := filepath.Join("testdata", "golden", "verify.txt")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func withZeros(n map[string]int) map[string]int {
	for _, k := range []string{"PASS", "FAIL", "ERROR", "SKIP"} {
		n[k] += 0
	}
	return n
}

func TestVerifyFilterAndDefaultBundle(t *testing.T) {
	report, err := Verify(context.Background(), VerifyOptions{PolicyDirs: []string{"testdata/verify"}, Run: "big"})
	require.NoError(t, err)
	assert.True(t, report.OK())
	assert.Len(t, report.Results, 1)

	bundle, err := Verify(context.Background(), VerifyOptions{DefaultBundle: true})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, bundle.Write(&out, false))
	assert.True(t, bundle.OK(), out.String())
	assert.Greater(t, len(bundle.Results), 80)
}

func TestVerifyErrors(t *testing.T) {
	tests := []struct {
		name string
		opts VerifyOptions
		want string
	}{
		{"syntax error", VerifyOptions{PolicyDirs: []string{"testdata/syntax"}}, "testdata/syntax/bad.rego:4"},
		{"sandbox", VerifyOptions{PolicyDirs: []string{"testdata/http"}}, "unsafe built-in function calls in expression: http.send"},
		{"bad filter", VerifyOptions{PolicyDirs: []string{"testdata/verify"}, Run: "("}, "error parsing regexp"},
		{"no such dir", VerifyOptions{PolicyDirs: []string{"testdata/none"}}, "testdata/none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tt.opts)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestVerifyReportWithoutTestsIsNotOK(t *testing.T) {
	assert.False(t, VerifyReport{}.OK())
}
