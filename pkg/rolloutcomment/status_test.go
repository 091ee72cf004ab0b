package rolloutcomment

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
)

var nan = math.NaN()

// t0 is when the fixtures' rollout started.
func t0() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

// wave is n samples a minute apart from start: level plus a small
// deterministic wiggle, so that golden files do not depend on a generator.
func wave(start time.Time, n int, level, amp float64) []Point {
	ps := make([]Point, n)
	for i := range ps {
		ps[i] = Point{T: start.Add(time.Duration(i) * time.Minute), V: level + amp*math.Sin(float64(i)*0.7)}
	}
	return ps
}

func plan() []Stage {
	return []Stage{
		{Traffic: 5, Window: 30 * time.Minute, State: "passed", DeploymentID: 101},
		{Traffic: 25, Window: time.Hour, State: "analyzing", DeploymentID: 102},
		{Traffic: 50, Window: time.Hour, Manual: true, State: "pending"},
		{Traffic: 100, State: "pending"},
	}
}

func base() View {
	return View{
		RolloutID: 7, Model: "fraud-scorer", Version: "2.1.0", Baseline: "2.0.3", Environment: "production",
		HeadSHA: "0123456789abcdef0123456789abcdef01234567", RepoURL: "https://github.com/acme/models",
		StartedBy: "alice", StartedAt: t0(), Stages: plan(), Interval: 5 * time.Minute,
	}
}

func latency(since time.Time, n int, canary float64) Metric {
	return Metric{
		Name: "latency_p99_ms", Direction: "increase_is_bad", Tolerance: 0.05, Critical: true,
		Baseline: 120.4, Canary: canary, Change: canary/120.4 - 1, CI: [2]float64{-0.01, 0.07}, P: 0.21, Confidence: 0.99,
		Verdict: "pass", BaselineSeries: wave(since, n, 120, 6), CanarySeries: wave(since, n, canary, 7),
	}
}

func errorRate(since time.Time, n int) Metric {
	return Metric{
		Name: "error_rate", Direction: "increase_is_bad", Tolerance: 0.1,
		Baseline: 0.0021, Canary: 0.0019, Change: -0.095, CI: [2]float64{-0.31, 0.18}, P: 0.74, Confidence: 0.99,
		Verdict: "pass", BaselineSeries: wave(since, n, 0.002, 0.0004), CanarySeries: wave(since, n, 0.0019, 0.0005),
	}
}

func analysing() View {
	v := base()
	since := t0().Add(40 * time.Minute)
	v.Phase, v.Current, v.Look, v.Looks = "analyzing", 1, 2, 6
	v.UpdatedAt = since.Add(10 * time.Minute)
	v.Analysis = &Analysis{
		At: v.UpdatedAt, Look: 2, Looks: 6, Since: since, Decision: "inconclusive",
		Reason:  "the window is still open",
		Metrics: []Metric{latency(since, 10, 123.1), errorRate(since, 10)},
	}
	return v
}

func rolledBack() View {
	v := base()
	since := t0().Add(40 * time.Minute)
	v.Phase, v.Current = "rolled_back", 1
	v.Reason = "latency_p99_ms failed: +12.3 % beyond its tolerance of 5 %"
	v.Stages[1].State = "failed"
	v.UpdatedAt = since.Add(25 * time.Minute)
	bad := latency(since, 25, 135.2)
	bad.Change, bad.CI, bad.P, bad.Verdict = 0.123, [2]float64{0.081, 0.164}, 0.0012, "fail"
	bad.Reason = "the canary is slower beyond tolerance"
	v.Analysis = &Analysis{
		At: v.UpdatedAt, Look: 5, Looks: 12, Since: since, Decision: "fail",
		Reason:  "critical metric latency_p99_ms failed",
		Metrics: []Metric{bad, errorRate(since, 25)},
	}
	return v
}

func waiting() View {
	v := base()
	since := t0().Add(100 * time.Minute)
	v.Stages[1].State = "passed"
	v.Stages[2].State, v.Stages[2].DeploymentID = "waiting", 103
	v.Phase, v.Current = "waiting", 2
	v.UpdatedAt = since.Add(time.Hour)
	v.Analysis = &Analysis{
		At: v.UpdatedAt, Look: 12, Looks: 12, Since: since, Decision: "pass",
		Reason:  "every metric passed",
		Metrics: []Metric{latency(since, 60, 121.0), errorRate(since, 60)},
	}
	return v
}

func pausedProvider() View {
	v := base()
	v.Phase, v.Current, v.Look, v.Looks = "paused", 1, 4, 12
	v.Reason, v.Outage = "the metrics provider failed 3 times in a row (prometheus: connection refused)", true
	v.UpdatedAt = t0().Add(75 * time.Minute)
	v.Analysis = &Analysis{
		At: v.UpdatedAt, Look: 4, Looks: 12, Decision: "nodata",
		Error: `query latency_p99_ms: Post "http://prometheus:9090/api/v1/query_range": dial tcp 10.0.0.7:9090: connect: connection refused`,
		Metrics: []Metric{
			{Name: "latency_p99_ms", Direction: "increase_is_bad", Tolerance: 0.05, Critical: true, Baseline: nan, Canary: nan,
				Change: nan, CI: [2]float64{nan, nan}, P: nan, Verdict: "nodata", Reason: "no samples"},
		},
	}
	return v
}

func promoted() View {
	v := base()
	since := t0().Add(165 * time.Minute)
	for i := range v.Stages {
		v.Stages[i].State = "passed"
		v.Stages[i].DeploymentID = int64(101 + i)
	}
	v.Phase, v.Current = "promoted", 3
	v.UpdatedAt = since.Add(70 * time.Minute)
	v.Analysis = &Analysis{
		At: since.Add(time.Hour), Look: 12, Looks: 12, Since: since, Decision: "pass", Reason: "every metric passed",
		Metrics: []Metric{latency(since, 60, 119.8), errorRate(since, 60)},
	}
	return v
}

func TestStatusGolden(t *testing.T) {
	for name, v := range map[string]View{
		"analysing.md":       analysing(),
		"rolled_back.md":     rolledBack(),
		"waiting.md":         waiting(),
		"paused_provider.md": pausedProvider(),
		"promoted.md":        promoted(),
	} {
		t.Run(name, func(t *testing.T) {
			got := Status(v)
			assert.True(t, strings.HasPrefix(got, Marker(7)+"\n"))
			golden.Assert(t, name, got)
		})
	}
}

func TestStatusShowsWhatMatters(t *testing.T) {
	tests := []struct {
		name string
		v    View
		want []string
	}{
		{"look and change with its interval", analysing(), []string{
			"look 2 of 6", "+2.2 % [−1.0 %, +7.0 %]", "| ▶ | 2 | 25 % | 1h | auto | `102` | 🔬 analysing |",
			"[`0123456`](https://github.com/acme/models/commit/0123456789abcdef0123456789abcdef01234567)",
			"xychart-beta", "x-axis \"minutes since the window opened\" 0 --> 9",
		}},
		{"which metric failed, by how much, how sure", rolledBack(), []string{
			"⏪", "**latency\\_p99\\_ms** *(critical)* rose by **+12.3 %** (99 % interval +8.1 % to +16.4 %)",
			"p = 0.0012 at 99 % confidence", "<details open>",
		}},
		{"the gate and the command", waiting(), []string{"✋", "`/promote` goes on to 100 %", "| ▶ | 3 | 50 % | 1h | manual |"}},
		{"the provider's error", pausedProvider(), []string{
			"⏸️", "The metrics provider failed: query latency\\_p99\\_ms&#58;", "⚪ nodata", "| — | — | — |", "`/resume`",
		}},
		{"the final summary", promoted(), []string{"✅ Canary of fraud-scorer 2.1.0: promoted to 100 %", "took 3h55m",
			"**2.1.0** now serves all traffic in **production**, after 4 stages that passed."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Status(tt.v)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
		})
	}
}

func TestStatusWithoutAnalysis(t *testing.T) {
	v := base()
	v.Phase, v.Current = "deploying", 0
	v.Stages[0].State = "deploying"
	got := Status(v)
	assert.Contains(t, got, "🚀 Canary of fraud-scorer 2.1.0: deploying")
	assert.NotContains(t, got, "#### Analysis")
	assert.NotContains(t, got, "mermaid")
}

func TestStatusChartWithoutData(t *testing.T) {
	v := analysing()
	v.Analysis.Metrics[1].CanarySeries = []Point{{T: t0(), V: nan}}
	got := Status(v)
	assert.Contains(t, got, "error\\_rate: no chart, no canary samples.")
	assert.Equal(t, 1, strings.Count(got, "xychart-beta"))
}

func TestStatusKeepsHostileTextInert(t *testing.T) {
	hostile := []string{
		"\"]\nclick A call alert()",
		"</details><img src=x onerror=alert(1)>",
		"@org/team",
		"```\n%%{init: {\"securityLevel\": \"loose\"}}%%",
		"#1 [x](javascript:alert(1))",
	}
	for _, h := range hostile {
		t.Run(h, func(t *testing.T) {
			v := analysing()
			v.Model, v.Version, v.Environment, v.StartedBy, v.Reason = h, h, h, h, h
			v.Analysis.Reason, v.Analysis.Error = h, h
			v.Analysis.Metrics[0].Name, v.Analysis.Metrics[0].Reason, v.Analysis.Metrics[0].Direction = h, h, h
			v.Stages[0].State = h
			got := Status(v)
			if !assert.NotContains(t, got, "<img") {
				return
			}
			assert.NotContains(t, got, "</details><")
			assert.Equal(t, 1, strings.Count(got, "</details>"), "only the bot's own closing tag")
			assert.NotContains(t, got, "@org")
			assert.NotContains(t, got, "](javascript")
			assert.Equal(t, 4, strings.Count(got, "```"), "two charts, each fence opened and closed")
			assertMermaidInert(t, got)
		})
	}
}

// assertMermaidInert checks that every line of every Mermaid block is one
// the renderer wrote, with a title that cannot leave its quotes.
func assertMermaidInert(t *testing.T, body string) {
	t.Helper()
	in := false
	for _, line := range strings.Split(body, "\n") {
		switch {
		case line == "```mermaid":
			in = true
		case line == "```":
			in = false
		case in && strings.HasPrefix(line, "  title "):
			assert.Regexp(t, `^  title "[^"\[\]{}<>%#;&`+"`"+`\\]*"$`, line)
		case in:
			assert.Regexp(t, `^(%%\{init: \{"xyChart": |xychart-beta$|  x-axis "(seconds|minutes|hours) since the (window opened|first sample)" 0 --> \d+$|  y-axis -?[0-9.]+ --> -?[0-9.]+$|  line \[[-0-9., ]+\]$)`, line)
		}
	}
}

func TestStatusFitsGitHubLimit(t *testing.T) {
	v := analysing()
	since := v.Analysis.Since
	v.Analysis.Metrics = nil
	for i := range 50 {
		m := latency(since, 10000, 123)
		m.Name = strings.Repeat("m", 20) + string(rune('a'+i%26))
		v.Analysis.Metrics = append(v.Analysis.Metrics, m)
	}
	got := Status(v)
	require.LessOrEqual(t, len(got), MaxLen)
	assert.True(t, strings.HasPrefix(got, Marker(7)))
	assert.Equal(t, 50, strings.Count(got, "xychart-beta"), "50 charts of 40 points fit")

	for i := range v.Analysis.Metrics {
		v.Analysis.Metrics[i].Verdict = "fail"
		v.Analysis.Metrics[i].Reason = strings.Repeat("slow ", 160)
	}
	got = Status(v)
	require.LessOrEqual(t, len(got), MaxLen)
	assert.True(t, strings.HasPrefix(got, Marker(7)))
	assert.Contains(t, got, "Charts left out")
	assert.NotContains(t, got, "xychart-beta")
	assert.Equal(t, 50, strings.Count(got, "| ❌ fail: slow"), "every metric's row stays")

	for i := range v.Analysis.Metrics {
		v.Analysis.Metrics[i].Name = strings.Repeat("<@", 5000)
		v.Analysis.Metrics[i].Reason = strings.Repeat("&:", 5000)
	}
	got = Status(v)
	require.LessOrEqual(t, len(got), MaxLen)
	assert.True(t, strings.HasPrefix(got, Marker(7)))
	assert.True(t, strings.HasSuffix(got, truncatedNote))
}

func TestCutEndsAtALine(t *testing.T) {
	body := Marker(1) + "\n" + strings.Repeat("a line of text\n", 10000)
	got := cut(body, 1000)
	require.LessOrEqual(t, len(got), 1000)
	assert.True(t, strings.HasSuffix(got, "a line of text"+truncatedNote))

	long := strings.Repeat("é", 2000)
	got = cut(long, 1000)
	require.LessOrEqual(t, len(got), 1000)
	assert.True(t, strings.HasPrefix(got, "éé"))
	assert.True(t, strings.HasSuffix(got, "é"+truncatedNote), "cut at a character boundary")
}

func TestMarkers(t *testing.T) {
	assert.Equal(t, "<!-- modelgate:rollout=7:status -->", Marker(7))
	assert.Equal(t, "<!-- modelgate:rollout=7:note=12 -->", NoteMarker(7, 12))
}

func TestNote(t *testing.T) {
	got := Note(7, 3, "@alice rolled back fraud-scorer <b>now</b>\nsecond line")
	assert.Equal(t, "@\u2060alice rolled back fraud-scorer &lt;b&gt;now&lt;/b&gt; second line\n\n<!-- modelgate:rollout=7:note=3 -->", got)
	assert.LessOrEqual(t, len(Note(7, 3, strings.Repeat("&", 100000))), MaxLen)
}

func TestStatusOfAnEmptyView(t *testing.T) {
	got := Status(View{RolloutID: 3, Phase: "launching", HeadSHA: "not-a-sha", RepoURL: "https://github.com/acme/models"})
	assert.True(t, strings.HasPrefix(got, Marker(3)+"\n"))
	assert.Contains(t, got, "### ❔ Canary of  : launching")
	assert.Contains(t, got, "— against baseline — in —, commit not-a-sha.")
	assert.NotContains(t, got, "](https", "only a commit id is linked")
	assert.NotContains(t, got, "| stage |")
}

func TestCommitLinksOnlyWhatLooksRight(t *testing.T) {
	head := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct{ repo, head, want string }{
		{"https://github.com/acme/models", head, "[`0123456`](https://github.com/acme/models/commit/" + head + ")"},
		{"https://ghe.example.com:8443/acme/models", head, "[`0123456`](https://ghe.example.com:8443/acme/models/commit/" + head + ")"},
		{"", head, "`0123456`"},
		{"http://github.com/acme/models", head, "`0123456`"},
		{"https://github.com/acme/models)[x](javascript:alert(1)", head, "`0123456`"},
		{"https://github.com/acme/models/", head, "`0123456`"},
		{"https://github.com/acme/models", "", ""},
		{"https://github.com/acme/models", "main", "main"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, commit(tt.repo, tt.head), "commit(%q, %q)", tt.repo, tt.head)
	}
}

// BenchmarkStatus renders the largest comment the limit test uses: 50
// metrics of 10,000 samples a side.
func BenchmarkStatus(b *testing.B) {
	v := analysing()
	v.Analysis.Metrics = nil
	for i := range 50 {
		m := latency(v.Analysis.Since, 10000, 123)
		m.Name = fmt.Sprintf("metric_%d", i)
		v.Analysis.Metrics = append(v.Analysis.Metrics, m)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Status(v)
	}
}
