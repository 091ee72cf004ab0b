package metrics

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The two queries of testdata/example's rollout plan.
const (
	latencyP99 = `histogram_quantile(0.99, sum by (le) (rate(model_latency_seconds_bucket{model="{{.Model}}",version="{{.Version}}"}[1m]))) * 1000`
	errorRate  = `sum(rate(model_errors_total{model="{{.Model}}",version="{{.Version}}"}[1m])) / sum(rate(model_requests_total{model="{{.Model}}",version="{{.Version}}"}[1m]))`
)

func TestRender(t *testing.T) {
	tests := []struct {
		name, template, model, version, want string
	}{
		{"example latency", latencyP99, "fraud-detector", "3.2.0",
			`histogram_quantile(0.99, sum by (le) (rate(model_latency_seconds_bucket{model="fraud-detector",version="3.2.0"}[1m]))) * 1000`},
		{"example error rate", errorRate, "a", "1.0.0-rc.1+build.5",
			`sum(rate(model_errors_total{model="a",version="1.0.0-rc.1+build.5"}[1m])) / sum(rate(model_requests_total{model="a",version="1.0.0-rc.1+build.5"}[1m]))`},
		{"regex matcher matches the version literally", `up{version=~"{{.Version}}"}`, "a", "1.0.0+b",
			`up{version=~"1\\.0\\.0\\+b"}`},
		{"negative regex with spaces", `up{version !~ "{{.Version}}|2.0.0"}`, "a", "1.0.0",
			`up{version !~ "1\\.0\\.0|2.0.0"}`},
		{"plain matcher after a regex one", `up{a=~"x",version="{{.Version}}"}`, "a", "1.0.0",
			`up{a=~"x",version="1.0.0"}`},
		{"field with text around it in one string", `up{job="{{.Model}}-{{.Version}}-x"}`, "m", "1.2.3",
			`up{job="m-1.2.3-x"}`},
		{"escaped quote before the field", `up{a="\"{{.Model}}"}`, "m", "1.2.3", `up{a="\"m"}`},
		{"trim markers", "up{model=\"{{- .Model -}}\"}", "m", "1.2.3", `up{model="m"}`},
		{"template comment", `up{model="{{.Model}}"}{{/* note */}}`, "m", "1.2.3", `up{model="m"}`},
		{"no fields", `vector(1)`, "m", "1.2.3", `vector(1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.template, tt.model, tt.version)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name, template, model, version, want string
	}{
		{"the injection attack", latencyP99, "fraud-detector", `1"}[1m]) or vector(1) or x{a="`, "is not a semantic version"},
		{"model with a quote", latencyP99, `a"} or vector(1) #`, "1.0.0", "is not a DNS label"},
		{"model in capitals", latencyP99, "Fraud", "1.0.0", "is not a DNS label"},
		{"model too long", latencyP99, strings.Repeat("a", 64), "1.0.0", "is not a DNS label"},
		{"version with a v", latencyP99, "a", "v1.0.0", "is not a semantic version"},
		{"version with a newline", latencyP99, "a", "1.0.0\n", "is not a semantic version"},
		{"empty version", latencyP99, "a", "", "is not a semantic version"},
		{"field outside a string", `up{version={{.Version}}}`, "a", "1.0.0", "must be inside a double-quoted string"},
		{"field as a metric name", `{{.Model}}_requests_total`, "a", "1.0.0", "must be inside a double-quoted string"},
		{"field in a single-quoted string", `up{version='{{.Version}}'}`, "a", "1.0.0", "must be inside a double-quoted string"},
		{"field in a raw string", "up{version=`{{.Version}}`}", "a", "1.0.0", "must be inside a double-quoted string"},
		{"field in a comment", "up # {{.Version}}", "a", "1.0.0", "must be inside a double-quoted string"},
		{"field after a quote closed", `up{a="x"}{{.Version}}"`, "a", "1.0.0", "must be inside a double-quoted string"},
		{"field right after a backslash", `up{a="\{{.Version}}"}`, "a", "1.0.0", "must be inside a double-quoted string"},
		{"unknown field", `up{a="{{.Owner}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"function call", `up{a="{{printf "%s" .Model}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"pipeline", `up{a="{{.Model | html}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"nested field", `up{a="{{.Model.Name}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"if", `up{a="{{if .Model}}x{{end}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"variable", `up{a="{{$x := .Model}}"}`, "a", "1.0.0", "only {{.Model}} and {{.Version}} are allowed"},
		{"template syntax error", `up{a="{{.Model"}`, "a", "1.0.0", "query template:"},
		{"empty template", ``, "a", "1.0.0", "query template is empty"},
		{"only a comment", `{{/* x */}}`, "a", "1.0.0", "query template is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.template, tt.model, tt.version)
			require.ErrorIs(t, err, ErrBadQuery)
			assert.ErrorContains(t, err, tt.want)
			assert.Empty(t, got)
		})
	}
}

// The checks on values are one defence; the escaping is the other, and must
// hold on its own for whatever a value holds.
func TestRenderEscapesWithoutValidation(t *testing.T) {
	tmpl, err := ParseTemplate(`up{version="{{.Version}}"} or up{version=~"{{.Version}}"}`)
	require.NoError(t, err)
	got, err := tmpl.render(map[string]string{"Version": `1"}[1m]) or vector(1) or x{a="` + "\n\\"})
	require.NoError(t, err)
	assert.Equal(t, `up{version="1\"}[1m]) or vector(1) or x{a=\"\n\\"} or `+
		`up{version=~"1\"\\}\\[1m\\]\\) or vector\\(1\\) or x\\{a=\"\n\\\\"}`, got)

	_, err = tmpl.render(map[string]string{"Version": "\xff"})
	assert.ErrorContains(t, err, "is not valid UTF-8")
}

func TestEscapeString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain-1.0.0+b`, `plain-1.0.0+b`},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x00\x1f\x7f", `\x00\x1f\x7f`},
		{"é✓", "é✓"},
		{`'`, `'`},
	}
	for _, tt := range tests {
		got, err := escapeString(tt.in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "escape %q", tt.in)
	}
}
