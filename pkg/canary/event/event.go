// Package event feeds what GitHub tells of a rollout to its state machine:
// the deploy workflow's deployment statuses, and a pull request's close
// and pushes.
package event

import (
	"context"
	"log/slog"

	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/modelgate/modelgate/pkg/store"
)

// Store is the durable state the events read and write besides the
// records of the rollouts they move.
type Store interface {
	ListRollouts(ctx context.Context, f store.RolloutFilter) ([]store.Rollout, error)
	canary.Pushes
}

// Records reads and moves rollouts (canary.Transitions).
type Records interface {
	Load(ctx context.Context, id int64) (canary.Rollout, error)
	Apply(ctx context.Context, id int64, ev rollout.Event, actor string, mutate func(*canary.Rollout)) (canary.Rollout, error)
	Release(ctx context.Context, ro store.Rollout, reason, actor string) error
	Notify(ctx context.Context, id int64, text string) error
}

// Events handles the webhooks about rollouts. Its zero value is not
// usable: set Store and Records.
type Events struct {
	Store   Store
	Records Records
	// BotLogin is the App's login: deployment statuses it sets itself are
	// not the deploy workflow's answer.
	BotLogin string
	Logger   *slog.Logger
	Clock    canary.Clock
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
