package lineage

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/manifest"
)

const goodSum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// model makes a manifest with an inline lineage listing parents.
func model(t *testing.T, id string, parents ...string) *manifest.Manifest {
	t.Helper()
	name, version, _ := strings.Cut(id, "@")
	return modelWith(t, name, version, fmt.Sprintf("{model_id: %s, version: %s, parent_models: [%s], training_data: {versions: [d1], checksums: [%q]}}",
		name, version, strings.Join(parents, ", "), goodSum))
}

func modelWith(t *testing.T, name, version, lineage string) *manifest.Manifest {
	t.Helper()
	src := fmt.Sprintf("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n  name: %s\n  version: %s\nspec:\n  lifecycle: {stage: staging}\n", name, version)
	if lineage != "" {
		src += "  lineage: " + lineage + "\n"
	}
	file := "models/" + name + "/" + version + "/model.yaml"
	doc, err := manifest.Decode(file, []byte(src), manifest.DefaultLimits())
	require.NoError(t, err)
	m := manifest.FromDocument(file, doc)
	if lin, ok := doc.Value.(map[string]any)["spec"].(map[string]any)["lineage"]; ok {
		m.Lineage = manifest.LineageFrom(file, "spec.lineage", doc, lin)
	}
	return m
}

func kinds(ps []Problem) []ProblemKind {
	var out []ProblemKind
	for _, p := range ps {
		out = append(out, p.Kind)
	}
	return out
}

func TestGraphRelations(t *testing.T) {
	g := Build([]*manifest.Manifest{
		model(t, "base@1.0.0", "bert_base"),
		model(t, "base@1.1.0", "base@1.0.0"),
		model(t, "tuned@2.0.0", "base"),
		model(t, "tuned@2.1.0", "tuned@2.0.0"),
		model(t, "other@0.1.0"),
	})
	assert.Equal(t, []string{"base@1.0.0", "base@1.1.0", "other@0.1.0", "tuned@2.0.0", "tuned@2.1.0"}, g.IDs())
	assert.Equal(t, []string{"base@1.1.0"}, g.Node("tuned@2.0.0").Parents, "a bare name means the highest version")
	assert.Equal(t, []string{"bert_base"}, g.Node("base@1.0.0").External)
	assert.Equal(t, []string{"base@1.0.0", "base@1.1.0", "tuned@2.0.0"}, g.Ancestors("tuned@2.1.0"))
	assert.Equal(t, []string{"base@1.1.0", "tuned@2.0.0", "tuned@2.1.0"}, g.Descendants("base@1.0.0"))
	assert.Equal(t, []string{"base@1.1.0"}, g.Node("base@1.0.0").Children)
	assert.Equal(t, []string{"other@0.1.0", "tuned@2.0.0", "tuned@2.1.0"}, g.Impact([]string{"tuned@2.0.0", "other@0.1.0", "gone@1.0.0"}))
	assert.Equal(t, []string{"base@1.0.0", "base@1.1.0"}, g.Versions("base"))
	assert.Empty(t, g.Problems())

	facts := g.Facts("tuned@2.0.0")
	assert.Equal(t, []any{"base@1.1.0"}, facts["parents"])
	assert.Equal(t, []any{"base@1.0.0", "base@1.1.0"}, facts["ancestors"])
	assert.Equal(t, []any{"tuned@2.1.0"}, facts["children"])
	assert.Equal(t, []any{}, facts["cycle"])
	assert.Contains(t, facts["parent_manifests"], "base@1.1.0")
	assert.Equal(t, []any{}, g.Facts("nope@1.0.0")["parents"])
}

func TestGraphProblems(t *testing.T) {
	tests := []struct {
		name   string
		models func(t *testing.T) []*manifest.Manifest
		want   map[string][]ProblemKind
		check  func(t *testing.T, g *Graph)
	}{
		{
			name: "cycle of three, members in order",
			models: func(t *testing.T) []*manifest.Manifest {
				return []*manifest.Manifest{model(t, "a@1.0.0", "c@1.0.0"), model(t, "b@1.0.0", "a@1.0.0"), model(t, "c@1.0.0", "b@1.0.0"), model(t, "d@1.0.0", "a@1.0.0")}
			},
			want: map[string][]ProblemKind{"a@1.0.0": {Cycle}, "b@1.0.0": {Cycle}, "c@1.0.0": {Cycle}},
			check: func(t *testing.T, g *Graph) {
				assert.Equal(t, []string{"a@1.0.0", "c@1.0.0", "b@1.0.0", "a@1.0.0"}, g.Cycle("a@1.0.0"))
				assert.Empty(t, g.Cycle("d@1.0.0"))
				p := g.ProblemsOf("b@1.0.0")[0]
				assert.Equal(t, "spec.lineage.parent_models[0]", p.Path)
				assert.Equal(t, 8, p.Line)
				assert.Contains(t, p.Message, "a@1.0.0 → c@1.0.0 → b@1.0.0 → a@1.0.0")
			},
		},
		{
			name: "self parent",
			models: func(t *testing.T) []*manifest.Manifest {
				return []*manifest.Manifest{model(t, "a@1.0.0", "x", "a@1.0.0")}
			},
			want: map[string][]ProblemKind{"a@1.0.0": {SelfParent}},
			check: func(t *testing.T, g *Graph) {
				assert.Equal(t, "spec.lineage.parent_models[1]", g.ProblemsOf("a@1.0.0")[0].Path)
			},
		},
		{
			name:   "bare own name with no other version",
			models: func(t *testing.T) []*manifest.Manifest { return []*manifest.Manifest{model(t, "a@1.0.0", "a")} },
			want:   map[string][]ProblemKind{"a@1.0.0": {SelfParent}},
		},
		{
			name: "unknown version of a known model",
			models: func(t *testing.T) []*manifest.Manifest {
				return []*manifest.Manifest{model(t, "a@1.0.0"), model(t, "b@1.0.0", "a@9.9.9")}
			},
			want: map[string][]ProblemKind{"b@1.0.0": {UnknownVersion}},
			check: func(t *testing.T, g *Graph) {
				assert.Contains(t, g.ProblemsOf("b@1.0.0")[0].Message, "known versions of a: 1.0.0")
				assert.Empty(t, g.Node("b@1.0.0").External, "an unknown version is not external")
			},
		},
		{
			name: "lineage disagrees with manifest",
			models: func(t *testing.T) []*manifest.Manifest {
				return []*manifest.Manifest{modelWith(t, "a", "1.0.0", "{model_id: b, version: 2.0.0}")}
			},
			want: map[string][]ProblemKind{"a@1.0.0": {ModelIDMismatch, VersionMismatch}},
		},
		{
			name: "versions and checksums of different length, malformed checksum",
			models: func(t *testing.T) []*manifest.Manifest {
				return []*manifest.Manifest{modelWith(t, "a", "1.0.0", "{training_data: {versions: [d1, d2], checksums: [\"md5:abc\"]}}")}
			},
			want: map[string][]ProblemKind{"a@1.0.0": {LengthMismatch, MalformedChecksum}},
			check: func(t *testing.T, g *Graph) {
				assert.Equal(t, "spec.lineage.training_data.checksums[0]", g.ProblemsOf("a@1.0.0")[1].Path)
			},
		},
		{
			name:   "no lineage",
			models: func(t *testing.T) []*manifest.Manifest { return []*manifest.Manifest{modelWith(t, "a", "1.0.0", "")} },
			want:   map[string][]ProblemKind{"a@1.0.0": {MissingLineage}},
		},
		{
			name: "duplicate version",
			models: func(t *testing.T) []*manifest.Manifest {
				dup := model(t, "a@1.0.0")
				dup.File = "models/a/copy/model.yaml"
				return []*manifest.Manifest{model(t, "a@1.0.0"), dup}
			},
			want: map[string][]ProblemKind{},
			check: func(t *testing.T, g *Graph) {
				ps := g.Problems()
				require.Len(t, ps, 1)
				assert.Equal(t, DuplicateVersion, ps[0].Kind)
				assert.Equal(t, "models/a/copy/model.yaml", ps[0].File)
				assert.Contains(t, ps[0].Message, "also declared by models/a/1.0.0/model.yaml")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Build(tt.models(t))
			for _, id := range g.IDs() {
				assert.Equal(t, tt.want[id], kinds(g.ProblemsOf(id)), id)
			}
			if tt.check != nil {
				tt.check(t, g)
			}
		})
	}
}

func TestLongChainHasNoRecursionLimit(t *testing.T) {
	var models []*manifest.Manifest
	models = append(models, model(t, "m@0.0.0"))
	for i := 1; i < 3000; i++ {
		models = append(models, model(t, fmt.Sprintf("m@0.0.%d", i), fmt.Sprintf("m@0.0.%d", i-1)))
	}
	g := Build(models)
	assert.Empty(t, g.Problems())
	assert.Len(t, g.Ancestors("m@0.0.2999"), 2999)
}

// TestWellFormedChecksum holds the check to the pattern it replaces.
func TestWellFormedChecksum(t *testing.T) {
	pattern := regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{
		"sha256:" + hex64, "sha512:" + hex64 + hex64, "sha256:" + hex64[1:], "sha256:" + hex64 + "0",
		"sha512:" + hex64, "sha256:" + strings.ToUpper(hex64), "sha256:" + hex64[:63] + "g", "SHA256:" + hex64,
		"sha256:", "sha256", "", "md5:" + hex64, "sha384:" + hex64, "sha256:" + hex64 + "\n", " sha256:" + hex64,
		"sha256:" + hex64[:63] + "é",
	} {
		assert.Equal(t, pattern.MatchString(s), wellFormedChecksum(s), "%q", s)
	}
}

func FuzzWellFormedChecksum(f *testing.F) {
	pattern := regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)
	f.Add("sha256:" + strings.Repeat("a", 64))
	f.Add("sha512:" + strings.Repeat("0", 128))
	f.Fuzz(func(t *testing.T, s string) {
		if pattern.MatchString(s) != wellFormedChecksum(s) {
			t.Fatalf("%q: pattern %v, check %v", s, pattern.MatchString(s), wellFormedChecksum(s))
		}
	})
}
