// Package effect carries out a rollout's outbox on GitHub, once each:
// deployments, their statuses, the status comment and notices, the audit
// log and the stage rows, and the analyses the state machine schedules.
package effect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/modelgate/modelgate/internal/failpoint"
	"github.com/modelgate/modelgate/pkg/canary"
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

// GitHub is the part of GitHub's API the effects use, for one
// installation: deployments, their statuses and the bot's own comments.
// Implementations (gh.Client) map a 404 to gh.ErrNotFound and wrap other
// 4xx answers, which retrying will not mend, in gh.ErrRejected.
type GitHub interface {
	CreateDeployment(ctx context.Context, repo gh.Repo, d gh.Deployment) (int64, error)
	// FindDeployment returns the deployment of d's ref, environment and
	// task whose payload names d's rollout and stage, or 0.
	FindDeployment(ctx context.Context, repo gh.Repo, d gh.Deployment) (int64, error)
	CreateDeploymentStatus(ctx context.Context, repo gh.Repo, id int64, state, description string) error
	PostComment(ctx context.Context, repo gh.Repo, number int, body string) (int64, error)
	EditComment(ctx context.Context, repo gh.Repo, commentID int64, body string) error
	// FindComment returns the first comment on number that contains
	// marker, or 0.
	FindComment(ctx context.Context, repo gh.Repo, number int, marker string) (int64, error)
}

var _ GitHub = (*gh.Client)(nil)

// Clients gives the GitHub client of an installation, for work that runs
// after the webhook that started it.
type Clients interface {
	ForInstallation(installationID int64) (GitHub, error)
}

// ClientsFunc is a function that serves as Clients.
type ClientsFunc func(installationID int64) (GitHub, error)

// ForInstallation calls f.
func (f ClientsFunc) ForInstallation(installationID int64) (GitHub, error) { return f(installationID) }

// Store is the durable state the effects write besides the record.
type Store interface {
	ListStages(ctx context.Context, rolloutID int64) ([]store.Stage, error)
	PutStage(ctx context.Context, s store.Stage) error
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Records reads and changes rollout records, and schedules their looks
// (canary.Transitions).
type Records interface {
	Load(ctx context.Context, id int64) (canary.Rollout, error)
	Save(ctx context.Context, l canary.Rollout) (canary.Rollout, error)
	Update(ctx context.Context, id int64, change func(*canary.Rollout) error) (canary.Rollout, error)
	Apply(ctx context.Context, id int64, ev rollout.Event, actor string, mutate func(*canary.Rollout)) (canary.Rollout, error)
	ScheduleAnalysis(ctx context.Context, id int64, look int, at time.Time) error
}

// Executor carries out outboxes. Its zero value is not usable: set Store,
// Records and Clients.
type Executor struct {
	Store   Store
	Records Records
	Clients Clients
	// WebURL is GitHub's web address for links (https://github.com).
	WebURL string
	Logger *slog.Logger
	Clock  canary.Clock
	// Observer hears the stages deployed; nil for none.
	Observer canary.Observer
}

func (e *Executor) webURL() string {
	if e.WebURL == "" {
		return "https://github.com"
	}
	return e.WebURL
}

// outcome is what carrying out an effect produced, to be stored.
type outcome struct {
	deployment int64
	comment    int64
	// failed is set when GitHub refused a stage's deployment for good:
	// the rollout fails with this reason.
	failed string
}

// Run carries out the rollout's outbox from the front, storing the
// progress after each effect. It runs only inside the rollout's effects
// job, which the store hands to one worker at a time.
func (e *Executor) Run(ctx context.Context, id int64) error {
	for {
		l, err := e.Records.Load(ctx, id)
		if err != nil {
			return err
		}
		if len(l.Record.Outbox) == 0 {
			return nil
		}
		ef := l.Record.Outbox[0]
		if ef.Kind == canary.EffectComment && laterComment(l.Record.Outbox[1:]) {
			// A later refresh of the same comment makes this one moot.
			if err := e.finishEffect(ctx, id, ef.Seq, outcome{}); err != nil {
				return err
			}
			continue
		}
		if guarded(ef, l.Record) {
			if ef.Tried && e.Clock.Now().Before(ef.TriedAt.Add(inFlight)) {
				return fmt.Errorf("rollout %d: %s effect %d was tried %s ago and may still be landing; looking again later",
					id, ef.Kind, ef.Seq, e.Clock.Now().Sub(ef.TriedAt).Round(time.Millisecond))
			}
			l.Record.Outbox[0].Tried, l.Record.Outbox[0].TriedAt = true, e.Clock.Now()
			if _, err := e.Records.Save(ctx, l); errors.Is(err, store.ErrConflict) {
				continue
			} else if err != nil {
				return err
			}
		}
		failpoint.Hit(failpoint.EffectMarked, strconv.FormatInt(id, 10))
		out, err := e.do(ctx, l, ef)
		if err != nil {
			return fmt.Errorf("rollout %d: %s effect %d: %w", id, ef.Kind, ef.Seq, err)
		}
		failpoint.Hit(failpoint.EffectDone, strconv.FormatInt(id, 10))
		if err := e.finishEffect(ctx, id, ef.Seq, out); err != nil {
			return err
		}
		if out.failed != "" {
			if _, err := e.Records.Apply(ctx, id, rollout.DeploymentFailed{Reason: out.failed}, canary.Bot, nil); err != nil && !errors.Is(err, rollout.ErrRefused) {
				return err
			}
		}
	}
}

func laterComment(rest []canary.Effect) bool {
	for _, ef := range rest {
		if ef.Kind == canary.EffectComment {
			return true
		}
	}
	return false
}

// guarded says whether an effect creates something that must not be
// created twice (on GitHub, or in the audit log): those are marked tried
// before the first attempt.
func guarded(ef canary.Effect, rec canary.Record) bool {
	switch ef.Kind {
	case canary.EffectDeploy, canary.EffectNote, canary.EffectAudit:
		return true
	case canary.EffectComment:
		return rec.CommentID == 0
	}
	return false
}

// finishEffect removes effect seq from the front of the outbox and stores
// what it produced.
func (e *Executor) finishEffect(ctx context.Context, id int64, seq int, out outcome) error {
	var ef canary.Effect
	l, err := e.Records.Update(ctx, id, func(l *canary.Rollout) error {
		if len(l.Record.Outbox) == 0 || l.Record.Outbox[0].Seq != seq {
			return fmt.Errorf("rollout %d: effect %d is no longer first in the outbox", id, seq)
		}
		ef = l.Record.Outbox[0]
		l.Record.Outbox = l.Record.Outbox[1:]
		apply(l, ef, out)
		if ef.Kind == canary.EffectDeploy && out.deployment != 0 && ef.Task != rollout.TaskRollback {
			// In the same write: a kill after it loses no entry.
			l.Push(stageAudit(ef, out.deployment))
		}
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
func (e *Executor) recordStatus(ctx context.Context, l canary.Rollout, ef canary.Effect) error {
	if ef.Kind != canary.EffectStatus {
		return nil
	}
	return e.markStage(ctx, l, ef.Stage, stageRowState(ef.State))
}

// markStage sets a stage row's state, with the latest judgement and the
// time it ended when it passed or failed.
func (e *Executor) markStage(ctx context.Context, l canary.Rollout, index int, state store.StageState) error {
	stages, err := e.Store.ListStages(ctx, l.Row.ID)
	if err != nil {
		return fmt.Errorf("rollout %d: stages: %w", l.Row.ID, err)
	}
	for _, st := range stages {
		if st.Index != index || state == "" || st.State == store.StageFailed {
			continue
		}
		st.State = state
		if state == store.StagePassed || state == store.StageFailed {
			st.FinishedAt = e.Clock.Now()
			if l.Record.Analysis != nil {
				st.Verdict, _ = json.Marshal(l.Record.Analysis)
			}
		}
		if err := e.Store.PutStage(ctx, st); err != nil {
			return fmt.Errorf("rollout %d: stage %d: %w", l.Row.ID, index+1, err)
		}
	}
	return nil
}

// apply stores an effect's product in the record.
func apply(l *canary.Rollout, ef canary.Effect, out outcome) {
	switch {
	case ef.Kind == canary.EffectDeploy && out.deployment != 0 && ef.Task == rollout.TaskRollback:
		l.Record.Rollback = out.deployment
	case ef.Kind == canary.EffectDeploy && out.deployment != 0:
		l.SetDeployment(ef.Stage, out.deployment)
	case ef.Kind == canary.EffectComment && out.comment != 0:
		l.Record.CommentID = out.comment
	}
}

// recordDeployment keeps the stage row and the audit log in step with a
// deployment the engine created.
func (e *Executor) recordDeployment(ctx context.Context, l canary.Rollout, ef canary.Effect, out outcome) error {
	if ef.Kind != canary.EffectDeploy || out.deployment == 0 || ef.Task == rollout.TaskRollback {
		return nil
	}
	canary.Observe(e.Observer).StageStarted(ef.Task)
	traffic := int(ef.Traffic + 0.5)
	if err := e.Store.PutStage(ctx, store.Stage{RolloutID: l.Row.ID, Index: ef.Stage, TrafficPercent: traffic,
		DeploymentID: out.deployment, State: store.StageDeploying, StartedAt: e.Clock.Now()}); err != nil {
		return fmt.Errorf("rollout %d: stage %d: %w", l.Row.ID, ef.Stage+1, err)
	}
	if ef.Stage > 0 {
		// The next stage deployed: the one before it passed.
		if err := e.markStage(ctx, l, ef.Stage-1, store.StagePassed); err != nil {
			return err
		}
	}
	return nil
}

// stageAudit is the audit effect of a stage deployed. "stage" in audit
// details is the stage's index, from 0, as in store.Stage.
func stageAudit(ef canary.Effect, deployment int64) canary.Effect {
	return canary.Effect{Kind: canary.EffectAudit, Action: store.ActionRolloutStage, Actor: canary.Bot, Stage: ef.Stage,
		Traffic: ef.Traffic, Deployment: deployment,
		Text: fmt.Sprintf("stage %d (%g %%) deployed as deployment %d", ef.Stage+1, ef.Traffic, deployment)}
}

// auditEffect appends an audit entry once: its details name the effect,
// and an attempt after one that may have appended it looks for it first.
func (e *Executor) auditEffect(ctx context.Context, l canary.Rollout, ef canary.Effect) error {
	details := map[string]any{"rollout_id": l.Row.ID, "stage": ef.Stage, "effect": ef.Seq}
	if ef.Look > 0 {
		details["look"] = ef.Look
	}
	if len(ef.Details) > 0 {
		details["line"] = ef.Details // replays the look: bot judge < line
	}
	if ef.Deployment != 0 {
		details["deployment_id"], details["traffic_percent"] = ef.Deployment, ef.Traffic
	}
	if ef.Tried {
		entries, err := e.Store.ListAudit(ctx, store.AuditFilter{RolloutID: l.Row.ID})
		if err != nil {
			return fmt.Errorf("rollout %d: look for audit %s: %w", l.Row.ID, ef.Action, err)
		}
		for _, a := range entries {
			var d struct {
				Effect int `json:"effect"`
			}
			if a.Action == ef.Action && json.Unmarshal(a.Details, &d) == nil && d.Effect == ef.Seq {
				return nil
			}
		}
	}
	b, _ := json.Marshal(details)
	return e.audit(ctx, l, store.AuditEntry{Actor: ef.Actor, Action: ef.Action, Decision: store.DecisionDone, Reason: ef.Text, Details: b})
}

func (e *Executor) audit(ctx context.Context, l canary.Rollout, a store.AuditEntry) error {
	if _, err := e.Store.AppendAudit(ctx, l.Audit(a, e.Clock.Now())); err != nil {
		return fmt.Errorf("rollout %d: audit %s: %w", l.Row.ID, a.Action, err)
	}
	return nil
}

// do carries out one effect.
func (e *Executor) do(ctx context.Context, l canary.Rollout, ef canary.Effect) (outcome, error) {
	switch ef.Kind {
	case canary.EffectAnalyse:
		return outcome{}, e.Records.ScheduleAnalysis(ctx, l.Row.ID, ef.Look, ef.At)
	case canary.EffectAudit:
		return outcome{}, e.auditEffect(ctx, l, ef)
	}
	client, err := e.Clients.ForInstallation(l.Row.InstallationID)
	if err != nil {
		return outcome{}, fmt.Errorf("installation %d: %w", l.Row.InstallationID, err)
	}
	repo := gh.ParseRepo(l.Row.Repo)
	switch ef.Kind {
	case canary.EffectDeploy:
		return e.deploy(ctx, client, repo, l, ef)
	case canary.EffectStatus:
		return outcome{}, e.status(ctx, client, repo, l, ef)
	case canary.EffectComment:
		return e.refreshComment(ctx, client, repo, l, ef)
	case canary.EffectNote:
		return outcome{}, e.note(ctx, client, repo, l, ef)
	}
	return outcome{}, fmt.Errorf("unknown effect %q", ef.Kind)
}

// deploy creates a stage's deployment, or finds the one an interrupted
// attempt created.
func (e *Executor) deploy(ctx context.Context, client GitHub, repo gh.Repo, l canary.Rollout, ef canary.Effect) (outcome, error) {
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
		canary.Log(e.Logger).Error("rollback deployment refused; roll back by hand", "rollout", l.Row.ID, "err", err)
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
func (e *Executor) deployment(l canary.Rollout, ef canary.Effect) gh.Deployment {
	p := rollout.Payload{Model: l.Row.Model, Version: ef.Version, BaselineVersion: l.Record.State.Baseline,
		Stage: ef.Stage + 1, TrafficPercent: ef.Traffic, RolloutID: l.Row.ID}
	desc := fmt.Sprintf("%s %s: stage %d, %g %% of traffic", l.Row.Model, ef.Version, ef.Stage+1, ef.Traffic)
	if ef.Task == rollout.TaskRollback {
		p.Version, p.TrafficPercent = l.Row.Version, 0
		desc = fmt.Sprintf("%s: roll back %s to %s", l.Row.Model, l.Row.Version, l.Record.State.Baseline)
	}
	return gh.Deployment{Ref: l.Row.HeadSHA, Environment: l.Row.Environment, Task: ef.Task, Description: markdown.Line(desc, 139), Payload: p}
}

// status reports a verdict on the stage's deployment.
func (e *Executor) status(ctx context.Context, client GitHub, repo gh.Repo, l canary.Rollout, ef canary.Effect) error {
	if ef.Stage >= len(l.Record.Deployments) || l.Record.Deployments[ef.Stage] == 0 {
		canary.Log(e.Logger).Warn("no deployment to report on", "rollout", l.Row.ID, "stage", ef.Stage+1, "state", ef.State)
		return nil
	}
	// GitHub keeps 140 characters of a description: 139 and the ellipsis.
	err := client.CreateDeploymentStatus(ctx, repo, l.Record.Deployments[ef.Stage], ef.State, markdown.Line(ef.Text, 139))
	if rejected(err) {
		canary.Log(e.Logger).Warn("deployment status refused", "rollout", l.Row.ID, "err", err)
		return nil
	}
	return err
}

// refreshComment renders the status comment and edits it in place, or
// posts it the first time.
func (e *Executor) refreshComment(ctx context.Context, client GitHub, repo gh.Repo, l canary.Rollout, ef canary.Effect) (outcome, error) {
	body := rolloutcomment.Status(e.view(l))
	id := l.Record.CommentID
	if id == 0 {
		// An earlier attempt of this effect, or of one made moot by it,
		// may have posted the comment though its answer was lost.
		found, err := client.FindComment(ctx, repo, l.Row.PR, rolloutcomment.Marker(l.Row.ID))
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
	id, err := client.PostComment(ctx, repo, l.Row.PR, body)
	if rejected(err) {
		canary.Log(e.Logger).Warn("status comment refused", "rollout", l.Row.ID, "err", err)
		return outcome{}, nil
	}
	return outcome{comment: id}, err
}

// note posts a notice once.
func (e *Executor) note(ctx context.Context, client GitHub, repo gh.Repo, l canary.Rollout, ef canary.Effect) error {
	if ef.Tried {
		found, err := client.FindComment(ctx, repo, l.Row.PR, rolloutcomment.NoteMarker(l.Row.ID, ef.Seq))
		if err != nil {
			return fmt.Errorf("look for notice %d: %w", ef.Seq, err)
		}
		if found != 0 {
			return nil
		}
	}
	_, err := client.PostComment(ctx, repo, l.Row.PR, rolloutcomment.Note(l.Row.ID, ef.Seq, ef.Text))
	if rejected(err) {
		canary.Log(e.Logger).Warn("notice refused", "rollout", l.Row.ID, "err", err)
		return nil
	}
	return err
}
