package report

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/modelgate/modelgate/internal/parallel"
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
	Ref string `json:"ref"`
	// Name is the base branch when Ref is its commit.
	Name   string `json:"name,omitempty"`
	Commit string `json:"commit"`
}

// NewJSON builds the JSON report.
func NewJSON(r *Report) JSONReport {
	status := ModelStatus(r.shown())
	ids := r.Result.Versions()
	models := make([]JSONModel, 0, len(ids))
	for _, id := range ids {
		models = append(models, jsonModel(r.Result, status, id))
	}
	rep := jsonHead(r)
	rep.Models = models
	return rep
}

func jsonModel(res *gate.Result, status func(string) lineage.Status, id string) JSONModel {
	n := res.Node(id)
	m := n.Manifest
	return JSONModel{
		ID: id, Name: m.Metadata.Name, Version: m.Metadata.Version, File: m.File,
		Stage: m.Spec.Lifecycle.Stage, Owner: m.Metadata.Owner,
		Parents: nonNil(n.Parents), External: nonNil(n.External), Status: string(status(id)),
		Change: change(res, id),
	}
}

// jsonHead is the report without its models.
func jsonHead(r *Report) JSONReport {
	res := r.Result
	var base *JSONBase
	if res.Base != nil {
		base = &JSONBase{Ref: res.Base.Ref, Name: res.Base.Name, Commit: res.Base.Commit}
	}
	return JSONReport{
		Version: JSONVersion, Tool: "modelgate", Root: res.Root, Time: res.Now.UTC(), Passed: r.Passed(), Base: base,
		Summary: r.Summarize(), Models: []JSONModel{}, Findings: nonNil(r.shown()),
	}
}

// writeJSON writes the JSON report, indented: the bytes of encoding
// NewJSON's report with an indenting json.Encoder. It writes the models
// and findings one at a time, so that the report of a large repository is
// never held whole in memory, twice over (compact, then indented).
func writeJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := jsonHead(r)
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
	fs := r.shown()
	status := ModelStatus(fs)
	ids := r.Result.Versions()
	if err := writeJSONArray(bw, len(ids), func(i int) any { return jsonModel(r.Result, status, ids[i]) }); err != nil {
		return err
	}
	bw.WriteString(",\n  \"findings\": ")
	if err := writeJSONArray(bw, len(fs), func(i int) any { return &fs[i] }); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonBlock is how many items of an array writeJSONArray marshals at once,
// shared among the cores, before it writes them in their order: enough to
// keep the cores busy, few enough that a large report is not held whole.
const jsonBlock = 1024

// writeJSONArray writes an array of n items of the report's top level, as
// an indenting encoder would, marshalling a block of items at a time on
// every core: at 10,000 models the indented marshalling was the longest
// step after the evaluation, done on one core while the other waited.
func writeJSONArray(w *bufio.Writer, n int, item func(i int) any) error {
	return writeJSONBlocks(w, n, jsonBlock, item)
}

// writeJSONBlocks is writeJSONArray with its block size.
func writeJSONBlocks(w *bufio.Writer, n, block int, item func(i int) any) error {
	if n == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[")
	encoded := make([][]byte, min(n, block))
	errs := make([]error, len(encoded))
	for start := 0; start < n; start += block {
		items := encoded[:min(block, n-start)]
		parallel.ForEach(len(items), func(i int) {
			items[i], errs[i] = json.MarshalIndent(item(start+i), "    ", "  ")
		})
		for i, b := range items {
			if errs[i] != nil {
				return fmt.Errorf("item %d: %w", start+i, errs[i])
			}
			if start+i > 0 {
				w.WriteString(",")
			}
			w.WriteString("\n    ")
			w.Write(b)
		}
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
