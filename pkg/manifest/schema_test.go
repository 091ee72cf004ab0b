package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/finding"
)

func TestExampleManifestsMatchTheSchema(t *testing.T) {
	schemas, err := CompileSchemas()
	require.NoError(t, err)
	files, err := filepath.Glob("../../testdata/example/models/*/*/*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		doc, err := Decode(f, data, DefaultLimits())
		require.NoError(t, err, f)
		validate := schemas.ValidateManifest
		if filepath.Base(f) == "lineage.json" {
			validate = schemas.ValidateLineage
		}
		assert.Empty(t, validate(f, doc), f)
	}
}

func TestSchemaFindingsPointAtTheField(t *testing.T) {
	schemas, err := CompileSchemas()
	require.NoError(t, err)
	tests := []struct {
		name     string
		yaml     string
		wantPath string
		wantLine int
		wantMsg  string
	}{
		{"wrong api version", "apiVersion: v2\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec: {}\n", "apiVersion", 1, "modelgate.dev/v1"},
		{"missing version", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n  name: a\nspec: {}\n", "metadata", 3, "version"},
		{"name not a DNS label", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n  name: Fraud_Detector\n  version: 1.0.0\nspec: {}\n", "metadata.name", 4, "does not match pattern"},
		{"version not semver", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata:\n  name: a\n  version: v1\nspec: {}\n", "metadata.version", 5, "does not match pattern"},
		{"metric not a number", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  metrics:\n    f1: high\n", "spec.metrics.f1", 6, "want number"},
		{"bad risk tier", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  governance:\n    risk_tier: extreme\n", "spec.governance.risk_tier", 6, "minimal"},
		{"bad date", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  lifecycle:\n    retire_after: soon\n", "spec.lifecycle.retire_after", 6, "date"},
		{"bad digest", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  artifact: {uri: s3://x, digest: md5:abc}\n", "spec.artifact.digest", 5, "pattern"},
		{"inline lineage of wrong type", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  lineage:\n    parent_models: a\n", "spec.lineage.parent_models", 6, "want array"},
		{"rollout traffic over 100", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  rollout:\n    stages:\n      - traffic: 150\n", "spec.rollout.stages[0].traffic", 7, "maximum"},
		{"not a mapping", "- a\n- b\n", "", 1, "want object"},
		{"YAML 1.1 yes", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  governance:\n    pii: yes\n", "spec.governance.pii", 6, "spec.governance.pii: `yes` is a string in YAML 1.2; write true"},
		{"YAML 1.1 Off", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  governance: {pii: Off}\n", "spec.governance.pii", 5, "`Off` is a string in YAML 1.2; write false"},
		{"another string for a boolean", "apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  governance:\n    pii: maybe\n", "spec.governance.pii", 6, "got string, want boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Decode("m.yaml", []byte(tt.yaml), DefaultLimits())
			require.NoError(t, err)
			fs := schemas.ValidateManifest("m.yaml", doc)
			require.NotEmpty(t, fs)
			f := fs[0]
			assert.Equal(t, finding.Error, f.Severity)
			assert.Equal(t, SchemaRule, f.Rule)
			assert.Equal(t, "m.yaml", f.File)
			assert.Equal(t, tt.wantPath, f.Path)
			assert.Equal(t, tt.wantLine, f.Line)
			assert.Contains(t, f.Message, tt.wantMsg)
		})
	}
}

func TestUnknownFieldsAreKept(t *testing.T) {
	schemas, err := CompileSchemas()
	require.NoError(t, err)
	doc, err := Decode("m.yaml", []byte("apiVersion: modelgate.dev/v1\nkind: Model\nmetadata: {name: a, version: 1.0.0}\nspec:\n  x-cost-center: 42\nextra: {team: risk}\n"), DefaultLimits())
	require.NoError(t, err)
	assert.Empty(t, schemas.ValidateManifest("m.yaml", doc))
	m := FromDocument("m.yaml", doc)
	assert.Equal(t, "a@1.0.0", m.ID())
	assert.Equal(t, map[string]any{"team": "risk"}, doc.Value.(map[string]any)["extra"])
}

func TestFromDocument(t *testing.T) {
	data, err := os.ReadFile("../../testdata/example/models/fraud-detector/3.2.0/model.yaml")
	require.NoError(t, err)
	doc, err := Decode("model.yaml", data, DefaultLimits())
	require.NoError(t, err)
	m := FromDocument("models/fraud-detector/3.2.0/model.yaml", doc)
	assert.Equal(t, "fraud-detector@3.2.0", m.ID())
	assert.Equal(t, "risk-ml@example.com", m.Metadata.Owner)
	assert.Equal(t, "lineage.json", m.Spec.LineageRef)
	assert.Equal(t, 0.95, m.Spec.Metrics["f1"])
	assert.Equal(t, "high", m.Spec.Governance.RiskTier)
	assert.True(t, m.Spec.Governance.PII)
	assert.Equal(t, "staging", m.Spec.Lifecycle.Stage)
	assert.Equal(t, "2027-12-31", m.Spec.Lifecycle.RetireAfter)
}

func TestLineageValueIsNormalized(t *testing.T) {
	doc, err := Decode("l.json", []byte(`{"model_id": "a", "note": "kept"}`), DefaultLimits())
	require.NoError(t, err)
	l := LineageFrom("l.json", "", doc, doc.Value)
	v, err := l.Value(nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"model_id": "a", "version": "", "note": "kept", "parent_models": []any{},
		"training_data": map[string]any{"versions": []any{}, "checksums": []any{}},
	}, v, "a lineage file, decoded again")
	m, err := Decode("m.yaml", []byte("spec:\n  lineage:\n    model_id: b\n    parent_models: [x]\n"), DefaultLimits())
	require.NoError(t, err)
	inlined := LineageFrom("m.yaml", "spec.lineage", m, asMap(asMap(m.Value)["spec"])["lineage"])
	v, err = inlined.Value(m)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"model_id": "b", "version": "", "parent_models": []any{"x"},
		"training_data": map[string]any{"versions": []any{}, "checksums": []any{}},
	}, v, "an inline lineage, read from its manifest")
	assert.Equal(t, "training_data.checksums[1]", l.Path("training_data.checksums[1]"))
	inline := &Lineage{Prefix: "spec.lineage"}
	assert.Equal(t, "spec.lineage.parent_models[0]", inline.Path("parent_models[0]"))
	assert.Equal(t, "spec.lineage", inline.Path(""))
}

// BenchmarkValidateManifest validates a decoded manifest as the
// validator does (the quick check passes it) and by the library alone.
//
//	go test -run '^$' -bench ValidateManifest -benchmem ./pkg/manifest/
func BenchmarkValidateManifest(b *testing.B) {
	s, err := CompileSchemas()
	if err != nil {
		b.Fatal(err)
	}
	doc, err := Decode("model.yaml", []byte(sampleYAML), DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("quick-check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if fs := s.ValidateManifest("model.yaml", doc); len(fs) != 0 {
				b.Fatal(fs)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.model.Validate(doc.Value); err != nil {
				b.Fatal(err)
			}
		}
	})
}
