package chatops

import (
	"testing"
	"unicode/utf8"

	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		body string
		want Command
	}{
		{"/canary", Command{Name: Canary}},
		{"  /canary --dry-run fraud-detector churn\nplease", Command{Name: Canary, DryRun: true, Models: []string{"fraud-detector", "churn"}}},
		{"/CANARY fraud", Command{Name: Canary, Models: []string{"fraud"}}},
		{"/promote fraud", Command{Name: Promote, Models: []string{"fraud"}}},
		{"/promote", Command{Name: Promote}},
		{`/rollback fraud "latency went up"`, Command{Name: Rollback, Models: []string{"fraud"}, Reason: "latency went up"}},
		{`/rollback "latency went up"`, Command{Name: Rollback, Reason: "latency went up"}},
		{`/rollback fraud latency went up`, Command{Name: Rollback, Models: []string{"fraud"}, Reason: "latency went up"}},
		{`/rollback “smart quotes”`, Command{Name: Rollback, Reason: "smart quotes"}},
		{`/rollback fraud "say \"no\""`, Command{Name: Rollback, Models: []string{"fraud"}, Reason: `say "no"`}},
		{"/lock production 'release freeze'", Command{Name: Lock, Environment: "production", Reason: "release freeze"}},
		{"/lock", Command{Name: Lock}},
		{`/lock "freeze"`, Command{Name: Lock, Reason: "freeze"}},
		{"/unlock production", Command{Name: Unlock, Environment: "production"}},
		{"/abort", Command{Name: Abort}},
		{"/pause\r\n", Command{Name: Pause}},
		{"/resume", Command{Name: Resume}},
		{"/status", Command{Name: Status}},
		{"/help me", Command{Name: Help}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := Parse(tt.body)
			require.NoError(t, err)
			assert.Equal(t, tt.want.Name, got.Name)
			assert.Equal(t, tt.want.Models, got.Models)
			assert.Equal(t, tt.want.Reason, got.Reason)
			assert.Equal(t, tt.want.Environment, got.Environment)
			assert.Equal(t, tt.want.DryRun, got.DryRun)
		})
	}
}

func TestParseNotACommand(t *testing.T) {
	for _, body := range []string{"", "LGTM", "please /canary", "/usr/bin/env is fine", "/ canary", "//canary", "/123"} {
		_, err := Parse(body)
		assert.ErrorIs(t, err, ErrNotCommand, body)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{"/deploy now", "unknown command /deploy"},
		{"/canary --force", "/canary: unknown flag --force (usage: /canary [--dry-run] [model...])"},
		{"/canary Fraud_Detector", `"Fraud_Detector" is not a model name`},
		{`/canary "fraud"`, `"fraud" is not a model name`},
		{"/promote a b", "name at most one model"},
		{`/rollback fraud "unclosed`, "a quote is not closed"},
		{"/abort now", "/abort: takes no arguments"},
		{"/unlock prod staging", "name at most one environment"},
		{`/unlock "prod env"`, `"prod env" is not an environment name`},
		{"/canary " + string(make([]byte, 2000)), "longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Parse(tt.body)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/canary --dry-run a b", `/rollback x "why \" not"`, "/lock prod 'r'", "/x", "hello", "/help\n/canary"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, err := Parse(body)
		if err != nil {
			return
		}
		if _, ok := usage[cmd.Name]; !ok {
			t.Fatalf("parsed unknown command %q", cmd.Name)
		}
		for _, m := range cmd.Models {
			if !modelID.MatchString(m) {
				t.Fatalf("invalid model %q accepted", m)
			}
		}
		if cmd.Environment != "" && !envName.MatchString(cmd.Environment) {
			t.Fatalf("invalid environment %q accepted", cmd.Environment)
		}
		if utf8.ValidString(body) && !utf8.ValidString(cmd.Reason) {
			t.Fatalf("reason became invalid UTF-8")
		}
	})
}

func TestEscapeText(t *testing.T) {
	assert.Equal(t, "\\*\\*bold\\*\\* &lt;img&gt; @\u2060team \\[x\\]\\(y\\) \\|", markdown.Text("**bold** <img> @team [x](y) |"))
	assert.Equal(t, "a b", markdown.Text("a\nb"))
}
