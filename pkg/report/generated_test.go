package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/internal/repogen"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/governance"
)

// TestJSONReportsOfGeneratedRepositories pins the findings of whole checks
// on generated repositories, clean and spoiled the ways large repositories
// go wrong, with the default bundle, with a conftest-style policy of the
// manifest alone, and without policies: a change to how a check reads,
// holds or evaluates its files must leave these reports byte for byte as
// they are (go test -update rewrites them after a change meant to alter
// them).
func TestJSONReportsOfGeneratedRepositories(t *testing.T) {
	clean, spoiled := t.TempDir(), t.TempDir()
	require.NoError(t, repogen.Write(clean, 40))
	require.NoError(t, repogen.Write(spoiled, 40))
	spoil(t, spoiled)
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	bench := &governance.Options{PolicyDirs: []string{"../../testdata/bench/policy"}}
	tests := []struct {
		name, root string
		policy     *governance.Options
	}{
		{"generated-default", clean, &governance.Options{DefaultBundle: true}},
		{"generated-spoiled-default", spoiled, &governance.Options{DefaultBundle: true}},
		{"generated-spoiled-same-policy", spoiled, bench},
		{"generated-spoiled-no-policy", spoiled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := check(t, tt.root, func(o *gate.Options) { o.Policy, o.Now = tt.policy, now })
			var b bytes.Buffer
			require.NoError(t, writeJSON(&b, &Report{Result: res}))
			golden.Assert(t, tt.name+".json", strings.ReplaceAll(b.String(), tt.root, "REPOSITORY"))
		})
	}
}

// spoil breaks some versions of a generated repository: lineage that names
// itself, an unknown version or a cycle, a licence and a metric the
// policies refuse, a field the schema requires, a file that does not parse,
// and files that take the slow decoders (escapes, anchors).
func spoil(t *testing.T, root string) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "models", "*", "*"))
	require.NoError(t, err)
	slices.Sort(dirs)
	manifest := func(i int, from, to string) { replaceIn(t, filepath.Join(dirs[i], "model.yaml"), from, to) }
	lineage := func(i int, from, to string) { replaceIn(t, filepath.Join(dirs[i], "lineage.json"), from, to) }
	id := func(i int) string { return filepath.Base(filepath.Dir(dirs[i])) + "@" + filepath.Base(dirs[i]) }
	lineage(1, `"parent_models": [`, fmt.Sprintf(`"parent_models": [%q, `, id(1)))
	lineage(2, `"parent_models": [`, `"parent_models": ["model-00000@9.9.9", `)
	manifest(3, "license: apache-2.0", "license: gpl-3.0")
	manifest(4, "  owner: ", "  maintainer: ")
	manifest(5, "    f1: 0.9", "    f1: 0.1")
	replaceIn(t, filepath.Join(dirs[6], "model.yaml"), "spec:", "spec: [")
	lineage(7, `"training_data": {`, `"note": "caf\u00e9 \"retrained\"", "training_data": {`)
	manifest(8, "  labels: {team: ", "  labels: &labels {team: ")
	manifest(8, "spec:", "copied: *labels\nspec:")
	lineage(10, `"parent_models": [`, fmt.Sprintf(`"parent_models": [%q, `, id(13)))
	lineage(13, `"parent_models": [`, fmt.Sprintf(`"parent_models": [%q, `, id(10)))
	lineage(16, `"checksums": ["sha256:`, `"checksums": ["md5:`)
	manifest(19, "  lineage: lineage.json\n", "")
	manifest(22, "  lineage: lineage.json", "  lineage: ../../../outside.json")
	manifest(25, "risk_tier: ", "risk_tier: unacceptable #")
}

func replaceIn(t *testing.T, path, from, to string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), from, path)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o644))
}
