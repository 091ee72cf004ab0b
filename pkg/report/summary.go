package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
	"github.com/modelgate/modelgate/pkg/lineage"
	"github.com/modelgate/modelgate/pkg/markdown"
)

// MaxSummaryBytes keeps a job summary under GitHub's limit of 1 MiB per
// step, with room for what other steps add.
const MaxSummaryBytes = 1_000_000

// maxPictureNodes is the largest lineage picture drawn; Mermaid pictures
// beyond it are unreadable and slow to render.
const maxPictureNodes = 150

// writeSummary writes the job summary of a check in Markdown: the verdict,
// the changed models, their metrics against the base, the findings per
// model and a lineage picture of the changed models.
func writeSummary(w io.Writer, r *Report) error {
	_, err := io.WriteString(w, JobSummary(r))
	return err
}

// JobSummary renders the job summary, within MaxBytes.
func JobSummary(r *Report) string {
	max := r.MaxBytes
	if max == 0 {
		max = MaxSummaryBytes
	}
	fs := r.shown()
	var b strings.Builder
	writeVerdict(&b, r)
	writeRuleChanges(&b, r.RuleChanges)
	writeChanges(&b, r.Result)
	writeMetrics(&b, r.Result)
	writePicture(&b, r.Result, fs)
	writeFindings(&b, fs, r.BlobURL, max-b.Len())
	return b.String()
}

func writeVerdict(b *strings.Builder, r *Report) {
	icon := "✅"
	if !r.Passed() {
		icon = "❌"
	}
	fmt.Fprintf(b, "## %s modelgate %s\n\n", icon, verdict(r))
	fmt.Fprintf(b, "%s · %s checked", counts(finding.Count(r.shown()), " · "), plural(len(r.Result.Versions()), "model version"))
	if r.Result.Base != nil {
		fmt.Fprintf(b, " · compared with %s", baseName(r.Result.Base))
	}
	b.WriteString("\n\n")
}

func writeRuleChanges(b *strings.Builder, rc *gate.RuleChanges) {
	if rc == nil || len(rc.Added)+len(rc.Removed)+len(rc.Changed) == 0 {
		return
	}
	b.WriteString("### Policy changes in this pull request\n\n")
	b.WriteString("These changes are **not applied** to this check, which ran with the base branch's policies.\n\n| Rule | Change |\n|---|---|\n")
	for _, group := range []struct {
		ids  []string
		what string
	}{{rc.Added, "added"}, {rc.Removed, "removed"}, {rc.Changed, "changed"}} {
		for _, id := range group.ids {
			fmt.Fprintf(b, "| %s | %s |\n", markdown.Code(id), group.what)
		}
	}
	b.WriteString("\n")
}

func writeChanges(b *strings.Builder, r *gate.Result) {
	if r.Base == nil {
		return
	}
	changed, deleted := r.Changed(), r.Deleted()
	if len(changed)+len(deleted) == 0 {
		b.WriteString("No model version changed.\n\n")
		return
	}
	b.WriteString("### Changed models\n\n| Model | Change | Stage | Owner | Risk |\n|---|---|---|---|---|\n")
	for _, id := range changed {
		change, _ := r.Change(id)
		what := string(change)
		if r.Graph.Node(id) == nil {
			what += " (the manifest no longer loads)"
		}
		m := r.Node(id).Manifest
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", markdown.Code(id), what, cell(m.Spec.Lifecycle.Stage), cell(m.Metadata.Owner), cell(m.Spec.Governance.RiskTier))
	}
	for _, id := range deleted {
		fmt.Fprintf(b, "| %s | deleted | | | |\n", markdown.Code(id))
	}
	b.WriteString("\n")
}

func writeMetrics(b *strings.Builder, r *gate.Result) {
	var rows []string
	for _, id := range r.Changed() {
		_, base := r.Change(id)
		if base == nil || r.Graph.Node(id) == nil {
			continue // new, or no longer loads: nothing to compare
		}
		head := r.Graph.Node(id).Manifest.Spec.Metrics
		for _, name := range slices.Sorted(maps.Keys(head)) {
			was, ok := base.Spec.Metrics[name]
			if !ok {
				continue
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", markdown.Code(id), markdown.Text(name),
				number(was)+" ("+markdown.Text(base.Metadata.Version)+")", number(head[name]), metricChange(name, was, head[name])))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Metrics against the base\n\n| Model | Metric | Base | This change | Change |\n|---|---|---|---|---|\n")
	b.WriteString(strings.Join(rows, "\n"))
	b.WriteString("\n\n")
}

// metricChange renders a change with an arrow, coloured by whether the
// metric got better or worse (when its name says which way is better).
func metricChange(name string, was, now float64) string {
	if was == now {
		return "= 0 %"
	}
	arrow := "▲"
	if now < was {
		arrow = "▼"
	}
	pct := "n/a"
	if was != 0 {
		pct = strconv.FormatFloat(100*(now-was)/math.Abs(was), 'f', 1, 64)
		if now > was {
			pct = "+" + pct
		}
		pct += " %"
	}
	mark := " 🔴"
	if better := now < was; better == lowerIsBetter(name) {
		mark = " 🟢"
	}
	return arrow + " " + pct + mark
}

// lowerIsBetter guesses a metric's good direction from its name.
func lowerIsBetter(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"latency", "memory", "cost", "error", "loss", "size", "time", "mb", "ms", "usd"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func writePicture(b *strings.Builder, r *gate.Result, fs []finding.Finding) {
	graph := r.PictureGraph()
	focus := r.Changed()
	if r.Base == nil {
		focus = nil
		for _, f := range fs {
			if f.Model != "" && graph.Node(f.Model) != nil {
				focus = append(focus, f.Model)
			}
		}
	}
	if len(focus) == 0 {
		return
	}
	view := lineage.View{Only: focus, Status: make(map[string]lineage.Status)}
	status := ModelStatus(fs)
	for _, id := range graph.IDs() {
		view.Status[id] = status(id)
	}
	for _, id := range r.Changed() {
		if view.Status[id] == lineage.StatusOK {
			view.Status[id] = lineage.StatusChanged
		}
	}
	var pic strings.Builder
	if err := graph.Mermaid(&pic, view); err != nil {
		return
	}
	b.WriteString("### Lineage\n\n")
	if nodes := strings.Count(pic.String(), "[\""); nodes > maxPictureNodes {
		fmt.Fprintf(b, "The lineage of these models has %d versions, too many to draw; run `action lineage --model ...` locally.\n\n", nodes)
		return
	}
	b.WriteString("```mermaid\n" + pic.String() + "```\n\n")
}

func writeFindings(b *strings.Builder, fs []finding.Finding, blobURL string, budget int) {
	if len(fs) == 0 {
		return
	}
	b.WriteString("### Findings\n\n")
	groups, order := groupByModel(fs)
	shown := 0
	for _, key := range order {
		group := groups[key]
		var sec strings.Builder
		title := "repository"
		if key != "" {
			title = markdown.Code(key)
		}
		fmt.Fprintf(&sec, "<details open><summary>%s: %s</summary>\n\n| | Where | Rule | Message |\n|---|---|---|---|\n",
			title, counts(finding.Count(group), ", "))
		for _, f := range group {
			row := fmt.Sprintf("| %s | %s | %s | %s |\n", severityIcon(f.Severity), location(f, blobURL), markdown.Code(f.Rule), markdown.Text(f.Message))
			if sec.Len()+len(row)+200 > budget {
				break
			}
			sec.WriteString(row)
			shown++
		}
		sec.WriteString("\n</details>\n\n")
		if sec.Len() > budget {
			break
		}
		budget -= sec.Len()
		b.WriteString(sec.String())
	}
	if cut := len(fs) - shown; cut > 0 {
		fmt.Fprintf(b, "**%s not shown here** (the summary is limited to 1 MiB); the JSON and SARIF reports have them all.\n", plural(cut, "more finding"))
	}
}

// groupByModel groups findings by model id ("" for findings of no model),
// in the order of their worst finding.
func groupByModel(fs []finding.Finding) (map[string][]finding.Finding, []string) {
	groups := make(map[string][]finding.Finding)
	var order []string
	for _, f := range fs {
		key := f.Model
		if key == "" && f.File != "" {
			key = f.File
		}
		if _, seen := groups[key]; !seen {
			order = append(order, key)
		}
		groups[key] = append(groups[key], f)
	}
	return groups, order
}

func severityIcon(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "❌ error"
	case finding.Warning:
		return "⚠️ warning"
	case finding.Exception:
		return "🔕 exception"
	default:
		return "ℹ️ note"
	}
}

// location renders a finding's location, linked to the file when possible.
func location(f finding.Finding, blobURL string) string {
	if f.File == "" {
		return "—"
	}
	text := markdown.Code(f.File + ":" + strconv.Itoa(f.Line))
	if blobURL == "" || f.Line == 0 {
		return text
	}
	var segs []string
	for _, s := range strings.Split(f.File, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	return fmt.Sprintf("[%s](%s%s#L%d)", text, blobURL, strings.Join(segs, "/"), f.Line)
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return markdown.Text(s)
}

func number(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// baseName names the base as people know it, the branch beside the
// commit: `main` at `0a5621bd392a`; a base named by its commit alone is
// named once.
func baseName(b *gate.Base) string {
	sha := short(b.Commit)
	if b.Name == "" || strings.HasPrefix(b.Commit, b.Name) {
		return markdown.Code(sha)
	}
	return markdown.Code(b.Name) + " at " + markdown.Code(sha)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
