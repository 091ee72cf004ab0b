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
	// Live is where the version serves now; nil when that was not looked
	// up (no "live" field, no Live column), empty when it serves nowhere.
	Live []Live `json:"live,omitzero"`
}

// Live is one environment a model version serves.
type Live struct {
	Environment    string  `json:"environment"`
	TrafficPercent float64 `json:"traffic_percent"`
	// Canary marks the version an unfinished rollout is trying out.
	Canary bool `json:"canary"`
	// Since is when it took this share of the traffic, when known.
	Since  *time.Time `json:"since,omitempty"`
	Source string     `json:"source"` // "store" or "github"
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

// Markdown writes the rows as a Markdown table, with a Live column when
// the rows say where they serve.
func Markdown(w io.Writer, rows []Row) error {
	withLive := slices.ContainsFunc(rows, func(r Row) bool { return r.Live != nil })
	bw := bufio.NewWriter(w)
	header, rule := "| Model | Version | Stage | Owner | Risk | Metrics | Parents | Age | Retire after |", "|---|---|---|---|---|---|---|---|---|"
	if withLive {
		header, rule = header+" Live |", rule+"---|"
	}
	fmt.Fprintln(bw, header)
	fmt.Fprintln(bw, rule)
	for _, r := range rows {
		age := "unknown"
		if r.AgeDays != nil {
			age = strconv.Itoa(*r.AgeDays) + " d"
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |",
			cell(r.Model), cell(r.Version), cell(r.Stage), cell(r.Owner), cell(r.RiskTier),
			cell(metrics(r.Metrics)), cell(strings.Join(r.Parents, ", ")), age, cell(r.RetireAfter))
		if withLive {
			fmt.Fprintf(bw, " %s |", cell(live(r.Live)))
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// live renders where a version serves: "production (100 %)" for the
// stable version, "production: canary 25 %" for a canary.
func live(ls []Live) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		pct := strconv.FormatFloat(l.TrafficPercent, 'f', -1, 64) + " %"
		if l.Canary {
			parts = append(parts, l.Environment+": canary "+pct)
		} else {
			parts = append(parts, l.Environment+" ("+pct+")")
		}
	}
	return strings.Join(parts, ", ")
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
