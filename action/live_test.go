package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/inventory"
	"github.com/modelgate/modelgate/pkg/store"
)

const liveRepo = "octo/models"

// fakeDeployments serves fraud-detector 3.1.0 promoted in production and
// 3.2.0 as a canary at 25 % there.
func fakeDeployments(t *testing.T) *fakegithub.Server {
	t.Helper()
	gh := fakegithub.New(t)
	gh.AddRepo(fakegithub.Repo{FullName: liveRepo})
	add := func(task, version string, traffic float64, rollout int64, states ...string) {
		p, err := json.Marshal(map[string]any{"model": "fraud-detector", "version": version, "baseline_version": "3.0.0",
			"stage": 1, "traffic_percent": traffic, "rollout_id": rollout})
		require.NoError(t, err)
		d := gh.AddDeployment(liveRepo, fakegithub.Deployment{Ref: "main", Task: task, Environment: "production", Payload: p})
		for _, st := range states {
			gh.AddDeploymentStatus(liveRepo, fakegithub.DeploymentStatus{DeploymentID: d.ID, State: st})
		}
	}
	add("deploy:promote", "3.1.0", 100, 1, "success")
	add("deploy:canary", "3.2.0", 25, 2, "success", "in_progress")
	return gh
}

// githubEnv points the action at gh as GitHub Actions would.
func githubEnv(t *testing.T, gh *fakegithub.Server, token string) {
	t.Setenv("GITHUB_TOKEN", token)
	t.Setenv("GITHUB_REPOSITORY", liveRepo)
	t.Setenv("GITHUB_API_URL", gh.URL())
}

// noGitHub clears what the environment (a CI runner) may have set.
func noGitHub(t *testing.T) {
	for _, v := range []string{"GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"} {
		t.Setenv(v, "")
	}
}

// liveStore writes a SQLite store in which fraud-detector 3.1.0 was
// promoted in production and 3.2.0 runs there at 5 %.
func liveStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "modelgate.db")
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, path, store.SQLiteOptions{})
	require.NoError(t, err)
	for _, r := range []store.Rollout{
		{Repo: liveRepo, Model: "fraud-detector", Version: "3.1.0", BaselineVersion: "3.0.0", Environment: "production", State: "promoted", TrafficPercent: 100},
		{Repo: liveRepo, Model: "fraud-detector", Version: "3.2.0", BaselineVersion: "3.1.0", Environment: "production", State: "running", TrafficPercent: 5},
		{Repo: liveRepo, Model: "ghost", Version: "1.0.0", Environment: "production", State: "promoted", TrafficPercent: 100},
	} {
		_, err := st.CreateRollout(ctx, r)
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	return path
}

func TestInventoryLiveFromGitHub(t *testing.T) {
	gh := fakeDeployments(t)
	githubEnv(t, gh, gh.InstallationToken())

	code, out, stderr := runCLI("inventory", example, "--live")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "| Retire after | Live |")
	assert.Contains(t, out, "| fraud-detector | 3.1.0 | production |")
	assert.Contains(t, out, "| 2027-06-30 | production (75 %) |")
	assert.Contains(t, out, "| 2027-12-31 | production: canary 25 % |")
	assert.Contains(t, stderr, "live from github (3 API calls)")

	code, out, stderr = runCLI("inventory", example, "--live", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rows []inventory.Row
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 7)
	assert.Equal(t, "3.2.0", rows[3].Version)
	require.Len(t, rows[3].Live, 1)
	l := rows[3].Live[0]
	assert.Equal(t, inventory.Live{Environment: "production", TrafficPercent: 25, Canary: true, Since: l.Since, Source: "github"}, l)
	require.NotNil(t, l.Since)
	assert.WithinDuration(t, time.Now(), *l.Since, time.Minute)
	assert.NotNil(t, rows[0].Live, "a version that serves nowhere has an empty list")
	assert.Empty(t, rows[0].Live)
}

func TestInventoryLiveFromStore(t *testing.T) {
	noGitHub(t)
	db := liveStore(t)

	code, out, stderr := runCLI("inventory", example, "--live", "--live-db", db, "--repo", liveRepo)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "| 2027-06-30 | production (95 %) |")
	assert.Contains(t, out, "| 2027-12-31 | production: canary 5 % |")
	assert.Contains(t, stderr, "live from store (2 queries)")
	assert.Contains(t, stderr, `"ghost@1.0.0" serves "production" but no manifest here declares it`)
}

func TestInventoryLiveFallsBackToGitHub(t *testing.T) {
	gh := fakeDeployments(t)
	githubEnv(t, gh, gh.InstallationToken())

	code, out, stderr := runCLI("inventory", example, "--live", "--live-db", filepath.Join(t.TempDir(), "nope.db"), "--repo", liveRepo)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "production: canary 25 %")
	assert.Contains(t, stderr, "live: store: no store file")
	assert.Contains(t, stderr, "(used github instead)")
}

func TestInventoryWithoutLiveIsUnchanged(t *testing.T) {
	gh := fakeDeployments(t)
	githubEnv(t, gh, gh.InstallationToken())

	code, out, stderr := runCLI("inventory", example)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, out, "Live")
	code, out, _ = runCLI("inventory", example, "--format", "json")
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, `"live"`)
	assert.Empty(t, gh.Requests(), "GitHub is not asked without --live")
}

func TestInventoryLiveFailures(t *testing.T) {
	notADB := filepath.Join(t.TempDir(), "notes.db")
	require.NoError(t, os.WriteFile(notADB, []byte("these are not the rollouts you are looking for, not at all, not even close\n"), 0o644))
	missing := filepath.Join(t.TempDir(), "missing.db")
	tests := []struct {
		name    string
		args    []string
		env     func(t *testing.T, gh *fakegithub.Server) // nil: no GitHub configured
		want    []string
		notWant string
	}{
		{
			name: "a store file that is not there",
			args: []string{"--live-db", missing, "--repo", liveRepo},
			want: []string{"no live source reachable: store: no store file " + missing},
		},
		{
			name: "a store file that is not a database",
			args: []string{"--live-db", notADB, "--repo", liveRepo},
			want: []string{"store: open " + notADB},
		},
		{
			name:    "a PostgreSQL server that does not answer",
			args:    []string{"--live-db", "postgres://modelgate:s3cret@127.0.0.1:1/modelgate?connect_timeout=5", "--repo", liveRepo},
			want:    []string{"store: open postgres://modelgate:xxxxx@127.0.0.1:1/modelgate"},
			notWant: "s3cret",
		},
		{
			name: "a store without a repository",
			args: []string{"--live-db", missing},
			want: []string{"store: --live-db needs --repo owner/name"},
		},
		{
			name: "no token",
			want: []string{"no live source reachable: github: GITHUB_TOKEN is not set"},
		},
		{
			name: "no repository",
			env: func(t *testing.T, gh *fakegithub.Server) {
				githubEnv(t, gh, gh.InstallationToken())
				t.Setenv("GITHUB_REPOSITORY", "")
			},
			want: []string{"github: GITHUB_REPOSITORY is not set (or give --repo owner/name)"},
		},
		{
			name: "a token GitHub refuses",
			env:  func(t *testing.T, gh *fakegithub.Server) { githubEnv(t, gh, "ghs_revoked") },
			want: []string{"github: list deployments of octo/models: GitHub refused the token (401"},
		},
		{
			name: "a repository GitHub does not know",
			args: []string{"--repo", "octo/gone"},
			env:  func(t *testing.T, gh *fakegithub.Server) { githubEnv(t, gh, gh.InstallationToken()) },
			want: []string{"github: list deployments of octo/gone: repository octo/gone not found, or the token may not read its deployments (404)"},
		},
		{
			name: "neither the store nor GitHub",
			args: []string{"--live-db", missing, "--repo", liveRepo},
			env:  func(t *testing.T, gh *fakegithub.Server) { githubEnv(t, gh, "ghs_revoked") },
			want: []string{"store: no store file", "; github: list deployments of octo/models: GitHub refused the token (401"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noGitHub(t)
			gh := fakeDeployments(t)
			if tt.env != nil {
				tt.env(t, gh)
			}
			code, out, stderr := runCLI(append([]string{"inventory", example, "--live"}, tt.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, out, "no table when --live fails")
			assert.Contains(t, stderr, "action inventory --live: ")
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			if tt.notWant != "" {
				assert.NotContains(t, stderr, tt.notWant)
			}
		})
	}
}

func TestInventoryLiveFlagsNeedLive(t *testing.T) {
	code, _, stderr := runCLI("inventory", example, "--live-db", "modelgate.db")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--live-db and --repo need --live")
}
