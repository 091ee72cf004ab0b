// Package manifest reads model manifests and lineage files: YAML or JSON
// decoded with the position of every field, checked against the JSON Schema
// of the modelgate.dev/v1 format, and mapped to typed fields. Unknown fields
// are kept in the decoded value for policies to read.
package manifest

import (
	"encoding/json"
	"strconv"
)

// APIVersion and Kind identify the manifest format.
const (
	APIVersion = "modelgate.dev/v1"
	Kind       = "Model"
)

// Manifest is one model version as its manifest declares it.
type Manifest struct {
	// File is the manifest's path relative to the repository root, with
	// forward slashes.
	File string
	// Source is the file as a repository keeps it while it checks the
	// others: its text, which Decode decodes again, with every field
	// including unknown ones, when policies or findings need them.
	Source *Source

	APIVersion string
	Kind       string
	Metadata   Metadata
	Spec       Spec

	// Lineage is the model's lineage, read inline or from LineageFile; nil
	// when the manifest declares none or it could not be read.
	Lineage *Lineage
}

// Metadata identifies a model version and who answers for it.
type Metadata struct {
	Name    string
	Version string
	Owner   string
}

// Spec describes the model version.
type Spec struct {
	Framework string
	Task      string
	Artifact  Artifact
	// LineageRef is spec.lineage when it is a path (relative to the
	// manifest's directory); empty when inline or absent.
	LineageRef string
	Metrics    map[string]float64
	Governance Governance
	Lifecycle  Lifecycle
}

// Artifact locates the trained model.
type Artifact struct {
	URI    string
	Digest string
}

// Governance holds the facts governance policies judge.
type Governance struct {
	RiskTier    string
	License     string
	IntendedUse string
	Limitations string
	PII         bool
	DPIA        string
}

// Lifecycle says where the model version is in its life.
type Lifecycle struct {
	Stage       string
	RetireAfter string
}

// ID is "name@version", the model version's identity in the lineage graph.
func (m *Manifest) ID() string {
	return m.Metadata.Name + "@" + m.Metadata.Version
}

// Decode decodes the manifest again: its value and the positions of its
// fields, as when it was read.
func (m *Manifest) Decode() (*Document, error) {
	return m.Source.Decode()
}

// FromDocument maps a decoded manifest to its typed fields. It never fails:
// fields of the wrong type are left empty (the schema reports them).
func FromDocument(file string, doc *Document) *Manifest {
	root := object(asMap(doc.Value))
	md := root.obj("metadata")
	spec := root.obj("spec")
	gov := spec.obj("governance")
	m := &Manifest{
		File:       file,
		Source:     doc.Source(),
		APIVersion: root.str("apiVersion"),
		Kind:       root.str("kind"),
		Metadata: Metadata{
			Name:    md.str("name"),
			Version: md.str("version"),
			Owner:   md.str("owner"),
		},
		Spec: Spec{
			Framework: spec.str("framework"),
			Task:      spec.str("task"),
			Artifact:  Artifact{URI: spec.obj("artifact").str("uri"), Digest: spec.obj("artifact").str("digest")},
			Metrics:   spec.numbers("metrics"),
			Governance: Governance{
				RiskTier:    gov.str("risk_tier"),
				License:     gov.str("license"),
				IntendedUse: gov.str("intended_use"),
				Limitations: gov.str("limitations"),
				PII:         gov.boolean("pii"),
				DPIA:        gov.str("dpia"),
			},
			Lifecycle: Lifecycle{
				Stage:       spec.obj("lifecycle").str("stage"),
				RetireAfter: spec.obj("lifecycle").str("retire_after"),
			},
		},
	}
	if ref, ok := spec["lineage"].(string); ok {
		m.Spec.LineageRef = ref
	}
	return m
}

// object reads typed fields out of a decoded mapping.
type object map[string]any

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func (o object) obj(key string) object { return object(asMap(o[key])) }

func (o object) str(key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func (o object) boolean(key string) bool {
	b, _ := o[key].(bool)
	return b
}

func (o object) numbers(key string) map[string]float64 {
	in := o.obj(key)
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]float64, len(in))
	for k, v := range in {
		if f, ok := number(v); ok {
			out[k] = f
		}
	}
	return out
}

// number converts a decoded number to float64.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		return f, err == nil
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}
