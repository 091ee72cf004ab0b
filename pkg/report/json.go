package report

import (
	_ "embed"
	"encoding/json"
	"io"
	"time"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
)

// JSONSchema returns the JSON Schema of the report, which documents it.
func JSONSchema() []byte { return reportSchema }

//go:embed schema/report.schema.json
var reportSchema []byte

// JSONVersion is the version of the JSON report's format. It changes only
// when a field is removed or changes meaning; new fields may appear.
const JSONVersion = 1

// JSONReport is the machine-readable report.
type JSONReport struct {
	Version  int               `json:"version"`
	Tool     string            `json:"tool"`
	Root     string            `json:"root"`
	Time     time.Time         `json:"time"`
	Passed   bool              `json:"passed"`
	Base     *JSONBase         `json:"base,omitempty"`
	Summary  Summary           `json:"summary"`
	Models   []JSONModel       `json:"models"`
	Findings []finding.Finding `json:"findings"`
}

// JSONModel is one model version in the JSON report.
type JSONModel struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	File     string   `json:"file"`
	Stage    string   `json:"stage,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	Parents  []string `json:"parents"`
	External []string `json:"external"`
	Status   string   `json:"status"`
	Change   string   `json:"change,omitempty"`
}

// JSONBase names the revision a report compared with.
type JSONBase struct {
	Ref string `json:"ref"`
	// Name is the base branch when Ref is its commit.
	Name   string `json:"name,omitempty"`
	Commit string `json:"commit"`
}

// NewJSON builds the JSON report.
func NewJSON(r *Report) JSONReport {
	fs := r.shown()
	res := r.Result
	status := ModelStatus(fs)
	ids := res.Versions()
	models := make([]JSONModel, 0, len(ids))
	for _, id := range ids {
		n := res.Node(id)
		m := n.Manifest
		models = append(models, JSONModel{
			ID: id, Name: m.Metadata.Name, Version: m.Metadata.Version, File: m.File,
			Stage: m.Spec.Lifecycle.Stage, Owner: m.Metadata.Owner,
			Parents: nonNil(n.Parents), External: nonNil(n.External), Status: string(status(id)),
			Change: change(res, id),
		})
	}
	var base *JSONBase
	if res.Base != nil {
		base = &JSONBase{Ref: res.Base.Ref, Name: res.Base.Name, Commit: res.Base.Commit}
	}
	return JSONReport{
		Version: JSONVersion, Tool: "modelgate", Root: res.Root, Time: res.Now.UTC(), Passed: r.Passed(), Base: base,
		Summary: r.Summarize(), Models: models, Findings: nonNil(fs),
	}
}

// writeJSON writes the JSON report, indented.
func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewJSON(r))
}

// change is a model's change against the base, or "" without a base.
func change(r *gate.Result, id string) string {
	if r.Base == nil {
		return ""
	}
	c, _ := r.Change(id)
	return string(c)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
