package rolloutcomment

import (
	"fmt"
	"math"
	"strings"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// Summary says in one line of plain text where the rollout stands, and on
// a rollback which metrics failed, by how much and with what confidence:
// the text of the notice the engine posts with Note (which escapes it), or
// of a deployment status's description once cut to its length.
func Summary(v View) string {
	who := strings.TrimSpace(v.Model + " " + v.Version)
	at := ""
	if s, ok := stageAt(v); ok {
		at = fmt.Sprintf(" at stage %d of %d (%s)", v.Current+1, len(v.Stages), share(s.Traffic))
	}
	var line string
	switch rollout.Phase(v.Phase) {
	case rollout.Promoted:
		line = fmt.Sprintf("%s promoted to 100 %% in %s", who, v.Environment)
	case rollout.RolledBack:
		line = who + " rolled back" + at + withReason(failures(v.Analysis), v.Reason)
	case rollout.Waiting:
		line = who + " passed" + strings.Replace(at, " at", "", 1) + " and waits for /promote"
	case rollout.Analyzing:
		line = who + " is being analysed" + at
		if v.Looks > 0 {
			line += fmt.Sprintf(", look %d of %d", v.Look, v.Looks)
		}
	default:
		line = who + " " + strings.ReplaceAll(v.Phase, "_", " ") + at + withReason("", v.Reason)
	}
	return line + "."
}

// withReason appends the first of the texts that is not empty.
func withReason(texts ...string) string {
	for _, t := range texts {
		if t != "" {
			return ": " + t
		}
	}
	return ""
}

// failures lists the failed metrics of a judgement in words, or "".
func failures(a *Analysis) string {
	if a == nil {
		return ""
	}
	var out []string
	for _, m := range a.Metrics {
		if m.Verdict != "fail" {
			continue
		}
		s := m.Name + " " + percent(m.Change)
		if !math.IsNaN(m.CI[0]) && !math.IsNaN(m.CI[1]) {
			s += " [" + percent(m.CI[0]) + ", " + percent(m.CI[1]) + "]"
		}
		s += ", beyond its tolerance of " + share(100*m.Tolerance)
		s += " (p = " + strings.Replace(pValue(m.P), "&lt;", "<", 1)
		if c := confidence(m.Confidence); c != "" {
			s += ", " + c + " confidence"
		}
		out = append(out, s+")")
	}
	return strings.Join(out, "; ")
}
