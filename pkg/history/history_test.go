package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/store"
)

// group finds a group of h, failing t when there is none.
func group(t *testing.T, h History, model, environment string) Group {
	t.Helper()
	for _, g := range h.Groups {
		if g.Model == model && g.Environment == environment {
			return g
		}
	}
	require.Failf(t, "no group", "%s in %s", model, environment)
	return Group{}
}

func ids(rs []Rollout) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func ptr(t time.Time) *time.Time { return &t }

func TestBuildGroupsNewestFirst(t *testing.T) {
	h := Build(fraud(), Options{Now: asOf})
	var keys []string
	for _, g := range h.Groups {
		keys = append(keys, g.Repo+" "+g.Model+" "+g.Environment)
	}
	assert.Equal(t, []string{"octo/models churn production", "octo/models fraud production", "octo/models fraud staging"}, keys)
	assert.Equal(t, []int64{5, 4, 2, 1}, ids(group(t, h, "fraud", "production").Rollouts))
	assert.Equal(t, asOf, h.AsOf)
}

func TestBuildLiveIsTheLatestPromotion(t *testing.T) {
	tests := []struct {
		name      string
		records   func() Records
		model     string
		env       string
		wantLive  int64 // 0: none
		wantServe []Serving
	}{
		{
			name: "two promotions, each until the next", records: fraud, model: "fraud", env: "production", wantLive: 4,
			wantServe: []Serving{
				{Version: "3.2.1", RolloutID: 4, PR: 13, PRURL: "https://github.com/octo/models/pull/13",
					From: day(23, 15, 0), PromotedBy: "carol"},
				{Version: "3.1.0", RolloutID: 1, PR: 9, PRURL: "https://github.com/octo/models/pull/9",
					From: day(20, 12, 0), Until: ptr(day(23, 15, 0)), PromotedBy: "modelgate"},
			},
		},
		{name: "aborted only", records: fraud, model: "fraud", env: "staging", wantServe: []Serving{}},
		{name: "paused only", records: fraud, model: "churn", env: "production", wantServe: []Serving{}},
		{
			name: "promotion without its audit entry ends at the row's last update",
			records: func() Records {
				f := newFixture()
				f.rollout(store.Rollout{ID: 7, PR: 1, Model: "m", Version: "2", Environment: "e", StartedBy: "a"}, day(1, 8, 0))
				f.rec.Rollouts[0].State, f.rec.Rollouts[0].UpdatedAt = "promoted", day(1, 9, 0)
				return f.rec
			},
			model: "m", env: "e", wantLive: 7,
			wantServe: []Serving{{Version: "2", RolloutID: 7, PR: 1, PRURL: "https://github.com/octo/models/pull/1",
				From: day(1, 9, 0)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := group(t, Build(tt.records(), Options{Now: asOf}), tt.model, tt.env)
			assert.Equal(t, tt.wantServe, g.Served)
			if tt.wantLive == 0 {
				assert.Nil(t, g.Live)
			} else {
				require.NotNil(t, g.Live)
				assert.Equal(t, tt.wantLive, g.Live.RolloutID)
			}
			for _, r := range g.Rollouts {
				assert.Equal(t, r.ID == tt.wantLive, r.Live, "rollout %d", r.ID)
			}
		})
	}
}

func TestBuildTellsEachRollout(t *testing.T) {
	h := Build(fraud(), Options{Now: asOf})
	byID := map[int64]Rollout{}
	for _, g := range h.Groups {
		for _, r := range g.Rollouts {
			byID[r.ID] = r
		}
	}
	tests := []struct {
		name      string
		id        int64
		state     string
		active    bool
		traffic   int
		until     *time.Time
		decidedBy string
		reason    string
		deployed  []int64
	}{
		{"promoted by the bot", 1, "promoted", false, 100, ptr(day(20, 12, 0)), "modelgate", "all 3 metrics pass at 100 %", []int64{100, 101, 102}},
		{"rolled back by the judge: the traffic it reached", 2, "rolled_back", false, 5, ptr(day(22, 10, 40)), "modelgate", judgeFail, []int64{200}},
		{"aborted by a person", 3, "aborted", false, 50, ptr(day(22, 11, 30)), "erin", "wrong baseline", []int64{300}},
		{"paused and resumed, then promoted at a manual gate", 4, "promoted", false, 100, ptr(day(23, 15, 0)), "carol", "manual gate passed", []int64{400, 401}},
		{"running: until now, nobody decided yet", 5, "running", true, 25, nil, "", "", []int64{500, 501}},
		{"paused: still active", 6, "paused", true, 5, nil, "", "", []int64{600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := byID[tt.id]
			require.True(t, ok)
			assert.Equal(t, tt.state, r.State)
			assert.Equal(t, tt.active, r.Active)
			assert.Equal(t, tt.traffic, r.TrafficPercent)
			assert.Equal(t, tt.until, r.Until)
			assert.Equal(t, tt.decidedBy, r.DecidedBy)
			assert.Equal(t, tt.reason, r.Reason)
			var deps []int64
			for _, d := range r.Deployments {
				deps = append(deps, d.ID)
			}
			assert.Equal(t, tt.deployed, deps)
			require.NotEmpty(t, r.Events)
			assert.Equal(t, store.ActionRolloutStarted, r.Events[0].Action, "events oldest first")
		})
	}
}

func TestBuildDeploymentsFromRowsAndAudit(t *testing.T) {
	base := store.Rollout{ID: 1, PR: 1, Model: "m", Version: "2", Environment: "e", StartedBy: "a", State: "rolled_back"}
	stageEntry := func(details string) store.AuditEntry {
		return store.AuditEntry{At: day(1, 9, 0), Action: store.ActionRolloutStage, RolloutID: 1, Details: []byte(details)}
	}
	tests := []struct {
		name    string
		row     store.Rollout
		stages  []store.Stage
		audit   []store.AuditEntry
		want    []Deployment
		traffic int
	}{
		{
			name:    "a stage still deploying took no traffic yet",
			stages:  []store.Stage{{Index: 0, TrafficPercent: 5, DeploymentID: 11, State: "passed"}, {Index: 1, TrafficPercent: 25, DeploymentID: 12, State: "deploying"}},
			want:    []Deployment{{Stage: 0, TrafficPercent: 5, ID: 11, State: "passed"}, {Stage: 1, TrafficPercent: 25, ID: 12, State: "deploying"}},
			traffic: 5,
		},
		{
			name:    "the audit entry says the stage deployed before its row caught up",
			stages:  []store.Stage{{Index: 0, TrafficPercent: 25, DeploymentID: 12, State: "deploying"}},
			audit:   []store.AuditEntry{stageEntry(`{"rollout_id":1,"stage":0,"traffic_percent":25,"deployment_id":12}`)},
			want:    []Deployment{{Stage: 0, TrafficPercent: 25, ID: 12, State: "deployed"}},
			traffic: 25,
		},
		{
			name:    "a stage known from the audit alone",
			audit:   []store.AuditEntry{stageEntry(`{"rollout_id":1,"stage":2,"traffic_percent":50,"deployment_id":13}`)},
			want:    []Deployment{{Stage: 2, TrafficPercent: 50, ID: 13, State: "deployed"}},
			traffic: 50,
		},
		{
			name:    "malformed or stageless details are passed over",
			audit:   []store.AuditEntry{stageEntry(`{"stage":`), stageEntry(`{"traffic_percent":90}`), stageEntry(``)},
			want:    []Deployment{},
			traffic: 0,
		},
		{
			name:    "a stage row without a deployment that never deployed is left out",
			stages:  []store.Stage{{Index: 0, TrafficPercent: 5, State: "skipped"}},
			want:    []Deployment{},
			traffic: 0,
		},
		{
			name:    "the row's traffic counts when higher",
			row:     store.Rollout{TrafficPercent: 10},
			want:    []Deployment{},
			traffic: 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := base
			row.TrafficPercent = tt.row.TrafficPercent
			h := Build(Records{Rollouts: []store.Rollout{row}, Stages: map[int64][]store.Stage{1: tt.stages},
				Audit: map[int64][]store.AuditEntry{1: tt.audit}}, Options{})
			r := h.Groups[0].Rollouts[0]
			assert.Equal(t, tt.want, r.Deployments)
			assert.Equal(t, tt.traffic, r.TrafficPercent)
		})
	}
}

func TestBuildLimitKeepsTheLiveVersion(t *testing.T) {
	rec := fraud()
	g := group(t, Build(rec, Options{Limit: 1, Now: asOf}), "fraud", "production")
	assert.Equal(t, []int64{5}, ids(g.Rollouts))
	assert.Equal(t, 3, g.More)
	require.NotNil(t, g.Live, "the live version is known beyond the limit")
	assert.Equal(t, "3.2.1", g.Live.Version)
	assert.Len(t, g.Served, 2)

	g = group(t, Build(rec, Options{Limit: 10}), "fraud", "production")
	assert.Zero(t, g.More)
	assert.Len(t, g.Rollouts, 4)
}

func TestBuildLinks(t *testing.T) {
	rec := Records{Rollouts: []store.Rollout{{ID: 1, Repo: "octo/models", PR: 3, Model: "m", Version: "1",
		Environment: "prod eu/west (a)", State: "running"}, {ID: 2, Repo: "octo/models", Model: "m", Version: "2",
		Environment: "prod eu/west (a)", State: "running"}}}
	tests := []struct {
		name, web, pr, deployments string
	}{
		{"github.com by default", "", "https://github.com/octo/models/pull/3",
			"https://github.com/octo/models/deployments/prod%20eu%2Fwest%20%28a%29"},
		{"enterprise server, trailing slash", "https://ghe.example.com/", "https://ghe.example.com/octo/models/pull/3",
			"https://ghe.example.com/octo/models/deployments/prod%20eu%2Fwest%20%28a%29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Build(rec, Options{WebURL: tt.web}).Groups[0]
			assert.Equal(t, tt.deployments, g.DeploymentsURL)
			assert.Equal(t, tt.pr, g.Rollouts[1].PRURL)
			assert.Empty(t, g.Rollouts[0].PRURL, "no pull request, no link")
		})
	}
}

func TestBuildStartedByFallsBackToTheAudit(t *testing.T) {
	rec := Records{
		Rollouts: []store.Rollout{{ID: 1, Repo: "o/r", Model: "m", Version: "1", Environment: "e", State: "running"}},
		Audit:    map[int64][]store.AuditEntry{1: {{Action: store.ActionRolloutStarted, Actor: "alice", RolloutID: 1}}},
	}
	assert.Equal(t, "alice", Build(rec, Options{}).Groups[0].Rollouts[0].StartedBy)
}

func TestBuildEmpty(t *testing.T) {
	h := Build(Records{}, Options{Now: asOf})
	assert.Empty(t, h.Groups)
	assert.NotNil(t, h.Groups, "an empty list, not null, in JSON")
}
