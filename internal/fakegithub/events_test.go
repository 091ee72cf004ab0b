package fakegithub

import (
	"encoding/json"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse decodes a payload as the bot would.
func parse(t *testing.T, event string, m map[string]any) any {
	t.Helper()
	body, err := json.Marshal(m)
	require.NoError(t, err)
	ev, err := github.ParseWebHook(event, body)
	require.NoError(t, err)
	return ev
}

func TestEvents(t *testing.T) {
	s := New(t)
	pr := scenario(s)
	c := s.AddComment("octo/models", 7, "alice", "/canary fraud")
	d := s.AddDeployment("octo/models", Deployment{Ref: pr.HeadSHA, Task: "deploy:canary", Payload: json.RawMessage(`{"stage":0}`)})
	st := s.AddDeploymentStatus("octo/models", DeploymentStatus{DeploymentID: d.ID, State: "success"})

	ce := parse(t, "issue_comment", s.CommentEvent(t, "octo/models", c.ID, "created")).(*github.IssueCommentEvent)
	assert.Equal(t, "created", ce.GetAction())
	assert.Equal(t, c.ID, ce.GetComment().GetID())
	assert.Equal(t, "/canary fraud", ce.GetComment().GetBody())
	assert.Equal(t, "alice", ce.GetSender().GetLogin())
	assert.True(t, ce.GetIssue().IsPullRequest())
	assert.Equal(t, 7, ce.GetIssue().GetNumber())
	assert.Equal(t, "octo/models", ce.GetRepo().GetFullName())
	assert.Equal(t, InstallationID, ce.GetInstallation().GetID())
	assert.Equal(t, "edited", parse(t, "issue_comment", s.CommentEvent(t, "octo/models", c.ID, "edited")).(*github.IssueCommentEvent).GetAction())

	pe := parse(t, "pull_request", s.PullRequestEvent(t, "octo/models", 7, "synchronize")).(*github.PullRequestEvent)
	assert.Equal(t, pr.HeadSHA, pe.GetPullRequest().GetHead().GetSHA())
	assert.Equal(t, pr.HeadSHA, pe.GetAfter())
	assert.Equal(t, 7, pe.GetNumber())

	de := parse(t, "deployment", s.DeploymentEvent(t, "octo/models", d.ID)).(*github.DeploymentEvent)
	assert.Equal(t, d.ID, de.GetDeployment().GetID())
	assert.Equal(t, "deploy:canary", de.GetDeployment().GetTask())
	assert.JSONEq(t, `{"stage":0}`, string(de.GetDeployment().Payload))

	se := parse(t, "deployment_status", s.DeploymentStatusEvent(t, "octo/models", st.ID)).(*github.DeploymentStatusEvent)
	assert.Equal(t, "success", se.GetDeploymentStatus().GetState())
	assert.Equal(t, d.ID, se.GetDeployment().GetID())
	assert.Equal(t, "github-actions[bot]", se.GetSender().GetLogin())
}

func TestEventsOfMissingThings(t *testing.T) {
	s := New(t)
	scenario(s)
	for name, f := range map[string]func(tb testing.TB){
		"comment":           func(tb testing.TB) { s.CommentEvent(tb, "octo/models", 1, "created") },
		"pull request":      func(tb testing.TB) { s.PullRequestEvent(tb, "octo/models", 99, "opened") },
		"deployment":        func(tb testing.TB) { s.DeploymentEvent(tb, "octo/models", 1) },
		"deployment status": func(tb testing.TB) { s.DeploymentStatusEvent(tb, "octo/models", 1) },
		"repository":        func(tb testing.TB) { s.DeploymentEvent(tb, "octo/nothing", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			tb := &fatalTB{TB: t}
			func() {
				defer func() { _ = recover() }()
				f(tb)
			}()
			assert.Contains(t, tb.msg, "fakegithub:")
		})
	}
}
