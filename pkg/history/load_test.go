package history

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/store"
)

// fakeSource serves records the way the store does: rollouts newest first.
type fakeSource struct {
	rec      Records
	filters  []store.RolloutFilter
	detailed []int64 // rollouts whose stages were read
	err      map[string]error
}

func (f *fakeSource) ListRollouts(_ context.Context, flt store.RolloutFilter) ([]store.Rollout, error) {
	f.filters = append(f.filters, flt)
	var out []store.Rollout
	for i := len(f.rec.Rollouts) - 1; i >= 0; i-- {
		r := f.rec.Rollouts[i]
		if match(flt.Repo, r.Repo) && match(flt.Model, r.Model) && match(flt.Environment, r.Environment) {
			out = append(out, r)
		}
	}
	return out, f.err["rollouts"]
}

func match(want, got string) bool { return want == "" || want == got }

func (f *fakeSource) ListStages(_ context.Context, id int64) ([]store.Stage, error) {
	f.detailed = append(f.detailed, id)
	return f.rec.Stages[id], f.err["stages"]
}

func (f *fakeSource) ListAudit(_ context.Context, flt store.AuditFilter) ([]store.AuditEntry, error) {
	return f.rec.Audit[flt.RolloutID], f.err["audit"]
}

func TestLoadReadsPromotionsBeyondTheLimit(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		detailed []int64
	}{
		{"all", 0, []int64{5, 4, 2, 1}},
		{"the newest, and every promotion", 1, []int64{5, 4, 1}},
		{"two: the promoted second is read anyway", 2, []int64{5, 4, 1}},
		{"three", 3, []int64{5, 4, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{rec: fraud()}
			q := Query{Repo: "octo/models", Model: "fraud", Environment: "production", Limit: tt.limit}
			rec, err := Load(context.Background(), src, q)
			require.NoError(t, err)
			assert.Equal(t, []store.RolloutFilter{{Repo: "octo/models", Model: "fraud", Environment: "production",
				Limit: MaxRollouts}}, src.filters)
			assert.Equal(t, tt.detailed, src.detailed)
			assert.Len(t, rec.Rollouts, 4)
			assert.False(t, rec.Truncated)
			g := group(t, Build(rec, Options{Limit: tt.limit}), "fraud", "production")
			require.NotNil(t, g.Live)
			assert.Equal(t, "carol", g.Live.PromotedBy, "the promotion's audit entry was read")
		})
	}
}

func TestLoadSeveralModels(t *testing.T) {
	tests := []struct {
		name   string
		q      Query
		models []string // one ListRollouts a model
		groups []string
	}{
		{"all models", Query{}, []string{""}, []string{"churn production", "fraud production", "fraud staging"}},
		{"one", Query{Model: "churn"}, []string{"churn"}, []string{"churn production"}},
		{"a pull request's models, each once", Query{Models: []string{"fraud", "churn", "fraud"}},
			[]string{"fraud", "churn"}, []string{"churn production", "fraud production", "fraud staging"}},
		{"model and models", Query{Model: "churn", Models: []string{"fraud"}, Environment: "production"},
			[]string{"churn", "fraud"}, []string{"churn production", "fraud production"}},
		{"no such model", Query{Models: []string{"nope"}}, []string{"nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{rec: fraud()}
			rec, err := Load(context.Background(), src, tt.q)
			require.NoError(t, err)
			var models []string
			for _, f := range src.filters {
				models = append(models, f.Model)
			}
			assert.Equal(t, tt.models, models)
			var groups []string
			for _, g := range Build(rec, Options{}).Groups {
				groups = append(groups, g.Model+" "+g.Environment)
			}
			assert.Equal(t, tt.groups, groups)
			assert.Len(t, src.detailed, len(rec.Rollouts), "each rollout read once")
		})
	}
}

func TestLoadFailures(t *testing.T) {
	boom := errors.New("database is locked")
	tests := []struct {
		fail, want string
	}{
		{"rollouts", "read rollouts: database is locked"},
		{"stages", "read stages of rollout 6: database is locked"},
		{"audit", "read audit of rollout 6: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.fail, func(t *testing.T) {
			src := &fakeSource{rec: fraud(), err: map[string]error{tt.fail: boom}}
			_, err := Load(context.Background(), src, Query{})
			assert.ErrorIs(t, err, boom)
			assert.EqualError(t, err, tt.want)
		})
	}
}
