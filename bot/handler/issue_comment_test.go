package handler

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type seen struct{ events []chatops.CommentEvent }

func (s *seen) Relevant(chatops.CommentEvent) bool { return true }
func (s *seen) HandleComment(_ context.Context, _ chatops.GitHub, ev chatops.CommentEvent) error {
	s.events = append(s.events, ev)
	return nil
}

type clients struct{}

func (clients) ForInstallation(int64) (*gh.Client, error) {
	return &gh.Client{GitHub: github.NewClient(nil)}, nil
}

func TestIssueCommentPayloads(t *testing.T) {
	tests := []struct {
		name      string
		payload   string
		permanent bool
		want      chatops.CommentEvent
	}{
		{"pull request comment", `{"action":"created","issue":{"number":7,"pull_request":{"url":"x"}},
			"comment":{"id":9,"body":"/canary \u0022a\u0022","user":{"login":"alice","type":"User"}},
			"repository":{"name":"r","owner":{"login":"o"}},"installation":{"id":1}}`, false,
			chatops.CommentEvent{DeliveryID: "d", Action: "created", Repo: gh.Repo{Owner: "o", Name: "r"}, Number: 7,
				IsPullRequest: true, CommentID: 9, Body: `/canary "a"`, Commenter: "alice", CommenterType: "User",
				InstallationID: 1}},
		{"issue comment", `{"action":"created","issue":{"number":3,"pull_request":null},"comment":{"id":1,"body":"/help","user":{"login":"a"}},
			"repository":{"name":"r","owner":{"login":"o"}}}`, false,
			chatops.CommentEvent{DeliveryID: "d", Action: "created", Repo: gh.Repo{Owner: "o", Name: "r"}, Number: 3,
				CommentID: 1, Body: "/help", Commenter: "a"}},
		{"malformed", `{"action":`, true, chatops.CommentEvent{}},
		{"no comment", `{"action":"created","issue":{"number":1},"repository":{"name":"r"}}`, true, chatops.CommentEvent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &seen{}
			h := &IssueComment{Clients: clients{}, Commands: s}
			err := h.Handle(context.Background(), githubapp.Event{Type: "issue_comment", DeliveryID: "d", Payload: []byte(tt.payload)})
			if tt.permanent {
				require.Error(t, err)
				assert.True(t, githubapp.IsPermanent(err))
				return
			}
			require.NoError(t, err)
			require.Len(t, s.events, 1)
			assert.Equal(t, tt.want, s.events[0])
		})
	}
}
