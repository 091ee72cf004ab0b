package event

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// DeploymentStatus is a deployment_status webhook, as far as the
// engine reads it.
type DeploymentStatus struct {
	Repo         gh.Repo
	DeploymentID int64
	Task         string
	// Creator is who created the deployment; only the bot's own count.
	Creator string
	// Payload is the deployment's payload (an object, or a JSON string).
	Payload     json.RawMessage
	State       string // success, failure, error, in_progress, ...
	Description string
	// Sender is who set the status; the bot's own statuses are ignored.
	Sender string
}

// HandleDeploymentStatus feeds the deploy workflow's answer to the
// rollout it belongs to: success starts the stage's analysis window,
// failure or error ends the rollout. Anything else is ignored: statuses
// the bot set itself, deployments it did not create, stale stages.
func (e *Events) HandleDeploymentStatus(ctx context.Context, ev DeploymentStatus) error {
	log := canary.Log(e.Logger).With("repo", ev.Repo.FullName(), "deployment", ev.DeploymentID, "state", ev.State)
	var event rollout.Event
	switch ev.State {
	case "success":
		event = rollout.DeploymentSucceeded{}
	case "failure", "error":
		event = rollout.DeploymentFailed{Reason: orDefault(ev.Description, "the deploy workflow reported "+ev.State)}
	default:
		return nil
	}
	// The deploy workflow usually answers as github-actions[bot]: only
	// the App's own statuses are ignored.
	if strings.EqualFold(ev.Sender, e.BotLogin) || !strings.EqualFold(ev.Creator, e.BotLogin) {
		return nil
	}
	p, ok := rollout.ReadPayload(ev.Payload)
	if !ok {
		log.Info("deployment without a modelgate payload ignored")
		return nil
	}
	l, err := e.Records.Load(ctx, p.RolloutID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("deployment names an unknown rollout", "rollout", p.RolloutID)
		return nil
	}
	if err != nil {
		return err
	}
	if l.Row.Repo != ev.Repo.FullName() {
		log.Warn("deployment names a rollout of another repository", "rollout", p.RolloutID)
		return nil
	}
	if ev.Task == rollout.TaskRollback {
		_, err := e.Store.AppendAudit(ctx, l.Audit(store.AuditEntry{Actor: ev.Sender, Action: store.ActionRollbackDeployed, Decision: ev.State,
			Reason: orDefault(ev.Description, "the deploy workflow reported "+ev.State)}, e.Clock.Now()))
		return err
	}
	stage := p.Stage - 1
	if known := l.Deployment(stage); stage != l.Record.State.Stage || (known != 0 && known != ev.DeploymentID) {
		log.Info("status of a past stage ignored", "rollout", p.RolloutID, "stage", p.Stage)
		return nil
	}
	// The workflow reports; what follows (a window, the next stage, the
	// promotion) is the bot's decision under the plan.
	// The stage's deployment may not be known yet: the engine stopped
	// between creating it and storing its id.
	_, err = e.Records.Apply(ctx, l.Row.ID, event, canary.Bot, func(l *canary.Rollout) { l.SetDeployment(stage, ev.DeploymentID) })
	if errors.Is(err, rollout.ErrRefused) {
		log.Info("deployment status does not apply", "rollout", p.RolloutID, "err", err)
		return nil
	}
	return err
}
