package governance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDataCacheGet(t *testing.T) {
	data, err := dataValue(map[string]any{
		"modelgate": map[string]any{"config": map[string]any{"stages": []any{"dev", "prod"}}},
		"system":    map[string]any{"hidden": true},
	})
	require.NoError(t, err)
	c := dataCache{data}
	for _, tc := range []struct {
		ref  string
		want string // "" for nil: OPA reads the store
	}{
		{"data.modelgate.config.stages", `["dev", "prod"]`},
		{"data.modelgate.config.stages[1]", `"prod"`},
		{"data.modelgate.config", `{"stages": ["dev", "prod"]}`},
		{"data.modelgate.missing", ""},
		{"data.modelgate.config.stages[7]", ""},
		{"data", ""}, // the store drops the system key of the root
		{"input.modelgate", ""},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			got := c.Get(ast.MustParseRef(tc.ref))
			if tc.want == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, ast.MustParseTerm(tc.want).Value.String(), got.String())
		})
	}
}

// TestDataCacheServesOverrides checks that the shared cache serves the data
// as merged at Load: a --data file's value, not the bundle's.
func TestDataCacheServesOverrides(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strict.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"modelgate": {"config": {"lifecycle": {"stages": ["only"]}}}}`), 0o644))
	e, err := Load(t.Context(), Options{DefaultBundle: true, DataFiles: []string{file}})
	require.NoError(t, err)
	got := e.data.Get(ast.MustParseRef("data.modelgate.config.lifecycle.stages"))
	require.NotNil(t, got)
	assert.Equal(t, `["only"]`, got.String())
}
