package history

import (
	"context"
	"fmt"

	"github.com/modelgate/modelgate/pkg/store"
)

// MaxRollouts is how many rollouts Load reads at most, newest first.
const MaxRollouts = 10000

// Source is the part of the store a history is read from.
type Source interface {
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
	ListStages(ctx context.Context, rolloutID int64) ([]store.Stage, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Query selects the rollouts of a history; zero fields match all.
type Query struct {
	Repo  string
	Model string
	// Models selects several models at once, as /status does for the
	// models of one pull request; Model, when set too, is one more.
	Models      []string
	Environment string
	// Limit is how many rollouts of each model and environment are read in
	// full (stages and audit); all when zero. Promotions are always read,
	// so that the live version is known however long ago it was promoted.
	Limit int
}

// Load reads the records q selects from src.
func Load(ctx context.Context, src Source, q Query) (Records, error) {
	rec := Records{Stages: map[int64][]store.Stage{}, Audit: map[int64][]store.AuditEntry{}}
	for _, model := range q.models() {
		rs, err := src.ListRollouts(ctx, store.RolloutFilter{Repo: q.Repo, Model: model, Environment: q.Environment,
			Limit: MaxRollouts})
		if err != nil {
			return Records{}, fmt.Errorf("read rollouts: %w", err)
		}
		rec.Rollouts = append(rec.Rollouts, rs...)
		rec.Truncated = rec.Truncated || len(rs) == MaxRollouts
	}
	if err := loadAllDetails(ctx, src, q.Limit, &rec); err != nil {
		return Records{}, err
	}
	return rec, nil
}

// models lists the models to read one by one, each once; one empty name
// reads all.
func (q Query) models() []string {
	if len(q.Models) == 0 {
		return []string{q.Model}
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range append([]string{q.Model}, q.Models...) {
		if m != "" && !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// loadAllDetails reads the stages and audit entries of the newest limit
// rollouts of each group in rec, and of every promotion.
func loadAllDetails(ctx context.Context, src Source, limit int, rec *Records) error {
	seen := map[groupKey]int{}
	for _, r := range rec.Rollouts { // newest first in each group: the store's order
		k := groupKey{r.Repo, r.Model, r.Environment}
		seen[k]++
		if limit > 0 && seen[k] > limit && r.State != store.RolloutPromoted {
			continue
		}
		if err := loadDetails(ctx, src, r.ID, rec); err != nil {
			return err
		}
	}
	return nil
}

// loadDetails reads a rollout's stages and audit entries into rec.
func loadDetails(ctx context.Context, src Source, id int64, rec *Records) error {
	stages, err := src.ListStages(ctx, id)
	if err != nil {
		return fmt.Errorf("read stages of rollout %d: %w", id, err)
	}
	audit, err := src.ListAudit(ctx, store.AuditFilter{RolloutID: id, Limit: MaxRollouts})
	if err != nil {
		return fmt.Errorf("read audit of rollout %d: %w", id, err)
	}
	rec.Stages[id], rec.Audit[id] = stages, audit
	return nil
}
