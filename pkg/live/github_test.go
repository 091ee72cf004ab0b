package live

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/rollout"
)

const repo = "octo/models"

// t0 is when the first deployment of a scenario was made; each later one
// comes an hour after the one before, and its statuses a minute apart.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// dep is a deployment of a scenario, with its statuses oldest first.
type dep struct {
	task, env string
	p         rollout.Payload
	statuses  []string
	raw       string // a payload to send as it is, instead of p
}

func canaryDep(version, baseline string, stage int, traffic float64, rolloutID int64, statuses ...string) dep {
	return dep{task: rollout.TaskCanary, env: "production", statuses: statuses,
		p: rollout.Payload{Model: "fraud", Version: version, BaselineVersion: baseline, Stage: stage, TrafficPercent: traffic, RolloutID: rolloutID}}
}

func promoteDep(version, baseline string, stage int, rolloutID int64, statuses ...string) dep {
	d := canaryDep(version, baseline, stage, 100, rolloutID, statuses...)
	d.task = rollout.TaskPromote
	return d
}

func rollbackDep(version, baseline string, stage int, rolloutID int64, statuses ...string) dep {
	d := canaryDep(version, baseline, stage, 0, rolloutID, statuses...)
	d.task = rollout.TaskRollback
	return d
}

func (d dep) in(env string) dep { d.env = env; return d }

func (d dep) of(model string) dep { d.p.Model = model; return d }

// seed adds the deployments, oldest first, to the fake.
func seed(t *testing.T, gh *fakegithub.Server, deps []dep) {
	t.Helper()
	for i, d := range deps {
		raw := json.RawMessage(d.raw)
		if d.raw == "" {
			var err error
			raw, err = json.Marshal(d.p)
			require.NoError(t, err)
		}
		created := t0.Add(time.Duration(i) * time.Hour)
		stored := gh.AddDeployment(repo, fakegithub.Deployment{Ref: "main", Task: d.task, Environment: d.env, Payload: raw, CreatedAt: created})
		for j, st := range d.statuses {
			gh.AddDeploymentStatus(repo, fakegithub.DeploymentStatus{DeploymentID: stored.ID, State: st,
				CreatedAt: created.Add(time.Duration(j+1) * time.Minute)})
		}
	}
}

func newGitHub(t *testing.T, gh *fakegithub.Server, token string) GitHub {
	t.Helper()
	c, err := NewGitHubClient(token, gh.URL(), nil)
	require.NoError(t, err)
	return GitHub{API: c.Repositories, Repo: repo}
}

// at is when status j (from 0) of deployment i was set.
func at(i, j int) time.Time {
	return t0.Add(time.Duration(i)*time.Hour + time.Duration(j+1)*time.Minute)
}

func TestGitHubSnapshot(t *testing.T) {
	tests := []struct {
		name      string
		deps      []dep
		want      []Serving
		wantCalls int // list pages + status reads
	}{
		{
			name:      "a promotion that succeeded serves everything",
			deps:      []dep{promoteDep("1.0.0", "0.9.0", 1, 1, "success")},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name: "only the newest successful promotion is read",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 1, 1, "success"),
				promoteDep("1.1.0", "1.0.0", 1, 2, "success"),
				promoteDep("1.2.0", "1.1.0", 1, 3, "success", "success"),
			},
			want:      []Serving{{Model: "fraud", Version: "1.2.0", Environment: "production", TrafficPercent: 100, Since: at(2, 0)}},
			wantCalls: 2,
		},
		{
			name: "a promotion that failed passes to the one before",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 1, 1, "success"),
				promoteDep("1.1.0", "1.0.0", 2, 2, "success", "failure"),
			},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 3,
		},
		{
			name:      "inactive statuses GitHub added are passed over",
			deps:      []dep{promoteDep("1.0.0", "0.9.0", 1, 1, "success", "inactive")},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name: "a canary in flight shares the environment with the promoted version",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 2, 1, "success"),
				canaryDep("2.0.0", "1.0.0", 1, 5, 2, "success", "in_progress"),
				canaryDep("2.0.0", "1.0.0", 2, 25, 2, "success", "in_progress"),
			},
			want: []Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 75, Since: at(0, 0)},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 25, Canary: true, Since: at(2, 0)},
			},
			wantCalls: 3,
		},
		{
			name: "a stage the deploy workflow has not taken up leaves the stage before serving",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 2, 1, "success"),
				canaryDep("2.0.0", "1.0.0", 1, 5, 2, "success", "in_progress"),
				canaryDep("2.0.0", "1.0.0", 2, 25, 2, "queued"),
			},
			want: []Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 95, Since: at(0, 0)},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 5, Canary: true, Since: at(1, 0)},
			},
			wantCalls: 4,
		},
		{
			name: "a canary that failed serves nothing",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 2, 1, "success"),
				canaryDep("2.0.0", "1.0.0", 1, 5, 2, "success", "in_progress", "failure"),
			},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 3,
		},
		{
			name: "a rolled back canary serves nothing, without reading its statuses",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 2, 1, "success"),
				canaryDep("2.0.0", "1.0.0", 1, 5, 2, "success", "in_progress"),
				rollbackDep("2.0.0", "1.0.0", 1, 2, "success"),
			},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name: "a promotion its rollout rolled back is not live",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 2, 1, "success"),
				promoteDep("2.0.0", "1.0.0", 2, 2, "success"),
				rollbackDep("2.0.0", "1.0.0", 2, 2, "success"),
			},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name: "without a promotion on record the canary's baseline serves the rest",
			deps: []dep{canaryDep("2.0.0", "1.0.0", 1, 5, 2, "success")},
			want: []Serving{
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 95},
				{Model: "fraud", Version: "2.0.0", Environment: "production", TrafficPercent: 5, Canary: true, Since: at(0, 0)},
			},
			wantCalls: 2,
		},
		{
			name: "models and environments are apart",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 1, 1, "success"),
				promoteDep("1.1.0", "1.0.0", 1, 2, "success").in("staging"),
				promoteDep("3.0.0", "", 1, 3, "success").of("churn"),
				canaryDep("1.2.0", "1.1.0", 1, 50, 4, "in_progress").in("staging"),
			},
			want: []Serving{
				{Model: "churn", Version: "3.0.0", Environment: "production", TrafficPercent: 100, Since: at(2, 0)},
				{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)},
				{Model: "fraud", Version: "1.1.0", Environment: "staging", TrafficPercent: 50, Since: at(1, 0)},
				{Model: "fraud", Version: "1.2.0", Environment: "staging", TrafficPercent: 50, Canary: true, Since: at(3, 0)},
			},
			wantCalls: 5,
		},
		{
			name: "deployments outside the contract are ignored",
			deps: []dep{
				promoteDep("1.0.0", "0.9.0", 1, 1, "success"),
				{task: "deploy", env: "production", raw: `{"model":"fraud","version":"6.6.6","stage":1,"rollout_id":9}`, statuses: []string{"success"}},
				{task: rollout.TaskPromote, env: "production", raw: `"deploy everything"`, statuses: []string{"success"}},
				{task: rollout.TaskPromote, env: "production", raw: `{"model":"fraud","version":"7.7.7"}`, statuses: []string{"success"}},
				{task: rollout.TaskCanary, env: "production", raw: `{"model":"fraud","version":"8.8.8","stage":1,"traffic_percent":150,"rollout_id":8}`, statuses: []string{"success"}},
			},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name: "a payload sent as a JSON string is read",
			deps: []dep{{task: rollout.TaskPromote, env: "production", statuses: []string{"success"},
				raw: `"{\"model\":\"fraud\",\"version\":\"1.0.0\",\"stage\":1,\"traffic_percent\":100,\"rollout_id\":1}"`}},
			want:      []Serving{{Model: "fraud", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}},
			wantCalls: 2,
		},
		{
			name:      "no deployments",
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := fakegithub.New(t)
			gh.AddRepo(fakegithub.Repo{FullName: repo})
			seed(t, gh, tt.deps)
			snap, err := newGitHub(t, gh, gh.InstallationToken()).Snapshot(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, snap.Serving)
			assert.Equal(t, tt.wantCalls, snap.Calls, "calls counted")
			assert.Len(t, gh.Requests(), snap.Calls, "calls made")
			assert.False(t, snap.Truncated)
			assert.Empty(t, gh.Violations())
		})
	}
}

func TestGitHubPagesAreBounded(t *testing.T) {
	gh := fakegithub.New(t)
	deps := make([]dep, 250)
	for i := range deps {
		deps[i] = promoteDep(fmt.Sprintf("1.0.%d", i), "", 1, int64(i+1)).of(fmt.Sprintf("m%03d", i))
	}
	deps[0].statuses = []string{"success"}
	seed(t, gh, deps)
	src := newGitHub(t, gh, gh.InstallationToken())

	snap, err := src.Snapshot(context.Background())
	require.NoError(t, err)
	assert.False(t, snap.Truncated)
	assert.Equal(t, []Serving{{Model: "m000", Version: "1.0.0", Environment: "production", TrafficPercent: 100, Since: at(0, 0)}}, snap.Serving,
		"the oldest deployment, on the third page, is read")
	assert.Equal(t, 3+250, snap.Calls, "three pages and one status read per model")

	src.MaxPages = 2
	snap, err = src.Snapshot(context.Background())
	require.NoError(t, err)
	assert.True(t, snap.Truncated)
	assert.Empty(t, snap.Serving)
}

func TestGitHubErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(gh *fakegithub.Server) GitHub
		want  string
	}{
		{
			name: "a token GitHub does not know",
			setup: func(gh *fakegithub.Server) GitHub {
				return newGitHub(t, gh, "ghs_not_a_token")
			},
			want: "GitHub refused the token (401",
		},
		{
			name: "an unknown repository",
			setup: func(gh *fakegithub.Server) GitHub {
				src := newGitHub(t, gh, gh.InstallationToken())
				src.Repo = "octo/nope"
				return src
			},
			want: "repository octo/nope not found, or the token may not read its deployments (404)",
		},
		{
			name: "a repository that is not owner/name",
			setup: func(gh *fakegithub.Server) GitHub {
				src := newGitHub(t, gh, gh.InstallationToken())
				src.Repo = "models"
				return src
			},
			want: `repository "models" is not owner/name`,
		},
		{
			name: "statuses that cannot be read",
			setup: func(gh *fakegithub.Server) GitHub {
				seed(t, gh, []dep{promoteDep("1.0.0", "", 1, 1, "success")})
				gh.FailNext(http.MethodGet, "/repos/octo/models/deployments/*/statuses", 1, fakegithub.BadGateway)
				return newGitHub(t, gh, gh.InstallationToken())
			},
			want: "list statuses of deployment",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := fakegithub.New(t)
			gh.AddRepo(fakegithub.Repo{FullName: repo})
			_, err := tt.setup(gh).Snapshot(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewGitHubClient(t *testing.T) {
	c, err := NewGitHubClient("t", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "https://api.github.com/", c.BaseURL.String())
	c, err = NewGitHubClient("t", "https://ghe.example.com/api/v3", nil)
	require.NoError(t, err)
	assert.Equal(t, "https://ghe.example.com/api/v3/", c.BaseURL.String())
	_, err = NewGitHubClient("t", "ghe.example.com", nil)
	assert.ErrorContains(t, err, `GitHub API URL "ghe.example.com": want an http(s) URL`)
}
