package chatops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/store"
)

// AuditLog is where RecordOnly writes.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
}

// RecordOnly is a Rollouts for the tests of this package: it records each
// authorized command in the audit log and says that nothing was deployed.
type RecordOnly struct {
	Audit AuditLog
	Now   func() time.Time
}

var _ Rollouts = RecordOnly{}

func (r RecordOnly) record(ctx context.Context, req Request) (Outcome, error) {
	models := make([]string, len(req.Targets))
	for i, t := range req.Targets {
		models[i] = t.Model
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	const why = "accepted; the rollout engine is not enabled on this bot"
	if _, err := r.Audit.AppendAudit(ctx, store.AuditEntry{
		At: now, Actor: req.Commenter, Action: "rollout." + req.Command.Name, Repo: req.Repo.FullName(),
		PR: req.PullRequest.Number, Model: strings.Join(models, ","), Environment: req.Command.Environment,
		Decision: "accepted", Reason: why, DeliveryID: req.DeliveryID,
	}); err != nil {
		return Outcome{}, fmt.Errorf("record /%s: %w", req.Command.Name, err)
	}
	subject := ""
	if len(models) > 0 {
		subject = " for " + markdown.Text(strings.Join(models, ", "))
	}
	return Outcome{
		Reply:  fmt.Sprintf("`/%s`%s is authorized and recorded, but the rollout engine is not enabled on this bot yet: nothing was deployed or changed.", req.Command.Name, subject),
		Reason: why,
	}, nil
}

// Canary records the command.
func (r RecordOnly) Canary(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Promote records the command.
func (r RecordOnly) Promote(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Rollback records the command.
func (r RecordOnly) Rollback(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Abort records the command.
func (r RecordOnly) Abort(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Pause records the command.
func (r RecordOnly) Pause(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Resume records the command.
func (r RecordOnly) Resume(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Lock records the command.
func (r RecordOnly) Lock(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}

// Unlock records the command.
func (r RecordOnly) Unlock(ctx context.Context, req Request) (Outcome, error) {
	return r.record(ctx, req)
}
