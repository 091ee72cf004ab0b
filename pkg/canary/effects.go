package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/rolloutcomment"
	"github.com/modelgate/modelgate/pkg/store"
)

// inFlight is how long a write to GitHub whose answer was lost may take
// to land; before it has passed, the engine does not look for it, lest it
// miss it and write it again.
const inFlight = 15 * time.Second

// outcome is what carrying out an effect produced, to be stored.
type outcome struct {
	deployment int64
	comment    int64
	// failed is set when GitHub refused a stage's deployment for good:
	// the rollout fails with this reason.
	failed string
}

// runEffects carries out the rollout's outbox from the front, storing the
// progress after each effect. It runs only inside the rollout's effects
// job, which the store hands to one worker at a time.
func (e *Engine) runEffects(ctx context.Context, id int64) error {
	for {
		l, err := e.load(ctx, id)
		if err != nil {
			return err
		}
		if len(l.rec.Outbox) == 0 {
			return nil
		}
		ef := l.rec.Outbox[0]
		if ef.Kind == effComment && laterComment(l.rec.Outbox[1:]) {
			// A later refresh of the same comment makes this one moot.
			if err := e.finishEffect(ctx, id, ef.Seq, outcome{}); err != nil {
				return err
			}
			continue
		}
		if guarded(ef, l.rec) {
			if ef.Tried && e.now().Before(ef.TriedAt.Add(inFlight)) {
				return fmt.Errorf("rollout %d: %s effect %d was tried %s ago and may still be landing; looking again later",
					id, ef.Kind, ef.Seq, e.now().Sub(ef.TriedAt).Round(time.Millisecond))
			}
			l.rec.Outbox[0].Tried, l.rec.Outbox[0].TriedAt = true, e.now()
			if _, err := e.save(ctx, l); errors.Is(err, store.ErrConflict) {
				continue
			} else if err != nil {
				return err
			}
		}
		out, err := e.do(ctx, l, ef)
		if err != nil {
			return fmt.Errorf("rollout %d: %s effect %d: %w", id, ef.Kind, ef.Seq, err)
		}
		if err := e.finishEffect(ctx, id, ef.Seq, out); err != nil {
			return err
		}
		if out.failed != "" {
			if _, err := e.transition(ctx, id, rollout.DeploymentFailed{Reason: out.failed}, Bot, nil); err != nil && !errors.Is(err, rollout.ErrRefused) {
				return err
			}
		}
	}
}

func laterComment(rest []effect) bool {
	for _, ef := range rest {
		if ef.Kind == effComment {
			return true
		}
	}
	return false
}

// guarded says whether an effect creates something on GitHub that must
// not be created twice: those are marked tried before the first attempt.
func guarded(ef effect, rec record) bool {
	switch ef.Kind {
	case effDeploy, effNote:
		return true
	case effComment:
		return rec.CommentID == 0
	}
	return false
}

// finishEffect removes effect seq from the front of the outbox and stores
// what it produced.
func (e *Engine) finishEffect(ctx context.Context, id int64, seq int, out outcome) error {
	var ef effect
	l, err := e.update(ctx, id, func(l *loaded) error {
		if len(l.rec.Outbox) == 0 || l.rec.Outbox[0].Seq != seq {
			return fmt.Errorf("rollout %d: effect %d is no longer first in the outbox", id, seq)
		}
		ef = l.rec.Outbox[0]
		l.rec.Outbox = l.rec.Outbox[1:]
		l.apply(ef, out)
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.recordDeployment(ctx, l, ef, out); err != nil {
		return err
	}
	return e.recordStatus(ctx, l, ef)
}

// stageRowState is what the stage row says after the bot reported status
// on its deployment ("" for a status that changes nothing).
func stageRowState(status string) store.StageState {
	switch status {
	case rollout.StatusInProgress:
		return store.StageAnalyzing
	case rollout.StatusSuccess:
		return store.StagePassed
	case rollout.StatusFailure:
		return store.StageFailed
	}
	return ""
}

// recordStatus keeps the stage row in step with the verdict the bot
// reported on its deployment.
func (e *Engine) recordStatus(ctx context.Context, l loaded, ef effect) error {
	if ef.Kind != effStatus {
		return nil
	}
	return e.markStage(ctx, l, ef.Stage, stageRowState(ef.State))
}

// markStage sets a stage row's state, with the latest judgement and the
// time it ended when it passed or failed.
func (e *Engine) markStage(ctx context.Context, l loaded, index int, state store.StageState) error {
	stages, err := e.Store.ListStages(ctx, l.row.ID)
	if err != nil {
		return fmt.Errorf("rollout %d: stages: %w", l.row.ID, err)
	}
	for _, st := range stages {
		if st.Index != index || state == "" || st.State == store.StageFailed {
			continue
		}
		st.State = state
		if state == store.StagePassed || state == store.StageFailed {
			st.FinishedAt = e.now()
			if l.rec.Analysis != nil {
				st.Verdict, _ = json.Marshal(l.rec.Analysis)
			}
		}
		if err := e.Store.PutStage(ctx, st); err != nil {
			return fmt.Errorf("rollout %d: stage %d: %w", l.row.ID, index+1, err)
		}
	}
	return nil
}

// apply stores an effect's product in the record.
func (l *loaded) apply(ef effect, out outcome) {
	switch {
	case ef.Kind == effDeploy && out.deployment != 0 && ef.Task == rollout.TaskRollback:
		l.rec.Rollback = out.deployment
	case ef.Kind == effDeploy && out.deployment != 0:
		for len(l.rec.Deployments) <= ef.Stage {
			l.rec.Deployments = append(l.rec.Deployments, 0)
		}
		l.rec.Deployments[ef.Stage] = out.deployment
	case ef.Kind == effComment && out.comment != 0:
		l.rec.CommentID = out.comment
	}
}

// recordDeployment keeps the stage row and the audit log in step with a
// deployment the engine created.
func (e *Engine) recordDeployment(ctx context.Context, l loaded, ef effect, out outcome) error {
	if ef.Kind != effDeploy || out.deployment == 0 || ef.Task == rollout.TaskRollback {
		return nil
	}
	traffic := int(ef.Traffic + 0.5)
	if err := e.Store.PutStage(ctx, store.Stage{RolloutID: l.row.ID, Index: ef.Stage, TrafficPercent: traffic,
		DeploymentID: out.deployment, State: store.StageDeploying, StartedAt: e.now()}); err != nil {
		return fmt.Errorf("rollout %d: stage %d: %w", l.row.ID, ef.Stage+1, err)
	}
	if ef.Stage > 0 {
		// The next stage deployed: the one before it passed.
		if err := e.markStage(ctx, l, ef.Stage-1, store.StagePassed); err != nil {
			return err
		}
	}
	// "stage" in audit details is the stage's index, from 0, as in store.Stage.
	details, _ := json.Marshal(map[string]any{"rollout_id": l.row.ID, "stage": ef.Stage,
		"traffic_percent": ef.Traffic, "deployment_id": out.deployment})
	return e.audit(ctx, l, store.AuditEntry{Actor: Bot, Action: store.ActionRolloutStage, Decision: store.DecisionDone,
		Reason: fmt.Sprintf("stage %d (%g %%) deployed as deployment %d", ef.Stage+1, ef.Traffic, out.deployment), Details: details})
}

func (e *Engine) audit(ctx context.Context, l loaded, a store.AuditEntry) error {
	a.At, a.Repo, a.PR, a.Model, a.Environment, a.RolloutID = e.now(), l.row.Repo, l.row.PR, l.row.Model, l.row.Environment, l.row.ID
	if _, err := e.Store.AppendAudit(ctx, a); err != nil {
		return fmt.Errorf("rollout %d: audit %s: %w", l.row.ID, a.Action, err)
	}
	return nil
}

// do carries out one effect.
func (e *Engine) do(ctx context.Context, l loaded, ef effect) (outcome, error) {
	switch ef.Kind {
	case effAnalyse:
		payload, _ := json.Marshal(jobPayload{Look: ef.Look})
		_, err := e.Store.ScheduleJob(ctx, store.Job{Kind: jobAnalysis, Key: strconv.FormatInt(l.row.ID, 10), DueAt: ef.At, Payload: payload})
		return outcome{}, err
	case effAudit:
		details, _ := json.Marshal(map[string]any{"rollout_id": l.row.ID, "stage": ef.Stage})
		return outcome{}, e.audit(ctx, l, store.AuditEntry{Actor: ef.Actor, Action: ef.Action, Decision: store.DecisionDone, Reason: ef.Text, Details: details})
	}
	client, err := e.Clients.ForInstallation(l.row.InstallationID)
	if err != nil {
		return outcome{}, fmt.Errorf("installation %d: %w", l.row.InstallationID, err)
	}
	repo := gh.ParseRepo(l.row.Repo)
	switch ef.Kind {
	case effDeploy:
		return e.deploy(ctx, client, repo, l, ef)
	case effStatus:
		return outcome{}, e.status(ctx, client, repo, l, ef)
	case effComment:
		return e.refreshComment(ctx, client, repo, l, ef)
	case effNote:
		return outcome{}, e.note(ctx, client, repo, l, ef)
	}
	return outcome{}, fmt.Errorf("unknown effect %q", ef.Kind)
}

// deploy creates a stage's deployment, or finds the one an interrupted
// attempt created.
func (e *Engine) deploy(ctx context.Context, client GitHub, repo gh.Repo, l loaded, ef effect) (outcome, error) {
	d := e.deployment(l, ef)
	if ef.Tried {
		id, err := client.FindDeployment(ctx, repo, d)
		if err != nil {
			return outcome{}, fmt.Errorf("look for deployment: %w", err)
		}
		if id != 0 {
			return outcome{deployment: id}, nil
		}
	}
	id, err := client.CreateDeployment(ctx, repo, d)
	if rejected(err) && ef.Task != rollout.TaskRollback {
		return outcome{failed: "GitHub refused the deployment: " + err.Error()}, nil
	}
	if rejected(err) {
		e.logger().Error("rollback deployment refused; roll back by hand", "rollout", l.row.ID, "err", err)
		return outcome{}, nil
	}
	if err != nil {
		return outcome{}, fmt.Errorf("create deployment: %w", err)
	}
	return outcome{deployment: id}, nil
}

func rejected(err error) bool {
	return errors.Is(err, gh.ErrRejected) || errors.Is(err, gh.ErrNotFound)
}

// deployment is the contract's deployment for an effect. A rollback's
// payload keeps the canary's version and sends it 0 % of the traffic.
func (e *Engine) deployment(l loaded, ef effect) gh.Deployment {
	p := rollout.Payload{Model: l.row.Model, Version: ef.Version, BaselineVersion: l.rec.State.Baseline,
		Stage: ef.Stage + 1, TrafficPercent: ef.Traffic, RolloutID: l.row.ID}
	desc := fmt.Sprintf("%s %s: stage %d, %g %% of traffic", l.row.Model, ef.Version, ef.Stage+1, ef.Traffic)
	if ef.Task == rollout.TaskRollback {
		p.Version, p.TrafficPercent = l.row.Version, 0
		desc = fmt.Sprintf("%s: roll back %s to %s", l.row.Model, l.row.Version, l.rec.State.Baseline)
	}
	return gh.Deployment{Ref: l.row.HeadSHA, Environment: l.row.Environment, Task: ef.Task, Description: desc, Payload: p}
}

// status reports a verdict on the stage's deployment.
func (e *Engine) status(ctx context.Context, client GitHub, repo gh.Repo, l loaded, ef effect) error {
	if ef.Stage >= len(l.rec.Deployments) || l.rec.Deployments[ef.Stage] == 0 {
		e.logger().Warn("no deployment to report on", "rollout", l.row.ID, "stage", ef.Stage+1, "state", ef.State)
		return nil
	}
	// GitHub keeps 140 characters of a description: 139 and the ellipsis.
	err := client.CreateDeploymentStatus(ctx, repo, l.rec.Deployments[ef.Stage], ef.State, markdown.Truncate(ef.Text, 139))
	if rejected(err) {
		e.logger().Warn("deployment status refused", "rollout", l.row.ID, "err", err)
		return nil
	}
	return err
}

// refreshComment renders the status comment and edits it in place, or
// posts it the first time.
func (e *Engine) refreshComment(ctx context.Context, client GitHub, repo gh.Repo, l loaded, ef effect) (outcome, error) {
	body := rolloutcomment.Status(e.view(l))
	id := l.rec.CommentID
	if id == 0 && ef.Tried {
		found, err := client.FindComment(ctx, repo, l.row.PR, rolloutcomment.Marker(l.row.ID))
		if err != nil {
			return outcome{}, fmt.Errorf("look for the status comment: %w", err)
		}
		id = found
	}
	if id != 0 {
		err := client.EditComment(ctx, repo, id, body)
		if !errors.Is(err, gh.ErrNotFound) {
			return outcome{comment: id}, err
		}
		// Someone deleted it: post it again.
	}
	id, err := client.PostComment(ctx, repo, l.row.PR, body)
	if rejected(err) {
		e.logger().Warn("status comment refused", "rollout", l.row.ID, "err", err)
		return outcome{}, nil
	}
	return outcome{comment: id}, err
}

// note posts a notice once.
func (e *Engine) note(ctx context.Context, client GitHub, repo gh.Repo, l loaded, ef effect) error {
	if ef.Tried {
		found, err := client.FindComment(ctx, repo, l.row.PR, rolloutcomment.NoteMarker(l.row.ID, ef.Seq))
		if err != nil {
			return fmt.Errorf("look for notice %d: %w", ef.Seq, err)
		}
		if found != 0 {
			return nil
		}
	}
	_, err := client.PostComment(ctx, repo, l.row.PR, rolloutcomment.Note(l.row.ID, ef.Seq, ef.Text))
	if rejected(err) {
		e.logger().Warn("notice refused", "rollout", l.row.ID, "err", err)
		return nil
	}
	return err
}
