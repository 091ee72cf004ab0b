package history

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/store"
)

// timeLayout is how times are shown: minutes are precise enough for people.
const timeLayout = "2006-01-02 15:04 UTC"

// Markdown renders h for people: per repository, model and environment, the
// version live now, a table of the rollouts, newest first, and the versions
// that served all traffic before. Text from the store is escaped.
func Markdown(h History) string {
	var b strings.Builder
	for i, g := range h.Groups {
		if i > 0 {
			b.WriteString("\n")
		}
		writeGroup(&b, g)
	}
	if h.Truncated {
		fmt.Fprintf(&b, "\nOnly the newest %d rollouts were read.\n", MaxRollouts)
	}
	return b.String()
}

func writeGroup(b *strings.Builder, g Group) {
	fmt.Fprintf(b, "## %s in %s · %s\n\n", markdown.Text(g.Model), markdown.Text(g.Environment), markdown.Text(g.Repo))
	fmt.Fprintf(b, "Live: %s\n\n", liveLine(g.Live))
	b.WriteString("| version | baseline | outcome | traffic | from | until | started by | decided by | why | links |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range g.Rollouts {
		version := markdown.Text(r.Version)
		if r.Live {
			version = "**" + version + "** (live)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d %% | %s | %s | %s | %s | %s | %s · [deployments](%s) |\n",
			version, orDash(markdown.Text(r.BaselineVersion)), outcome(r), r.TrafficPercent, showTime(r.From),
			until(r.Until), orDash(markdown.Text(r.StartedBy)), orDash(markdown.Text(r.DecidedBy)),
			orDash(markdown.Text(r.Reason)), prLink(r.PR, r.PRURL), g.DeploymentsURL)
	}
	if g.More > 0 {
		fmt.Fprintf(b, "\n%d older rollout(s) not shown (raise --limit).\n", g.More)
	}
	if len(g.Served) > 0 {
		b.WriteString("\nServed all traffic:\n\n| version | from | until | promoted by | pull request |\n| --- | --- | --- | --- | --- |\n")
		for _, s := range g.Served {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", markdown.Text(s.Version), showTime(s.From), until(s.Until),
				orDash(markdown.Text(s.PromotedBy)), prLink(s.PR, s.PRURL))
		}
	}
}

// Summary renders a short history for a pull request's reply: per model
// and environment, the live version and the newest perGroup rollouts (all
// when perGroup is zero). Text from the store is escaped.
func Summary(h History, perGroup int) string {
	var b strings.Builder
	for i, g := range h.Groups {
		if i > 0 {
			b.WriteString("\n") // or the next line would continue the list
		}
		fmt.Fprintf(&b, "**%s** in **%s**, live: %s\n", markdown.Text(g.Model), markdown.Text(g.Environment), liveLine(g.Live))
		rs := g.Rollouts
		if perGroup > 0 && len(rs) > perGroup {
			rs = rs[:perGroup]
		}
		for _, r := range rs {
			fmt.Fprintf(&b, "- %s %s at %d %%, %s – %s, started by %s", markdown.Text(r.Version), outcome(r),
				r.TrafficPercent, showTime(r.From), until(r.Until), orDash(markdown.Text(r.StartedBy)))
			if r.DecidedBy != "" || r.Reason != "" {
				fmt.Fprintf(&b, ", decided by %s: %s", orDash(markdown.Text(r.DecidedBy)), orDash(markdown.Text(r.Reason)))
			}
			fmt.Fprintf(&b, " (%s)\n", prLink(r.PR, r.PRURL))
		}
	}
	return b.String()
}

func liveLine(s *Serving) string {
	if s == nil {
		return "no promotion recorded"
	}
	return fmt.Sprintf("**%s** since %s, promoted by %s (%s)", markdown.Text(s.Version), showTime(s.From),
		orDash(markdown.Text(s.PromotedBy)), prLink(s.PR, s.PRURL))
}

// outcome says where a rollout is, and who paused it why, or how it ended.
func outcome(r Rollout) string {
	state := markdown.Text(strings.ReplaceAll(r.State, "_", " "))
	switch r.State {
	case store.RolloutRunning:
		return state + ", stage " + strconv.Itoa(r.Stage+1)
	case store.RolloutPaused:
		state += ", stage " + strconv.Itoa(r.Stage+1)
		if e, ok := lastEvent(r.Events, store.ActionRolloutPaused); ok {
			state += " (by " + orDash(markdown.Text(e.Actor))
			if e.Reason != "" {
				state += ": " + markdown.Text(e.Reason)
			}
			state += ")"
		}
	}
	return state
}

func lastEvent(events []Event, action string) (Event, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Action == action {
			return events[i], true
		}
	}
	return Event{}, false
}

func prLink(n int, u string) string {
	if u == "" {
		return "—"
	}
	return fmt.Sprintf("[#%d](%s)", n, u)
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

func until(t *time.Time) string {
	if t == nil {
		return "now"
	}
	return showTime(*t)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
