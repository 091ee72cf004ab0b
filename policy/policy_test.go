package policy_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/governance"
)

// TestRegoUnitTests runs the bundle's *_test.rego files, as
// `go run ./action verify policy/` and `opa test policy/` do. The per-test
// limit guards users' runs; under -race on a loaded CI machine a correct
// test can outlast the default, so it is raised here.
func TestRegoUnitTests(t *testing.T) {
	report, err := governance.Verify(context.Background(), governance.VerifyOptions{PolicyDirs: []string{"."}, Timeout: time.Minute})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, report.Write(&out, testing.Verbose()))
	t.Log("\n" + out.String())
	require.True(t, report.OK(), "Rego unit tests failed")
}
