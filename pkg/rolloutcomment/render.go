package rolloutcomment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// render writes the whole status comment, with or without charts.
func render(v View, charts bool) string {
	var b strings.Builder
	b.WriteString(Marker(v.RolloutID) + "\n")
	writeHeading(&b, v)
	writeOutcome(&b, v)
	writePlan(&b, v)
	if v.Analysis != nil {
		writeAnalysis(&b, v)
		if charts {
			writeCharts(&b, v)
		} else if hasSeries(v.Analysis) {
			b.WriteString("\n*Charts left out: with them the comment would pass GitHub's size limit.*\n")
		}
	}
	writeFooter(&b, v)
	return b.String()
}

// phaseLook is how a phase is shown: its emoji and words.
type phaseLook struct{ emoji, words string }

func lookOf(phase string) phaseLook {
	l, ok := map[rollout.Phase]phaseLook{
		rollout.Deploying:  {"🚀", "deploying"},
		rollout.Analyzing:  {"🔬", "analysing"},
		rollout.Waiting:    {"✋", "waiting for /promote"},
		rollout.Paused:     {"⏸️", "paused"},
		rollout.Promoted:   {"✅", "promoted to 100 %"},
		rollout.RolledBack: {"⏪", "rolled back"},
		rollout.Aborted:    {"🛑", "aborted"},
		rollout.Failed:     {"💥", "failed"},
	}[rollout.Phase(phase)]
	if !ok {
		return phaseLook{"❔", markdown.Text(phase)}
	}
	return l
}

func writeHeading(b *strings.Builder, v View) {
	l := lookOf(v.Phase)
	fmt.Fprintf(b, "### %s Canary of %s %s: %s\n\n", l.emoji, markdown.Text(v.Model), markdown.Text(v.Version), l.words)
	fmt.Fprintf(b, "%s against baseline %s in %s", strong(v.Version), strong(v.Baseline), strong(v.Environment))
	if c := commit(v.RepoURL, v.HeadSHA); c != "" {
		b.WriteString(", commit " + c)
	}
	if v.StartedBy != "" {
		b.WriteString(", started by " + markdown.Text("@"+v.StartedBy))
	}
	b.WriteString(".\n")
	if s, ok := stageAt(v); ok {
		fmt.Fprintf(b, "Stage %d of %d, %s traffic", v.Current+1, len(v.Stages), share(s.Traffic))
		if v.Phase == string(rollout.Analyzing) && v.Looks > 0 {
			fmt.Fprintf(b, ": look %d of %d, one every %s", v.Look, v.Looks, duration(v.Interval))
		}
		b.WriteString(".\n")
	}
}

// strong escapes s and sets it in bold, or shows a dash when it is empty
// (an empty "****" would print as is).
func strong(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return "**" + markdown.Text(strings.TrimSpace(s)) + "**"
}

// commit shows the head commit short, linked to the repository when both
// look as they should.
func commit(repo, head string) string {
	if !isSHA(head) {
		if head == "" {
			return ""
		}
		return markdown.Text(markdown.Truncate(head, 12))
	}
	short := markdown.Code(head[:7])
	if !isRepoURL(repo) {
		return short
	}
	return "[" + short + "](" + repo + "/commit/" + head + ")"
}

// isSHA reports whether s looks like a commit id (SHA-1 or SHA-256).
func isSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// isRepoURL reports whether s is an https address with nothing in it that
// could end a link's destination or start markup.
func isRepoURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return false
	}
	for _, r := range rest {
		if !(r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./-_~:", r))) {
			return false
		}
	}
	return true
}

// stageAt returns the current stage when Current points at one.
func stageAt(v View) (Stage, bool) {
	if v.Current < 0 || v.Current >= len(v.Stages) {
		return Stage{}, false
	}
	return v.Stages[v.Current], true
}

// writeOutcome says why the rollout stopped or waits, which metrics failed,
// and what a reviewer can do next.
func writeOutcome(b *strings.Builder, v View) {
	if v.Reason != "" {
		fmt.Fprintf(b, "\n> **Why:** %s\n", markdown.Text(v.Reason))
	}
	if v.Phase == string(rollout.RolledBack) && v.Analysis != nil {
		for _, m := range v.Analysis.Metrics {
			if m.Verdict == "fail" {
				fmt.Fprintf(b, "\n❌ %s\n", failure(m))
			}
		}
	}
	if v.Phase == string(rollout.Promoted) {
		fmt.Fprintf(b, "\n%s now serves all traffic in %s, after %s.\n", strong(v.Version), strong(v.Environment), stagesPassed(v.Stages))
	}
	if next := nextStep(v); next != "" {
		fmt.Fprintf(b, "\n%s\n", next)
	}
}

// stagesPassed counts the stages that passed, in words.
func stagesPassed(stages []Stage) string {
	n := 0
	for _, s := range stages {
		if s.State == "passed" {
			n++
		}
	}
	if n == 1 {
		return "1 stage that passed"
	}
	return fmt.Sprintf("%d stages that passed", n)
}

// failure says of a failed metric by how much it moved and with what
// confidence.
func failure(m Metric) string {
	moved := "changed"
	switch m.Direction {
	case "increase_is_bad":
		moved = "rose"
	case "decrease_is_bad":
		moved = "fell"
	}
	s := fmt.Sprintf("**%s**%s %s by **%s**", markdown.Text(m.Name), criticalTag(m.Critical), moved, percent(m.Change))
	if !math.IsNaN(m.CI[0]) && !math.IsNaN(m.CI[1]) {
		s += fmt.Sprintf(" (%s interval %s to %s)", orWord(confidence(m.Confidence), "confidence"), percent(m.CI[0]), percent(m.CI[1]))
	}
	s += fmt.Sprintf(", beyond its tolerance of %s; p = %s", share(100*m.Tolerance), pValue(m.P))
	if c := confidence(m.Confidence); c != "" {
		s += " at " + c + " confidence"
	}
	if m.Reason != "" {
		s += ": " + markdown.Text(m.Reason)
	}
	return s + "."
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}

func criticalTag(critical bool) string {
	if critical {
		return " *(critical)*"
	}
	return ""
}

// nextStep tells a reviewer which commands apply now.
func nextStep(v View) string {
	switch rollout.Phase(v.Phase) {
	case rollout.Deploying:
		return "Waiting for the deploy workflow to report the deployment. `/abort` or `/rollback` stops the rollout."
	case rollout.Analyzing:
		return "`/pause` holds the rollout, `/promote` skips the rest of the window, `/rollback` returns to the baseline."
	case rollout.Waiting:
		if v.Current+1 < len(v.Stages) {
			return fmt.Sprintf("This stage has a manual gate: `/promote` goes on to %s, `/rollback` returns to the baseline.",
				share(v.Stages[v.Current+1].Traffic))
		}
		return "This stage has a manual gate: `/promote` goes on, `/rollback` returns to the baseline."
	case rollout.Paused:
		if v.Outage {
			return fmt.Sprintf("The analysis restarts on its own once the metrics provider answers again (tried every %s); "+
				"`/resume` restarts it now, `/rollback` returns to the baseline.", v.Interval)
		}
		return "`/resume` goes on where the rollout stopped, `/rollback` returns to the baseline."
	}
	return ""
}

func writePlan(b *strings.Builder, v View) {
	if len(v.Stages) == 0 {
		return
	}
	b.WriteString("\n| | stage | traffic | analysis | gate | deployment | state |\n|---|---:|---:|---|---|---|---|\n")
	for i, s := range v.Stages {
		mark := ""
		if i == v.Current {
			mark = "▶"
		}
		gate := "auto"
		if s.Manual {
			gate = "manual"
		}
		dep := "—"
		if s.DeploymentID != 0 {
			dep = "`" + strconv.FormatInt(s.DeploymentID, 10) + "`"
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s |\n", mark, i+1, share(s.Traffic), duration(s.Window), gate, dep,
			stageState(s.State))
	}
}

func stageState(state string) string {
	shown, ok := map[string]string{
		"pending":   "⚪ pending",
		"deploying": "🚀 deploying",
		"analyzing": "🔬 analysing",
		"passed":    "✅ passed",
		"failed":    "❌ failed",
		"skipped":   "⏭️ skipped",
		"waiting":   "✋ waiting",
	}[state]
	if !ok {
		return markdown.Text(state)
	}
	return shown
}

func writeAnalysis(b *strings.Builder, v View) {
	a := v.Analysis
	b.WriteString("\n#### Analysis")
	if a.Looks > 0 {
		fmt.Fprintf(b, ", look %d of %d", a.Look, a.Looks)
	}
	if !a.At.IsZero() {
		fmt.Fprintf(b, ", %s", clock(a.At))
	}
	fmt.Fprintf(b, "\n\n%s **%s**", decisionEmoji(a.Decision), markdown.Text(orWord(a.Decision, "no decision")))
	if a.Reason != "" {
		b.WriteString(": " + markdown.Text(a.Reason))
	}
	b.WriteString("\n")
	if a.Error != "" {
		fmt.Fprintf(b, "\n> ⚠️ The metrics provider failed: %s\n", markdown.Text(a.Error))
	}
	if len(a.Metrics) == 0 {
		return
	}
	fmt.Fprintf(b, "\n| metric | direction | tolerance | baseline | canary | change [%s] | p | verdict |\n", ciLabel(a.Metrics))
	b.WriteString("|---|---|---:|---:|---:|---|---:|---|\n")
	for _, m := range a.Metrics {
		fmt.Fprintf(b, "| %s%s | %s | %s | %s | %s | %s | %s | %s |\n", markdown.Text(m.Name), criticalTag(m.Critical),
			direction(m.Direction), share(100*m.Tolerance), value(m.Baseline), value(m.Canary), change(m.Change, m.CI),
			pValue(m.P), verdict(m))
	}
	writeWhatHolds(b, a.Metrics)
}

// writeWhatHolds says what the confidence means for the metrics shown:
// for the count kinds, the requests each side served.
func writeWhatHolds(b *strings.Builder, ms []Metric) {
	for _, m := range ms {
		if m.Kind != "ratio" && m.Kind != "histogram" {
			continue
		}
		fmt.Fprintf(b, "\n<sub>Errors and latency are judged on the requests counted over disjoint slices of the window "+
			"(baseline %s, canary %s so far); measured, an unchanged canary fails a stage at most 1 %% of the time over all its looks "+
			"and metrics (bursts of latency can take it to 2–3 %%). `query` metrics are judged on samples taken no closer than their range.</sub>\n",
			count(m.Requests[0]), count(m.Requests[1]))
		return
	}
}

// count writes a number of requests, rounded, with thousands separated.
func count(x float64) string {
	return message.NewPrinter(language.English).Sprintf("%d", int64(math.Round(x)))
}

func decisionEmoji(decision string) string {
	switch decision {
	case "pass":
		return "✅"
	case "fail":
		return "❌"
	case "inconclusive":
		return "⏳"
	}
	return "⚠️"
}

// ciLabel names the interval column with the level the metrics share.
func ciLabel(ms []Metric) string {
	for _, m := range ms {
		if c := confidence(m.Confidence); c != "" {
			return c + " CI"
		}
	}
	return "CI"
}

func direction(d string) string {
	switch d {
	case "increase_is_bad":
		return "↑ is bad"
	case "decrease_is_bad":
		return "↓ is bad"
	}
	return markdown.Text(d)
}

func verdict(m Metric) string {
	s := markdown.Text(m.Verdict)
	switch m.Verdict {
	case "pass":
		s = "✅ pass"
	case "fail":
		s = "❌ fail"
	case "nodata":
		s = "⚪ nodata"
	}
	if m.Reason != "" && m.Verdict != "pass" {
		s += ": " + markdown.Text(m.Reason)
	}
	return s
}

func hasSeries(a *Analysis) bool {
	for _, m := range a.Metrics {
		if len(m.BaselineSeries) > 0 || len(m.CanarySeries) > 0 {
			return true
		}
	}
	return false
}

// writeCharts draws each metric's window, folded unless the rollout was
// rolled back, when the failing curve is what a reviewer comes to see.
func writeCharts(b *strings.Builder, v View) {
	a := v.Analysis
	if !hasSeries(a) {
		return
	}
	open := ""
	if v.Phase == string(rollout.RolledBack) {
		open = " open"
	}
	fmt.Fprintf(b, "\n<details%s><summary>Charts: baseline grey, canary blue, means per interval</summary>\n\n", open)
	for _, m := range a.Metrics {
		s, why := bucket(a.Since, m.BaselineSeries, m.CanarySeries, MaxChartPoints)
		if why != "" {
			fmt.Fprintf(b, "%s: no chart, %s.\n\n", markdown.Text(m.Name), why)
			continue
		}
		writeChart(b, m.Name, s)
		b.WriteString("\n")
	}
	b.WriteString("</details>\n")
}

func writeFooter(b *strings.Builder, v View) {
	var parts []string
	if !v.UpdatedAt.IsZero() {
		parts = append(parts, "updated "+clock(v.UpdatedAt))
	}
	if !v.StartedAt.IsZero() && v.UpdatedAt.After(v.StartedAt) {
		verb := "running for "
		if terminal(v.Phase) {
			verb = "took "
		}
		parts = append(parts, verb+duration(elapsed(v.UpdatedAt.Sub(v.StartedAt))))
	}
	parts = append(parts, "this comment is edited in place as the rollout moves")
	fmt.Fprintf(b, "\n<sub>%s</sub>\n", strings.Join(parts, " · "))
}

// terminal reports whether a phase ends the rollout.
func terminal(phase string) bool {
	return (rollout.State{Phase: rollout.Phase(phase)}).Terminal()
}

// elapsed rounds a running time to what a reader wants: seconds under a
// minute, whole minutes above.
func elapsed(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Truncate(time.Minute)
}
