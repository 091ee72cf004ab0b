package handler

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// untouched fails the test when a handler passes a bad payload on.
type untouched struct{ t *testing.T }

func (u untouched) HandleDeploymentStatus(context.Context, event.DeploymentStatus) error {
	u.t.Error("a bad deployment_status payload reached the engine")
	return nil
}

func (u untouched) HandlePullRequest(context.Context, event.PullRequest) error {
	u.t.Error("a bad pull_request payload reached the engine")
	return nil
}

func (u untouched) Forget(int64) {
	u.t.Error("a bad installation payload made the bot forget a client")
}

func TestBadPayloadsFailPermanently(t *testing.T) {
	u := untouched{t}
	tests := []struct {
		name    string
		handler githubapp.EventHandler
		payload string
		err     string
	}{
		{"deployment_status of the wrong shape", DeploymentStatus{Rollouts: u}, `{"deployment": []}`, "decode deployment_status payload"},
		{"deployment_status without its deployment", DeploymentStatus{Rollouts: u}, `{"action": "created", "repository": {"name": "r"}}`, "lacks deployment, deployment_status or repository"},
		{"pull_request of the wrong shape", PullRequest{Rollouts: u}, `{"pull_request": []}`, "decode pull_request payload"},
		{"pull_request without its pull request", PullRequest{Rollouts: u}, `{"action": "closed", "repository": {"name": "r"}}`, "lacks pull_request or repository"},
		{"installation of the wrong shape", Installation{Clients: u}, `{"installation": {"id": "one"}}`, "decode installation payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.handler.Handle(context.Background(), githubapp.Event{Type: tt.handler.Handles()[0], DeliveryID: "d", Payload: []byte(tt.payload)})
			require.ErrorContains(t, err, tt.err)
			assert.True(t, githubapp.IsPermanent(err))
		})
	}
}
