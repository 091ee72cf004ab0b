package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSource answers with a fixed snapshot or error, and counts its calls.
type fakeSource struct {
	name  string
	snap  Snapshot
	err   error
	calls int
}

func (f *fakeSource) Name() string { return f.name }

func (f *fakeSource) Snapshot(context.Context) (Snapshot, error) {
	f.calls++
	return f.snap, f.err
}

func TestFirst(t *testing.T) {
	serving := []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100}}
	down := errors.New("connection refused")
	tests := []struct {
		name        string
		sources     []*fakeSource
		wantSource  string
		wantSkipped []string
		wantErr     []string // every piece of the error; nil for success
		wantCalls   []int
	}{
		{
			name:       "the first answers",
			sources:    []*fakeSource{{name: "store", snap: Snapshot{Serving: serving}}, {name: "github"}},
			wantSource: "store", wantCalls: []int{1, 0},
		},
		{
			name:        "the second answers when the first is down",
			sources:     []*fakeSource{{name: "store", err: down}, {name: "github", snap: Snapshot{Serving: serving}}},
			wantSource:  "github",
			wantSkipped: []string{"store: connection refused"}, wantCalls: []int{1, 1},
		},
		{
			name:      "none answers",
			sources:   []*fakeSource{{name: "store", err: down}, {name: "github", err: errors.New("401 Bad credentials")}},
			wantErr:   []string{"no live source reachable", "store: connection refused", "github: 401 Bad credentials"},
			wantCalls: []int{1, 1},
		},
		{
			name:    "no source at all",
			wantErr: []string{"no live source configured"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sources []Source
			for _, s := range tt.sources {
				sources = append(sources, s)
			}
			snap, err := First(context.Background(), sources)
			for i, s := range tt.sources {
				assert.Equal(t, tt.wantCalls[i], s.calls, s.name)
			}
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, part := range tt.wantErr {
					assert.Contains(t, err.Error(), part)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantSource, snap.Source)
			assert.Equal(t, serving, snap.Serving)
			var skipped []string
			for _, e := range snap.Skipped {
				skipped = append(skipped, e.Error())
			}
			assert.Equal(t, tt.wantSkipped, skipped)
		})
	}
}

func TestUnavailableNamesItsReason(t *testing.T) {
	_, err := First(context.Background(), []Source{Unavailable("github", errors.New("GITHUB_TOKEN is not set"))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "github: GITHUB_TOKEN is not set")
}

func TestTrafficSplits(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	k := key{"fraud", "production"}
	tests := []struct {
		name string
		ro   traffic
		want []Serving
	}{
		{"nothing", traffic{}, nil},
		{
			"promoted only",
			traffic{stable: &Serving{Version: "1.0.0", Since: since}},
			[]Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: since}},
		},
		{
			"a canary takes its share from the stable version",
			traffic{stable: &Serving{Version: "1.0.0", Since: since}, canary: &Serving{Version: "2.0.0", TrafficPercent: 25}, baseline: "1.0.0"},
			[]Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 75, Since: since},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 25, Canary: true},
			},
		},
		{
			"without a promotion the baseline is the stable version",
			traffic{canary: &Serving{Version: "2.0.0", TrafficPercent: 12.5}, baseline: "1.0.0"},
			[]Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 87.5},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 12.5, Canary: true},
			},
		},
		{
			"a canary at 100 % leaves the stable version nothing",
			traffic{stable: &Serving{Version: "1.0.0", Since: since}, canary: &Serving{Version: "2.0.0", TrafficPercent: 100}, baseline: "1.0.0"},
			[]Serving{{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 100, Canary: true}},
		},
		{
			"a canary without baseline stands alone",
			traffic{canary: &Serving{Version: "2.0.0", TrafficPercent: 5}},
			[]Serving{{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 5, Canary: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.ro.serving(k))
		})
	}
}

func TestSnapshotOf(t *testing.T) {
	snap := Snapshot{Serving: []Serving{
		{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100},
		{Model: "fraud", Version: "2.0.0", Environment: "staging", TrafficPercent: 100},
		{Model: "fraud", Version: "1.0.0", Environment: "staging", TrafficPercent: 0},
		{Model: "churn", Version: "1.0.0", Environment: "production", TrafficPercent: 100},
	}}
	got := snap.Of("fraud", "1.0.0")
	require.Len(t, got, 2)
	assert.Equal(t, []string{"production", "staging"}, []string{got[0].Environment, got[1].Environment})
	assert.Empty(t, snap.Of("fraud", "9.9.9"))
}

func TestFirstKeepsTheCauses(t *testing.T) {
	down := errors.New("connection refused")
	_, err := First(context.Background(), []Source{&fakeSource{name: "store", err: down}})
	assert.ErrorIs(t, err, down)
	assert.EqualError(t, err, "no live source reachable: store: connection refused")
}
