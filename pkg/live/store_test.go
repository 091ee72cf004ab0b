package live

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/store"
)

// hour is t0 and i hours.
func hour(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }

// newStore opens a SQLite store in a temporary directory that writes the
// rows it is given, row i at hour(i).
func newStore(t *testing.T, rows []store.Rollout) *store.SQLite {
	t.Helper()
	var now atomic.Int64
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "modelgate.db"), store.SQLiteOptions{
		Now: func() time.Time { return time.UnixMilli(now.Load()).UTC() },
	})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	for i, r := range rows {
		now.Store(hour(i).UnixMilli())
		_, err := s.CreateRollout(context.Background(), r)
		require.NoError(t, err)
	}
	return s
}

func TestStoreSnapshot(t *testing.T) {
	row := func(model, env, version, baseline, state string, traffic int) store.Rollout {
		return store.Rollout{Repo: "octo/models", PR: 7, Model: model, Version: version, BaselineVersion: baseline,
			Environment: env, State: state, TrafficPercent: traffic}
	}
	tests := []struct {
		name string
		rows []store.Rollout // oldest first; each written an hour after the one before
		want []Serving
	}{
		{
			name: "the newest promotion serves everything",
			rows: []store.Rollout{
				row("fraud", "production", "1.0.0", "0.9.0", "promoted", 100),
				row("fraud", "production", "1.1.0", "1.0.0", "promoted", 100),
			},
			want: []Serving{{Model: "fraud", Version: "1.1.0", Environment: "production", TrafficPercent: 100, Since: hour(1)}},
		},
		{
			name: "a running canary takes its share",
			rows: []store.Rollout{
				row("fraud", "production", "1.0.0", "0.9.0", "promoted", 100),
				row("fraud", "production", "2.0.0", "1.0.0", "running", 25),
			},
			want: []Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 75, Since: hour(0)},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 25, Canary: true, Since: hour(1)},
			},
		},
		{
			name: "a paused canary still serves",
			rows: []store.Rollout{row("fraud", "production", "2.0.0", "1.0.0", "paused", 50)},
			want: []Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 50},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 50, Canary: true, Since: hour(0)},
			},
		},
		{
			name: "ended rollouts and rollouts of other repositories do not serve",
			rows: []store.Rollout{
				row("fraud", "production", "1.0.0", "0.9.0", "promoted", 100),
				row("fraud", "production", "2.0.0", "1.0.0", "rolled_back", 0),
				row("fraud", "production", "2.0.1", "1.0.0", "aborted", 5),
				row("fraud", "production", "2.0.2", "1.0.0", "failed", 5),
				row("fraud", "production", "2.0.3", "1.0.0", "pending", 0),
				{Repo: "octo/other", Model: "fraud", Version: "9.0.0", Environment: "production", State: "promoted", TrafficPercent: 100},
			},
			want: []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: hour(0)}},
		},
		{
			name: "models and environments are apart",
			rows: []store.Rollout{
				row("fraud", "production", "1.0.0", "", "promoted", 100),
				row("fraud", "staging", "1.1.0", "1.0.0", "promoted", 100),
				row("churn", "production", "3.0.0", "", "promoted", 100),
			},
			want: []Serving{
				{Model: "churn", Version: "3.0.0", Environment: "production", TrafficPercent: 100, Since: hour(2)},
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: hour(0)},
				{Model: "fraud", Version: "1.1.0", Environment: "staging", TrafficPercent: 100, Since: hour(1)},
			},
		},
		{
			name: "no rollouts",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, tt.rows)
			snap, err := Store{Rollouts: s, Repo: "octo/models"}.Snapshot(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, snap.Serving)
			assert.Equal(t, 2, snap.Calls)
			assert.False(t, snap.Truncated)
		})
	}
}

// failingLister is a store that cannot answer.
type failingLister struct{}

func (failingLister) ListRollouts(context.Context, store.RolloutFilter) ([]store.Rollout, error) {
	return nil, errors.New("database is locked")
}

func TestStoreErrors(t *testing.T) {
	_, err := Store{Rollouts: failingLister{}, Repo: "octo/models"}.Snapshot(context.Background())
	assert.ErrorContains(t, err, "list promoted rollouts of octo/models: database is locked")
	_, err = Store{Rollouts: failingLister{}}.Snapshot(context.Background())
	assert.ErrorContains(t, err, "no repository to look up (--repo owner/name)")
}
