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
	Repo        string
	Model       string
	Environment string
	// Limit is how many rollouts of each model and environment are read in
	// full (stages and audit); all when zero. Promotions are always read,
	// so that the live version is known however long ago it was promoted.
	Limit int
}

// Load reads the records q selects from src.
func Load(ctx context.Context, src Source, q Query) (Records, error) {
	rs, err := src.ListRollouts(ctx, store.RolloutFilter{Repo: q.Repo, Model: q.Model, Environment: q.Environment,
		Limit: MaxRollouts})
	if err != nil {
		return Records{}, fmt.Errorf("read rollouts: %w", err)
	}
	rec := Records{Rollouts: rs, Stages: map[int64][]store.Stage{}, Audit: map[int64][]store.AuditEntry{},
		Truncated: len(rs) == MaxRollouts}
	seen := map[groupKey]int{}
	for _, r := range rs { // newest first: the store's order
		k := groupKey{r.Repo, r.Model, r.Environment}
		seen[k]++
		if q.Limit > 0 && seen[k] > q.Limit && r.State != "promoted" {
			continue
		}
		if err := loadDetails(ctx, src, r.ID, &rec); err != nil {
			return Records{}, err
		}
	}
	return rec, nil
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
