package rolloutcomment

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withoutOwnTags removes the only HTML the renderer writes itself.
func withoutOwnTags(s string) string {
	return strings.NewReplacer("<details open>", "", "<details>", "", "</details>", "", "<summary>", "", "</summary>", "",
		"<sub>", "", "</sub>", "").Replace(s)
}

func FuzzStatus(f *testing.F) {
	f.Add("fraud-scorer", "2.1.0", "latency_p99_ms", "the canary is slower", "analyzing", "increase_is_bad", "alice",
		"https://github.com/acme/models", "0123456789abcdef0123456789abcdef01234567", 120.5, 0.031, 60, int64(60))
	f.Add("\"]\nclick A call alert()", "</details><img src=x onerror=alert(1)>", "@org/team", "```\n%%{init: {}}%%",
		"rolled_back", "decrease_is_bad", "@org/team", "javascript:alert(1)", "zz", -1e300, 1e300, 3, int64(0))
	f.Add("", "", "", "", "", "", "", "", "", 0.0, 0.0, 0, int64(-5))
	f.Fuzz(func(t *testing.T, model, version, metric, reason, phase, direction, login, repo, head string,
		level, delta float64, n int, stepSeconds int64) {
		n = min(max(n, 0), 2000)
		step := time.Duration(stepSeconds) * time.Second
		since := t0()
		v := View{
			RolloutID: 42, Model: model, Version: version, Baseline: version, Environment: reason, HeadSHA: head,
			RepoURL: repo, StartedBy: login, StartedAt: since, Phase: phase, Reason: reason, Current: n % 5,
			Stages: []Stage{{Traffic: level, Window: step, State: phase, DeploymentID: stepSeconds}, {Traffic: 100, Manual: true}},
			Look:   n, Looks: n, Interval: step, UpdatedAt: since.Add(step),
			Analysis: &Analysis{At: since, Since: since.Add(step), Decision: phase, Reason: reason, Error: metric},
		}
		for i := range 3 {
			v.Analysis.Metrics = append(v.Analysis.Metrics, Metric{
				Name: metric, Direction: direction, Tolerance: delta, Critical: i == 0, Baseline: level, Canary: level + delta,
				Change: delta, CI: [2]float64{delta - 1, delta + level}, P: delta, Confidence: level, Verdict: phase, Reason: reason,
				BaselineSeries: every(since, step, n, func(j int) float64 { return level + delta*float64(j%5) }),
				CanarySeries:   every(since.Add(step/2), step, n/(i+1), func(j int) float64 { return level - delta*float64(j%3) }),
			})
		}
		got := Status(v)
		require.True(t, strings.HasPrefix(got, Marker(42)+"\n"))
		require.LessOrEqual(t, len(got), MaxLen)
		body := strings.TrimPrefix(got, Marker(42))
		assert.NotContains(t, withoutOwnTags(body), "<", "no HTML but the renderer's own")
		assert.Equal(t, strings.Count(body, "@"), strings.Count(body, "@\u2060"), "no mention")
		assert.Equal(t, 0, strings.Count(body, "```")%2, "every fence closed")
		assertMermaidInert(t, got)

		note := Note(42, n, reason)
		require.True(t, strings.HasSuffix(note, "\n\n"+NoteMarker(42, n)))
		require.LessOrEqual(t, len(note), MaxLen)
		assert.NotContains(t, strings.TrimSuffix(note, NoteMarker(42, n)), "<")
	})
}
