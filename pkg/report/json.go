package report

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/lineage"
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
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
}

// NewJSON builds the JSON report of a result with the given findings (the
// result's own, or a selection of them).
func NewJSON(r *gate.Result, fs []finding.Finding) JSONReport {
	status := ModelStatus(fs)
	models := make([]JSONModel, 0, len(r.Graph.IDs()))
	for _, id := range r.Graph.IDs() {
		models = append(models, jsonModel(r, status, id))
	}
	rep := jsonHead(r, fs)
	rep.Models = models
	return rep
}

func jsonModel(r *gate.Result, status func(string) lineage.Status, id string) JSONModel {
	n := r.Graph.Node(id)
	m := n.Manifest
	return JSONModel{
		ID: id, Name: m.Metadata.Name, Version: m.Metadata.Version, File: m.File,
		Stage: m.Spec.Lifecycle.Stage, Owner: m.Metadata.Owner,
		Parents: nonNil(n.Parents), External: nonNil(n.External), Status: string(status(id)),
		Change: change(r, id),
	}
}

// jsonHead is the report without its models.
func jsonHead(r *gate.Result, fs []finding.Finding) JSONReport {
	var base *JSONBase
	if r.Base != nil {
		base = &JSONBase{Ref: r.Base.Ref, Commit: r.Base.Commit}
	}
	s := summarize(r, fs)
	return JSONReport{
		Version: JSONVersion, Tool: "modelgate", Root: r.Root, Time: r.Now.UTC(), Passed: s.Errors == 0, Base: base,
		Summary: s, Models: []JSONModel{}, Findings: nonNil(fs),
	}
}

// JSON writes the JSON report of a result, indented: the bytes of encoding
// NewJSON's report with an indenting json.Encoder. It writes the models
// and findings one at a time, so that the report of a large repository is
// never held whole in memory, twice over (compact, then indented).
func JSON(w io.Writer, r *gate.Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := jsonHead(r, r.Findings)
	head.Findings = []finding.Finding{}
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	const tail = ",\n  \"models\": [],\n  \"findings\": []\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("json report: the report's fields end unexpectedly in %q", b[max(0, len(b)-len(tail)):])
	}
	bw.Write(b[:len(b)-len(tail)])
	bw.WriteString(",\n  \"models\": ")
	status := ModelStatus(r.Findings)
	ids := r.Graph.IDs()
	if err := writeJSONArray(bw, len(ids), func(i int) any { return jsonModel(r, status, ids[i]) }); err != nil {
		return err
	}
	bw.WriteString(",\n  \"findings\": ")
	if err := writeJSONArray(bw, len(r.Findings), func(i int) any { return &r.Findings[i] }); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeJSONArray writes an array of n items of the report's top level, as
// an indenting encoder would: one item at a time.
func writeJSONArray(w *bufio.Writer, n int, item func(i int) any) error {
	if n == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[")
	for i := range n {
		b, err := json.MarshalIndent(item(i), "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		w.Write(b)
	}
	_, err := w.WriteString("\n  ]")
	return err
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
