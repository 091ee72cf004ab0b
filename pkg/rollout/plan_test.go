package rollout

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// fromJSON decodes a manifest's rollout as pkg/manifest does (json.Number).
func fromJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

// fromYAML decodes a default plan as pkg/config does (int, float64).
func fromYAML(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(s), &m))
	return m
}

const designPlan = `{
  "environment": "production", "baseline": "3.1.0",
  "stages": [
    {"traffic": 5, "analysis": "30m"}, {"traffic": 25, "analysis": "1h"},
    {"traffic": 50, "analysis": "1h", "gate": "manual"}, {"traffic": 100}],
  "analysis": {"provider": "prometheus", "interval": "5m", "metrics": [
    {"name": "error_rate", "kind": "ratio", "errors": "e", "total": "t", "direction": "increase_is_bad", "tolerance": 0.05, "critical": true},
    {"name": "latency_p99", "kind": "histogram", "histogram": "h", "quantile": 0.99, "direction": "increase_is_bad", "tolerance": 0.05, "critical": true},
    {"name": "gpu_memory_mb", "kind": "query", "query": "q", "direction": "increase_is_bad", "tolerance": 0.10}]}}`

func TestParsePlanDesign(t *testing.T) {
	p, err := ParsePlan(fromJSON(t, designPlan), nil)
	require.NoError(t, err)
	assert.Equal(t, Plan{
		Environment: "production", Baseline: "3.1.0",
		Stages: []Stage{
			{Traffic: 5, Analysis: 30 * time.Minute}, {Traffic: 25, Analysis: time.Hour},
			{Traffic: 50, Analysis: time.Hour, Gate: GateManual}, {Traffic: 100},
		},
		Analysis: Analysis{Provider: "prometheus", Interval: 5 * time.Minute, ConsecutiveErrorLimit: 3, Metrics: []Metric{
			{Name: "error_rate", Kind: KindRatio, Errors: "e", Total: "t", Direction: "increase_is_bad", Tolerance: 0.05, Critical: true},
			{Name: "latency_p99", Kind: KindHistogram, Histogram: "h", Quantile: 0.99, Direction: "increase_is_bad", Tolerance: 0.05, Critical: true},
			{Name: "gpu_memory_mb", Kind: KindQuery, Query: "q", Direction: "increase_is_bad", Tolerance: 0.10},
		}},
	}, p)
	assert.Equal(t, []int{6, 12, 12, 0}, []int{p.Looks(0), p.Looks(1), p.Looks(2), p.Looks(3)})
	assert.Equal(t, 0, p.Looks(4), "a stage out of the plan has no looks")
}

func TestParsePlanDefaults(t *testing.T) {
	p, err := ParsePlan(fromJSON(t, `{"stages": [{"traffic": 10, "analysis": "7m"}, {"traffic": 100}],
		"analysis": {"metrics": [{"name": "errors", "query": "q"}]}}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "production", p.Environment)
	assert.Empty(t, p.Baseline)
	assert.Equal(t, Analysis{Provider: "prometheus", Interval: 5 * time.Minute, ConsecutiveErrorLimit: 3, Metrics: []Metric{
		{Name: "errors", Kind: KindQuery, Query: "q", Direction: "increase_is_bad", Tolerance: 0.05},
	}}, p.Analysis)
	assert.Equal(t, 1, p.Looks(0), "7m / 5m rounds down")
}

func TestParsePlanMerge(t *testing.T) {
	defaults := fromYAML(t, `
environment: staging
baseline: 1.0.0
stages: [{traffic: 20, analysis: 10m}, {traffic: 100, analysis: 10m}]
analysis:
  provider: thanos
  interval: 5m
  metrics: [{name: errors, query: q, tolerance: 0.1, critical: true}]
`)
	tests := []struct {
		name, manifest string
		want           func(p *Plan)
	}{
		{"no manifest plan", "", func(*Plan) {}},
		{"environment wins", `{"environment": "eu"}`, func(p *Plan) { p.Environment = "eu" }},
		{"stages replace", `{"stages": [{"traffic": 100}]}`, func(p *Plan) { p.Stages = []Stage{{Traffic: 100}} }},
		{"analysis merges field by field", `{"analysis": {"interval": "1m"}}`, func(p *Plan) {
			p.Analysis.Interval = time.Minute
			p.Stages[0].Analysis, p.Stages[1].Analysis = 10*time.Minute, 10*time.Minute
		}},
		{"metrics replace", `{"analysis": {"metrics": [{"name": "p99", "query": "r", "direction": "decrease_is_bad"}]}}`, func(p *Plan) {
			p.Analysis.Metrics = []Metric{{Name: "p99", Kind: KindQuery, Query: "r", Direction: "decrease_is_bad", Tolerance: 0.05}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Plan{
				Environment: "staging", Baseline: "1.0.0",
				Stages: []Stage{{Traffic: 20, Analysis: 10 * time.Minute}, {Traffic: 100, Analysis: 10 * time.Minute}},
				Analysis: Analysis{Provider: "thanos", Interval: 5 * time.Minute, ConsecutiveErrorLimit: 3, Metrics: []Metric{
					{Name: "errors", Kind: KindQuery, Query: "q", Direction: "increase_is_bad", Tolerance: 0.1, Critical: true},
				}},
			}
			tt.want(&want)
			got, err := ParsePlan(fromJSON(t, tt.manifest), defaults)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestParsePlanInvalid(t *testing.T) {
	const metrics = `"analysis": {"metrics": [{"name": "m", "query": "q"}]}`
	tests := []struct{ name, manifest, defaults, want string }{
		{"nothing", ``, ``, "spec.rollout.stages: missing; a plan needs at least one stage"},
		{"no stage", `{"stages": []}`, ``, "spec.rollout.stages: empty; a plan needs at least one stage"},
		{"stages not a list", `{"stages": {"traffic": 100}}`, ``, "spec.rollout.stages: want a list, got a mapping"},
		{"stage not a mapping", `{"stages": [100]}`, ``, "spec.rollout.stages[0]: want a mapping, got a number"},
		{"unknown field", `{"stage": []}`, ``, "spec.rollout.stage: unknown field (want one of [environment baseline stages analysis])"},
		{"unknown stage field", `{"stages": [{"traffic": 100, "weight": 1}]}`, ``, "spec.rollout.stages[0].weight: unknown field"},
		{"unknown analysis field", `{"analysis": {"intervals": "5m"}}`, ``, "spec.rollout.analysis.intervals: unknown field"},
		{"error limit zero", `{"analysis": {"consecutive_error_limit": 0}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.consecutive_error_limit: 0 is not a whole number from 1 to 100"},
		{"error limit fraction", `{"analysis": {"consecutive_error_limit": 1.5}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.consecutive_error_limit: 1.5 is not a whole number"},
		{"error limit type", `{"analysis": {"consecutive_error_limit": "3"}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.consecutive_error_limit: want a number, got a string"},
		{"analysis not a mapping", `{"analysis": "5m"}`, ``, "spec.rollout.analysis: want a mapping, got a string"},
		{"environment type", `{"environment": 5, "stages": [{"traffic": 100}]}`, ``, "spec.rollout.environment: want a string, got a number"},
		{"environment empty", `{"environment": "", "stages": [{"traffic": 100}]}`, ``, "spec.rollout.environment: empty"},
		{"baseline null", `{"baseline": null, "stages": [{"traffic": 100}]}`, ``, "spec.rollout.baseline: want a string, got null"},
		{"provider empty", `{"analysis": {"provider": ""}, "stages": [{"traffic": 100}]}`, ``, "spec.rollout.analysis.provider: empty"},
		{"traffic missing", `{"stages": [{"analysis": "5m"}]}`, ``, "spec.rollout.stages[0].traffic: missing"},
		{"traffic type", `{"stages": [{"traffic": "5"}]}`, ``, "spec.rollout.stages[0].traffic: want a number, got a string"},
		{"traffic zero", `{"stages": [{"traffic": 0}]}`, ``, "spec.rollout.stages[0].traffic: 0 is not above 0"},
		{"traffic negative", `{"stages": [{"traffic": -5}]}`, ``, "spec.rollout.stages[0].traffic: -5 is not above 0"},
		{"traffic over 100", `{"stages": [{"traffic": 5, "analysis": "5m"}, {"traffic": 25, "analysis": "5m"}, {"traffic": 150}]}`, ``,
			"spec.rollout.stages[2].traffic: 150 is over 100"},
		{"traffic not increasing", `{"stages": [{"traffic": 25, "analysis": "5m"}, {"traffic": 25, "analysis": "5m"}, {"traffic": 100}]}`, ``,
			"spec.rollout.stages[1].traffic: 25 is not above the previous stage's 25"},
		{"last not 100", `{"stages": [{"traffic": 5, "analysis": "5m"}, {"traffic": 50, "analysis": "5m"}], ` + metrics + `}`, ``,
			"spec.rollout.stages[1].traffic: the last stage must be 100, not 50"},
		{"middle stage without analysis", `{"stages": [{"traffic": 5}, {"traffic": 100}]}`, ``,
			"spec.rollout.stages[0].analysis: missing; only the last stage, at 100, may omit it"},
		{"analysis not a duration", `{"stages": [{"traffic": 100, "analysis": "1 hour"}]}`, ``,
			`spec.rollout.stages[0].analysis: "1 hour" is not a duration such as 30m or 1h`},
		{"analysis a number", `{"stages": [{"traffic": 100, "analysis": 30}]}`, ``,
			"spec.rollout.stages[0].analysis: want a duration such as 30m, got a number"},
		{"analysis zero", `{"stages": [{"traffic": 100, "analysis": "0s"}]}`, ``, "spec.rollout.stages[0].analysis: 0s is not positive"},
		{"analysis under interval", `{"stages": [{"traffic": 100, "analysis": "1m"}], ` + metrics + `}`, ``,
			"spec.rollout.stages[0].analysis: 1m0s is shorter than the analysis interval 5m0s"},
		{"gate", `{"stages": [{"traffic": 100, "gate": "human"}]}`, ``, `spec.rollout.stages[0].gate: "human" is not manual or auto`},
		{"gate type", `{"stages": [{"traffic": 100, "gate": true}]}`, ``, `spec.rollout.stages[0].gate: want a string, got a boolean`},
		{"interval zero", `{"analysis": {"interval": "0s"}}`, ``, "spec.rollout.analysis.interval: 0s is not positive"},
		{"interval negative", `{"analysis": {"interval": "-5m"}}`, ``, "spec.rollout.analysis.interval: -5m0s is not positive"},
		{"no metric", `{"stages": [{"traffic": 5, "analysis": "5m"}, {"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics: no metric, but stages[0] has an analysis window"},
		{"metrics not a list", `{"analysis": {"metrics": {}}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics: want a list, got a mapping"},
		{"metric name missing", `{"analysis": {"metrics": [{"query": "q"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].name: missing"},
		{"metric query missing", `{"analysis": {"metrics": [{"name": "m"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].query: missing"},
		{"metric unknown field", `{"analysis": {"metrics": [{"name": "m", "query": "q", "max": 1}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].max: unknown field"},
		{"metric names unique", `{"analysis": {"metrics": [{"name": "m", "query": "q"}, {"name": "m", "query": "r"}]}, "stages": [{"traffic": 100}]}`, ``,
			`spec.rollout.analysis.metrics[1].name: "m" is also the name of metrics[0]`},
		{"direction", `{"analysis": {"metrics": [{"name": "m", "query": "q", "direction": "up"}]}, "stages": [{"traffic": 100}]}`, ``,
			`spec.rollout.analysis.metrics[0].direction: "up" is not increase_is_bad or decrease_is_bad`},
		{"unknown kind", `{"analysis": {"metrics": [{"name": "m", "kind": "gauge", "query": "q"}]}, "stages": [{"traffic": 100}]}`, ``,
			`spec.rollout.analysis.metrics[0].kind: "gauge" is not query, ratio or histogram`},
		{"ratio without total", `{"analysis": {"metrics": [{"name": "m", "kind": "ratio", "errors": "e"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].total: missing; a metric of kind ratio needs errors and total"},
		{"ratio with a query", `{"analysis": {"metrics": [{"name": "m", "kind": "ratio", "errors": "e", "total": "t", "query": "q"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].query: only a metric of kind query has it, this one is of kind ratio"},
		{"query with errors", `{"analysis": {"metrics": [{"name": "m", "query": "q", "errors": "e"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].errors: only a metric of kind ratio has it, this one is of kind query"},
		{"histogram without quantile", `{"analysis": {"metrics": [{"name": "m", "kind": "histogram", "histogram": "h"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].quantile: missing; a metric of kind histogram needs histogram and quantile"},
		{"quantile out of range", `{"analysis": {"metrics": [{"name": "m", "kind": "histogram", "histogram": "h", "quantile": 99}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].quantile: 99 is not between 0 and 1 (0.99 for p99)"},
		{"empty selector", `{"analysis": {"metrics": [{"name": "m", "kind": "ratio", "errors": "", "total": "t"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].errors: empty"},
		{"tolerance zero", `{"analysis": {"metrics": [{"name": "m", "query": "q", "tolerance": 0}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].tolerance: 0: the judge needs a positive relative change"},
		{"decrease beyond 100 %", `{"analysis": {"metrics": [{"name": "m", "query": "q", "direction": "decrease_is_bad", "tolerance": 1}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].tolerance: 1: a decrease of 100 % or more is impossible"},
		{"tolerance negative", `{"analysis": {"metrics": [{"name": "m", "query": "q", "tolerance": -0.1}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].tolerance: -0.1 is negative"},
		{"tolerance type", `{"analysis": {"metrics": [{"name": "m", "query": "q", "tolerance": "5%"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].tolerance: want a number, got a string"},
		{"critical type", `{"analysis": {"metrics": [{"name": "m", "query": "q", "critical": "yes"}]}, "stages": [{"traffic": 100}]}`, ``,
			"spec.rollout.analysis.metrics[0].critical: want true or false, got a string"},
		{"error in the defaults names the file", ``, `{stages: [{traffic: 150}]}`,
			".github/modelgate.yml: rollout.stages[0].traffic: 150 is over 100"},
		{"error in merged analysis names its source", `{"stages": [{"traffic": 100}]}`, `{analysis: {interval: 5}}`,
			".github/modelgate.yml: rollout.analysis.interval: want a duration such as 30m, got a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var defaults map[string]any
			if tt.defaults != "" {
				defaults = fromYAML(t, tt.defaults)
			}
			_, err := ParsePlan(fromJSON(t, tt.manifest), defaults)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAsNumber(t *testing.T) {
	for _, v := range []any{json.Number("7.5"), 7.5} {
		f, err := asNumber("x", v)
		require.NoError(t, err)
		assert.Equal(t, 7.5, f)
	}
	for _, v := range []any{7, int64(7), uint64(7)} {
		f, err := asNumber("x", v)
		require.NoError(t, err)
		assert.Equal(t, 7.0, f)
	}
	_, err := asNumber("x", json.Number("1e999"))
	assert.EqualError(t, err, `x: "1e999" is not a number`)
	_, err = asNumber("x", json.Number("NaN"))
	assert.Error(t, err)
}

func TestParsePlanYAMLKeys(t *testing.T) {
	_, err := ParsePlan(nil, fromYAML(t, "stages: [{1: 2}]"))
	assert.EqualError(t, err, ".github/modelgate.yml: rollout.stages[0]: want a mapping, got a mapping with keys that are not strings")
}
