package policy_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/governance"
)

// TestRegoUnitTests runs the bundle's *_test.rego files, as
// `go run ./action verify policy/` and `opa test policy/` do.
func TestRegoUnitTests(t *testing.T) {
	report, err := governance.Verify(context.Background(), governance.VerifyOptions{PolicyDirs: []string{"."}})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, report.Write(&out, testing.Verbose()))
	t.Log("\n" + out.String())
	require.True(t, report.OK(), "Rego unit tests failed")
}
