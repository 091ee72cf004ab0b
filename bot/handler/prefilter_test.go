package handler

import (
	"errors"
	"os"
	"testing"

	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestMayHoldCommand(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    bool
	}{
		{"command", `{"comment":{"body":"/canary"}}`, true},
		{"discussion", `{"comment":{"body":"looks good"}}`, false},
		{"blanks before the command", `{"comment":{"body":" \r\n\t /help"}}`, true},
		{"raw blanks between key and value", "{\"comment\":{\"body\" :\n \"/help\"}}", true},
		{"escaped slash", `{"comment":{"body":"\/canary"}}`, true},
		{"unicode escape anywhere", `{"comment":{"bod\u0079":"/canary"}}`, true},
		{"command in the issue only", `{"issue":{"body":"/x"},"comment":{"body":"hi"}}`, true},
		{"two discussions", `{"issue":{"body":"spec"},"comment":{"body":"hi"}}`, false},
		{"null body", `{"issue":{"body":null},"comment":{"body":"hi"}}`, false},
		{"empty body", `{"comment":{"body":""}}`, false},
		{"body as a value, not a key", `{"comment":{"title":"body","text":"/x"}}`, true},
		{"no body", `{"action":"created"}`, true},
		{"number body", `{"comment":{"body":7}}`, true},
		{"truncated", `{"comment":{"body":" `, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mayHoldCommand([]byte(tt.payload)))
		})
	}
}

func TestMayHoldCommandOnFixtures(t *testing.T) {
	payload, err := os.ReadFile("../../testdata/webhooks/issue_comment.created.json")
	require.NoError(t, err)
	assert.False(t, mayHoldCommand(payload), "the fixture's comment is discussion")
}

// FuzzMayHoldCommand checks that no comment whose body is a command, as
// chatops.Parse sees it, is ever filtered out.
func FuzzMayHoldCommand(f *testing.F) {
	for _, s := range []string{`{"comment":{"body":"/canary"}}`, `{"comment":{"body":" \n/help"}}`,
		`{"issue":{"body":"x"},"comment":{"body":"y"}}`, `{"comment":{"body" : "\t/abort"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if mayHoldCommand(payload) {
			return
		}
		v, err := fastjson.ParseBytes(payload)
		if err != nil {
			return // the intake refuses what does not parse
		}
		body := v.GetStringBytes("comment", "body")
		if _, err := chatops.Parse(string(body)); !errors.Is(err, chatops.ErrNotCommand) {
			t.Fatalf("filtered out command %q", body)
		}
	})
}
