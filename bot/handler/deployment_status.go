package handler

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// DeploymentStatuses receives the deploy workflow's answers.
type DeploymentStatuses interface {
	HandleDeploymentStatus(ctx context.Context, ev event.DeploymentStatus) error
}

// DeploymentStatus handles deployment_status events: the deploy
// workflow's answer to a stage's deployment.
type DeploymentStatus struct {
	Rollouts DeploymentStatuses
}

// Handles names the events.
func (h DeploymentStatus) Handles() []string { return []string{"deployment_status"} }

// Handle hands the status to the rollout engine.
func (h DeploymentStatus) Handle(ctx context.Context, e githubapp.Event) error {
	p, err := decodePayload[github.DeploymentStatusEvent]("deployment_status", e.Payload)
	if err != nil {
		return err
	}
	if p.Deployment == nil || p.DeploymentStatus == nil || p.Repo == nil || p.GetDeployment().GetID() <= 0 {
		return githubapp.Permanent(fmt.Errorf("deployment_status payload lacks deployment, deployment_status or repository"))
	}
	repo, err := repoOf("deployment_status", p.Repo)
	if err != nil {
		return err
	}
	d, st := p.GetDeployment(), p.GetDeploymentStatus()
	return h.Rollouts.HandleDeploymentStatus(ctx, event.DeploymentStatus{
		Repo:         repo,
		DeploymentID: d.GetID(), Task: d.GetTask(), Creator: d.GetCreator().GetLogin(), Payload: d.Payload,
		State: st.GetState(), Description: st.GetDescription(), Sender: p.GetSender().GetLogin(),
	})
}
