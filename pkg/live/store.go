package live

import (
	"context"
	"fmt"

	"github.com/modelgate/modelgate/pkg/store"
)

// storeLimit bounds the rollouts read per query; a repository with more
// promotions than this loses its oldest (Snapshot.Truncated says so).
const storeLimit = 1000

// RolloutLister is the part of the bot's store the Store source reads.
type RolloutLister interface {
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
}

// Store reads the bot's store: per model and environment, the version the
// newest promoted rollout left at 100 %, and the canary of a running or
// paused rollout.
type Store struct {
	Rollouts RolloutLister
	Repo     string // "owner/name"
}

// Name implements Source.
func (s Store) Name() string { return "store" }

// Snapshot implements Source with two queries.
func (s Store) Snapshot(ctx context.Context) (Snapshot, error) {
	if s.Repo == "" {
		return Snapshot{}, fmt.Errorf("no repository to look up (--repo owner/name)")
	}
	promoted, err := s.Rollouts.ListRollouts(ctx, store.RolloutFilter{Repo: s.Repo, States: []store.RolloutState{store.RolloutPromoted}, Limit: storeLimit})
	if err != nil {
		return Snapshot{}, fmt.Errorf("list promoted rollouts of %s: %w", s.Repo, err)
	}
	active, err := s.Rollouts.ListRollouts(ctx, store.RolloutFilter{Repo: s.Repo, States: []store.RolloutState{store.RolloutRunning, store.RolloutPaused}, Limit: storeLimit})
	if err != nil {
		return Snapshot{}, fmt.Errorf("list active rollouts of %s: %w", s.Repo, err)
	}
	found := map[key]traffic{}
	for _, r := range promoted { // newest first: the first of a key is live
		k := key{r.Model, r.Environment}
		if ro := found[k]; ro.stable == nil {
			ro.stable = &Serving{Version: r.Version, Since: r.UpdatedAt.UTC()}
			found[k] = ro
		}
	}
	for _, r := range active {
		k := key{r.Model, r.Environment}
		if ro := found[k]; ro.canary == nil && r.TrafficPercent > 0 {
			ro.canary = &Serving{Version: r.Version, TrafficPercent: float64(r.TrafficPercent), Since: r.UpdatedAt.UTC()}
			ro.baseline = r.BaselineVersion
			found[k] = ro
		}
	}
	return Snapshot{Serving: flatten(found), Calls: 2, Truncated: len(promoted) == storeLimit}, nil
}
