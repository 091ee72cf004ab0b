package canary

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/store"
)

// Pushes are the audit entries that record pushes to pull requests: the
// pull_request webhook writes them, /canary reads them to refuse a command
// written before the head moved.
type Pushes interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// pushDetails are the details of a store.ActionHeadMoved entry.
type pushDetails struct {
	HeadSHA string `json:"head_sha"`
}

// RecordPush records that head was pushed to pull request number of repo
// at at, by actor.
func RecordPush(ctx context.Context, p Pushes, repo string, number int, head, actor string, at time.Time) error {
	details, _ := json.Marshal(pushDetails{HeadSHA: head})
	if _, err := p.AppendAudit(ctx, store.AuditEntry{At: at, Actor: actor, Action: store.ActionHeadMoved,
		Repo: repo, PR: number, Decision: store.DecisionDone, Reason: "pushed " + Short(head), Details: details}); err != nil {
		return fmt.Errorf("record the push to #%d: %w", number, err)
	}
	return nil
}

// PushedSince says whether commits were pushed to the pull request at or
// after t (when the command was written), as the pull_request webhooks
// told; "" when not, else the new head.
func PushedSince(ctx context.Context, p Pushes, repo string, number int, t time.Time) (string, error) {
	if t.IsZero() {
		return "", nil
	}
	moves, err := p.ListAudit(ctx, store.AuditFilter{Repo: repo, PR: number, Since: t})
	if err != nil {
		return "", fmt.Errorf("pushes to #%d: %w", number, err)
	}
	for _, m := range moves {
		if m.Action != store.ActionHeadMoved {
			continue
		}
		var d pushDetails
		_ = json.Unmarshal(m.Details, &d)
		if d.HeadSHA == "" {
			return "a new commit", nil
		}
		return d.HeadSHA, nil
	}
	return "", nil
}

// ClosedReason is why the rollouts of a closed or merged pull request are
// released.
func ClosedReason(number int, merged bool) string {
	verb := "closed"
	if merged {
		verb = "merged"
	}
	return fmt.Sprintf("#%d was %s before the rollout finished; the rollout is released and traffic returns to the baseline", number, verb)
}

// Short is a commit's short SHA.
func Short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
