// Package inventory answers "which model versions exist, who owns them,
// what stage they are in, how good and how old they are" for a repository.
package inventory

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/gate"
)

// Row is one model version.
type Row struct {
	Model       string             `json:"model"`
	Version     string             `json:"version"`
	Stage       string             `json:"stage"`
	Owner       string             `json:"owner"`
	RiskTier    string             `json:"risk_tier"`
	Metrics     map[string]float64 `json:"metrics"`
	Parents     []string           `json:"parents"`
	Added       *time.Time         `json:"added,omitempty"`
	AgeDays     *int               `json:"age_days,omitempty"`
	RetireAfter string             `json:"retire_after,omitempty"`
	File        string             `json:"file"`
}

// Build lists every model version of a checked repository. added maps
// manifest files to when they were first committed; it may be nil.
func Build(r *gate.Result, added map[string]time.Time) []Row {
	rows := make([]Row, 0, len(r.Graph.IDs()))
	for _, id := range r.Graph.IDs() {
		n := r.Graph.Node(id)
		m := n.Manifest
		row := Row{
			Model: m.Metadata.Name, Version: m.Metadata.Version, Stage: m.Spec.Lifecycle.Stage,
			Owner: m.Metadata.Owner, RiskTier: m.Spec.Governance.RiskTier, Metrics: m.Spec.Metrics,
			Parents: append(slices.Clone(n.Parents), n.External...), RetireAfter: m.Spec.Lifecycle.RetireAfter, File: m.File,
		}
		if row.Metrics == nil {
			row.Metrics = map[string]float64{}
		}
		if t, ok := added[m.File]; ok {
			days := int(r.Now.Sub(t).Hours() / 24)
			row.Added, row.AgeDays = &t, &days
		}
		rows = append(rows, row)
	}
	return rows
}

// JSON writes the rows as a JSON array.
func JSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// Markdown writes the rows as a Markdown table.
func Markdown(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "| Model | Version | Stage | Owner | Risk | Metrics | Parents | Age | Retire after |")
	fmt.Fprintln(bw, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		age := "unknown"
		if r.AgeDays != nil {
			age = strconv.Itoa(*r.AgeDays) + " d"
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			cell(r.Model), cell(r.Version), cell(r.Stage), cell(r.Owner), cell(r.RiskTier),
			cell(metrics(r.Metrics)), cell(strings.Join(r.Parents, ", ")), age, cell(r.RetireAfter))
	}
	return bw.Flush()
}

// metrics renders the metrics as name=value pairs in name order.
func metrics(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+strconv.FormatFloat(m[k], 'g', 4, 64))
	}
	return strings.Join(parts, " ")
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`", "[", `\[`, "]", `\]`, " @", " @\u200b")
	if strings.HasPrefix(s, "@") {
		s = "@\u200b" + s[1:]
	}
	return r.Replace(s)
}
