package fakegithub

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryWebhookFixtureParses(t *testing.T) {
	root, err := moduleRoot()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, webhookDir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 11)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			event, action, _ := strings.Cut(name, ".")
			m := LoadWebhook(t, name)
			if action != "" {
				assert.Equal(t, action, m["action"])
			}
			body, err := json.Marshal(m)
			require.NoError(t, err)
			_, err = github.ParseWebHook(event, body)
			require.NoError(t, err, "go-github decodes %s", name)
		})
	}
}

func TestLoadWebhookMissing(t *testing.T) {
	tb := &fatalTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		LoadWebhook(tb, "no_such_event.created")
	}()
	assert.Contains(t, tb.msg, "no_such_event.created")
}

// fatalTB records Fatalf and stops the function like testing does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = strings.TrimSpace(strings.ReplaceAll(format, "%v", "")) + " " + strings.TrimSpace(strings.Join(toStrings(args), " "))
	panic("fatal")
}

func toStrings(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		b, _ := json.Marshal(a)
		out[i] = string(b)
		if e, ok := a.(error); ok {
			out[i] = e.Error()
		}
	}
	return out
}

func TestSetPath(t *testing.T) {
	m := LoadWebhook(t, "issue_comment.created")
	SetPath(m, "comment.body", "/canary fraud-detector")
	SetPath(m, "issue.pull_request", map[string]any{"url": "https://api.github.com/repos/o/r/pulls/1"})
	SetPath(m, "issue.labels.0.name", "model")
	SetPath(m, "brand.new.field", true)
	assert.Equal(t, "/canary fraud-detector", GetPath(m, "comment.body"))
	assert.Equal(t, "https://api.github.com/repos/o/r/pulls/1", GetPath(m, "issue.pull_request.url"))
	assert.Equal(t, "model", GetPath(m, "issue.labels.0.name"))
	assert.Equal(t, true, GetPath(m, "brand.new.field"))
	assert.Nil(t, GetPath(m, "issue.labels.99.name"))
	assert.Nil(t, GetPath(m, "comment.body.deeper"))
	assert.Panics(t, func() { SetPath(m, "issue.labels.99.name", "x") })
	assert.Panics(t, func() { SetPath(m, "comment.id.x", 1) }, "a number is not an object")

	fresh := LoadWebhook(t, "issue_comment.created")
	assert.NotEqual(t, "/canary fraud-detector", GetPath(fresh, "comment.body"), "each load is a fresh copy")
}

func TestSetRepository(t *testing.T) {
	m := LoadWebhook(t, "pull_request.opened")
	SetRepository(m, "octo/models")
	body, err := json.Marshal(m)
	require.NoError(t, err)
	ev, err := github.ParseWebHook("pull_request", body)
	require.NoError(t, err)
	repo := ev.(*github.PullRequestEvent).GetRepo()
	assert.Equal(t, "octo/models", repo.GetFullName())
	assert.Equal(t, "models", repo.GetName())
	assert.Equal(t, "octo", repo.GetOwner().GetLogin())
}

func TestWebhookIDsStayExact(t *testing.T) {
	m := LoadWebhook(t, "installation.created")
	body, err := json.Marshal(m)
	require.NoError(t, err)
	root, err := moduleRoot()
	require.NoError(t, err)
	orig, err := os.ReadFile(filepath.Join(root, webhookDir, "installation.created.json"))
	require.NoError(t, err)
	assert.JSONEq(t, string(orig), string(body))
}

func TestSignedRequest(t *testing.T) {
	m := LoadWebhook(t, "issue_comment.created")
	SetPath(m, "comment.body", "/canary")
	req := SignedRequest(t, "http://127.0.0.1:1/webhook", "s3cret", "issue_comment", "d-1", m)
	assert.Equal(t, "issue_comment", req.Header.Get("X-GitHub-Event"))
	assert.Equal(t, "d-1", req.Header.Get("X-GitHub-Delivery"))
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(req.Header.Get("X-Hub-Signature-256"), "sha256="))

	body, err := github.ValidatePayload(req, []byte("s3cret"))
	require.NoError(t, err, "go-github accepts the signature")
	ev, err := github.ParseWebHook(github.WebHookType(req), body)
	require.NoError(t, err)
	assert.Equal(t, "/canary", ev.(*github.IssueCommentEvent).GetComment().GetBody())

	req = SignedRequest(t, "http://127.0.0.1:1/webhook", "other", "issue_comment", "d-2", m)
	_, err = github.ValidatePayload(req, []byte("s3cret"))
	assert.Error(t, err, "a wrong secret is refused")

	raw := []byte(`{"zen":"Keep it logically awesome."}`)
	req = SignedRequest(t, "http://127.0.0.1:1/webhook", "s3cret", "ping", "d-3", raw)
	got, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, raw, got, "bytes are sent as they are")
	assert.Equal(t, Signature("s3cret", raw), req.Header.Get("X-Hub-Signature-256"))
}
