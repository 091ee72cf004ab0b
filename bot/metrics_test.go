package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/internal/needs"
	"github.com/modelgate/modelgate/internal/readme"
)

// scrape reads the bot's /metrics as Prometheus would, and its text.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "the exposition parses")
	return families, body
}

// value is the metric of family name whose labels include want, or -1.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// A rollout that is rolled back, seen on /metrics as a Prometheus user
// would: by state, its stages, the reason, the judge's verdicts, the
// looks, the queue and the GitHub calls with their retries; and the whole
// exposition passes promtool check metrics.
func TestMetricsOfARolledBackRollout(t *testing.T) {
	rs := newRolloutScenario(t, false, func(traffic float64) float64 {
		if traffic >= 25 {
			return 1.4
		}
		return 1
	})
	rs.gh.FailNext("GET", "/repos/*/*/collaborators/*/permission", 1, fakegithub.BadGateway)
	rs.say("/canary")
	rs.until("rolled_back", 90*time.Second)
	families, body := scrape(t, rs.http.URL)

	for _, tt := range []struct {
		name    string
		labels  map[string]string
		atLeast float64
	}{
		{"modelgate_rollouts", map[string]string{"state": "rolled_back"}, 1},
		{"modelgate_rollout_stages_started_total", map[string]string{"task": "deploy:canary"}, 2},
		{"modelgate_rollbacks_total", map[string]string{"state": "rolled_back", "reason": "analysis"}, 1},
		{"modelgate_judge_verdicts_total", map[string]string{"metric": "latency_p99", "verdict": "fail"}, 1},
		{"modelgate_judge_verdicts_total", map[string]string{"metric": "latency_p99", "verdict": "pass"}, 1},
		{"modelgate_analysis_looks_total", map[string]string{"decision": "fail"}, 1},
		{"modelgate_analysis_look_lag_seconds", nil, 3},
		{"modelgate_github_requests_total", map[string]string{"method": "POST", "code": "201"}, 3},
		{"modelgate_github_retries_total", map[string]string{"reason": "server_error", "code": "502"}, 1},
		{"modelgate_deliveries_processed_total", map[string]string{"event": "deployment_status", "result": "done"}, 2},
	} {
		assert.GreaterOrEqual(t, value(families, tt.name, tt.labels), tt.atLeast, "%s%v", tt.name, tt.labels)
	}
	assert.Equal(t, 0.0, value(families, "modelgate_rollouts", map[string]string{"state": "running"}), "every state is there, at 0 too")
	assert.Equal(t, 0.0, value(families, "modelgate_rollouts_promoted_total", nil))
	for _, q := range []string{"webhook", "rollout"} {
		assert.Equal(t, 0.0, value(families, "modelgate_queue_leases_taken_over_total", map[string]string{"queue": q}),
			"no take-over, and each queue's counter is there at 0 for rate() to start from")
	}
	promtoolCheckMetrics(t, body)
	assertREADMEListsMetrics(t, families)

	rules, err := os.ReadFile("../deploy/alerts.yml")
	require.NoError(t, err)
	for _, name := range metricName.FindAllString(string(rules), -1) {
		name = strings.TrimSuffix(name, "_bucket")
		assert.Contains(t, families, name, "deploy/alerts.yml names a metric the bot does not expose")
	}
}

var metricName = regexp.MustCompile(`\bmodelgate_[a-z_]+`)

// assertREADMEListsMetrics holds the README's table of metrics to what
// the bot exposes: each of its families, and no other.
func assertREADMEListsMetrics(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	src, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	table, ok := readme.FindTable(readme.Tables(string(src)), "metric", "type", "labels", "what")
	require.True(t, ok, "the README has a table of the metrics")
	var listed, exposed []string
	for _, row := range table.Rows {
		listed = append(listed, readme.CodeSpans(row[0])...)
	}
	for name := range families {
		if strings.HasPrefix(name, "modelgate_") {
			exposed = append(exposed, name)
		}
	}
	assert.ElementsMatch(t, exposed, listed, "the README lists every metric of /metrics, and no other")
}

// The alert rules users copy are valid rules.
func TestAlertRules(t *testing.T) {
	promtool := needs.Command(t, "promtool", "Debian: apt-get install -y prometheus")
	out, err := exec.Command(promtool, "check", "rules", "../deploy/alerts.yml").CombinedOutput()
	assert.NoError(t, err, "promtool check rules:\n%s", out)
	assert.Contains(t, string(out), "SUCCESS: 8 rules found")
}

// promtoolCheckMetrics runs promtool's linter on an exposition.
func promtoolCheckMetrics(t *testing.T, body []byte) {
	t.Helper()
	promtool := needs.Command(t, "promtool", "Debian: apt-get install -y prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "promtool check metrics:\n%s", out)
}
