package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/modelgate/modelgate/pkg/store"
)

// engine writes a store's rows the way the rollout engine does.
type engine struct {
	t   *testing.T
	st  store.Store
	now time.Time
}

func (e *engine) clock() time.Time { return e.now }

// start creates a rollout at the given time, audited as started.
func (e *engine) start(at time.Time, r store.Rollout) store.Rollout {
	e.now = at
	r.Repo, r.State = "octo/models", "running"
	r, err := e.st.CreateRollout(context.Background(), r)
	require.NoError(e.t, err)
	e.audit(r, at, "rollout.started", r.StartedBy, "accepted", "", nil)
	return r
}

// stage deploys stage idx of r at traffic.
func (e *engine) stage(r store.Rollout, at time.Time, idx, traffic int, state string) store.Rollout {
	e.now = at
	dep := r.ID*100 + int64(idx)
	require.NoError(e.t, e.st.PutStage(context.Background(), store.Stage{RolloutID: r.ID, Index: idx,
		TrafficPercent: traffic, DeploymentID: dep, State: state, StartedAt: at}))
	r.Stage, r.TrafficPercent = idx, traffic
	r, err := e.st.UpdateRollout(context.Background(), r)
	require.NoError(e.t, err)
	e.audit(r, at, "rollout.stage", "modelgate", "done", "",
		fmt.Appendf(nil, `{"rollout_id":%d,"stage":%d,"traffic_percent":%d,"deployment_id":%d}`, r.ID, idx, traffic, dep))
	return r
}

// end finishes r in state, decided by actor for reason.
func (e *engine) end(r store.Rollout, at time.Time, state, actor, reason string) {
	e.now = at
	r.State = state
	if state != "promoted" {
		r.TrafficPercent = 0
	}
	_, err := e.st.UpdateRollout(context.Background(), r)
	require.NoError(e.t, err)
	e.audit(r, at, "rollout."+state, actor, "done", reason, nil)
}

func (e *engine) audit(r store.Rollout, at time.Time, action, actor, decision, reason string, details []byte) {
	_, err := e.st.AppendAudit(context.Background(), store.AuditEntry{At: at, Actor: actor, Action: action,
		Repo: r.Repo, PR: r.PR, Model: r.Model, Environment: r.Environment, Decision: decision, Reason: reason,
		RolloutID: r.ID, Details: details})
	require.NoError(e.t, err)
}

func at(d, hour int) time.Time { return time.Date(2026, 11, d, hour, 0, 0, 0, time.UTC) }

// historyDB is a SQLite store holding a few rollouts, as the engine left it.
func historyDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "modelgate.db")
	seedHistory(t, func(now func() time.Time) (store.Store, error) {
		return store.OpenSQLite(context.Background(), path, store.SQLiteOptions{Now: now})
	})
	return path
}

// seedHistory writes a few rollouts into the store open opens, as the
// engine would.
func seedHistory(t *testing.T, open func(now func() time.Time) (store.Store, error)) {
	t.Helper()
	e := &engine{t: t}
	st, err := open(e.clock)
	require.NoError(t, err)
	e.st = st
	defer st.Close()
	// Unrelated audit entries are not part of the history.
	_, err = st.AppendAudit(context.Background(), store.AuditEntry{At: at(19, 9), Actor: "alice", Action: "command.status",
		Repo: "octo/models", PR: 9, Decision: "done"})
	require.NoError(t, err)

	r := e.start(at(20, 9), store.Rollout{PR: 9, Model: "fraud", Version: "3.1.0", BaselineVersion: "3.0.0",
		Environment: "production", HeadSHA: "aaa", StartedBy: "alice"})
	r = e.stage(r, at(20, 10), 0, 5, "passed")
	r = e.stage(r, at(20, 11), 1, 100, "passed")
	e.end(r, at(20, 12), "promoted", "modelgate", "all 3 metrics pass")

	r = e.start(at(22, 9), store.Rollout{PR: 12, Model: "fraud", Version: "3.2.0", BaselineVersion: "3.1.0",
		Environment: "production", HeadSHA: "bbb", StartedBy: "bob"})
	r = e.stage(r, at(22, 10), 0, 5, "failed")
	e.end(r, at(22, 11), "rolled_back", "modelgate",
		"latency_p99_ms +31.0 % [+22.1 %, +40.3 %], fail, p=0.0001 (99 % at look 2 of 3)")

	r = e.start(at(24, 9), store.Rollout{PR: 13, Model: "fraud", Version: "3.2.1", BaselineVersion: "3.1.0",
		Environment: "production", HeadSHA: "ccc", StartedBy: "bob"})
	r = e.stage(r, at(24, 10), 0, 5, "passed")
	r = e.stage(r, at(24, 11), 1, 50, "passed")
	e.end(r, at(24, 12), "promoted", "carol", "manual gate passed")

	r = e.start(at(25, 9), store.Rollout{PR: 14, Model: "fraud", Version: "3.3.0", BaselineVersion: "3.2.1",
		Environment: "production", HeadSHA: "ddd", StartedBy: "dave"})
	e.stage(r, at(25, 10), 0, 5, "analysing")

	r = e.start(at(23, 9), store.Rollout{PR: 15, Model: "churn", Version: "1.4.0", BaselineVersion: "1.3.2",
		Environment: "staging", HeadSHA: "eee", StartedBy: "erin"})
	e.end(r, at(23, 10), "aborted", "erin", "wrong baseline")
}

// historyCmd runs `bot history` with args and returns its exit code and output.
func historyCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"history"}, args...), nil, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHistoryMarkdown(t *testing.T) {
	db := historyDB(t)
	code, out, errOut := historyCmd(t, "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	golden.Assert(t, "history.md", out)
}

func TestHistoryOnPostgres(t *testing.T) {
	var pg pgtest.Server
	t.Cleanup(func() { assert.NoError(t, pg.Stop()) })
	dsn := pg.DSN(t)
	seedHistory(t, func(now func() time.Time) (store.Store, error) {
		return store.OpenPostgres(context.Background(), dsn, store.PostgresOptions{Now: now})
	})
	code, out, errOut := historyCmd(t, "--db", dsn)
	require.Equal(t, 0, code, errOut)
	golden.Assert(t, "history.md", out) // the same history as from SQLite
}

func TestHistoryFilters(t *testing.T) {
	db := historyDB(t)
	tests := []struct {
		name     string
		args     []string
		contains []string
		absent   []string
	}{
		{"model", []string{"--model", "churn"}, []string{"## churn in staging"}, []string{"fraud"}},
		{"environment", []string{"--environment", "production"}, []string{"## fraud in production"}, []string{"churn"}},
		{"repository", []string{"--repo", "octo/models", "--model", "fraud"}, []string{"3.3.0"}, []string{"churn"}},
		{"limit keeps the live version", []string{"--limit", "1", "--model", "fraud"},
			[]string{"Live: **3.2.1** since 2026-11-24 12:00 UTC, promoted by carol", "3 older rollout(s) not shown"},
			[]string{"| 3.2.0 |"}},
		{"enterprise server links", []string{"--web-url", "https://ghe.example.com/", "--model", "churn"},
			[]string{"(https://ghe.example.com/octo/models/pull/15)", "(https://ghe.example.com/octo/models/deployments/staging)"},
			[]string{"github.com/"}},
		{"nothing selected", []string{"--repo", "octo/other", "--model", "fraud"},
			[]string{`no rollouts recorded in ` + db + ` for repository "octo/other", model "fraud"`}, []string{"|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := historyCmd(t, append([]string{"--db", db}, tt.args...)...)
			require.Equal(t, 0, code, errOut)
			for _, s := range tt.contains {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.absent {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestHistoryJSON(t *testing.T) {
	t.Setenv("MODELGATE_DB", historyDB(t))
	code, out, errOut := historyCmd(t, "--format", "json", "--environment", "production")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Version int `json:"version"`
		Groups  []struct {
			Model string `json:"model"`
			Live  struct {
				Version    string `json:"version"`
				PromotedBy string `json:"promoted_by"`
			} `json:"live"`
			Served   []json.RawMessage `json:"served"`
			Rollouts []struct {
				Version   string  `json:"version"`
				State     string  `json:"state"`
				Traffic   int     `json:"traffic_percent"`
				Until     *string `json:"until"`
				DecidedBy string  `json:"decided_by"`
				Reason    string  `json:"reason"`
			} `json:"rollouts"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, 1, doc.Version)
	require.Len(t, doc.Groups, 1)
	g := doc.Groups[0]
	assert.Equal(t, "fraud", g.Model)
	assert.Equal(t, "3.2.1", g.Live.Version)
	assert.Equal(t, "carol", g.Live.PromotedBy)
	assert.Len(t, g.Served, 2)
	require.Len(t, g.Rollouts, 4)
	assert.Equal(t, "3.3.0", g.Rollouts[0].Version)
	assert.Nil(t, g.Rollouts[0].Until, "running: until now")
	assert.Equal(t, 5, g.Rollouts[0].Traffic)
	assert.Equal(t, "rolled_back", g.Rollouts[2].State)
	assert.Equal(t, 5, g.Rollouts[2].Traffic, "the traffic it reached before the rollback")
	assert.Equal(t, "modelgate", g.Rollouts[2].DecidedBy)
	assert.Contains(t, g.Rollouts[2].Reason, "latency_p99_ms +31.0 %")
}

func TestHistoryEmptyStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	st, err := store.OpenSQLite(context.Background(), db, store.SQLiteOptions{})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	code, out, errOut := historyCmd(t, "--db", db)
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "no rollouts recorded in "+db+"\n", out)

	code, out, errOut = historyCmd(t, "--db", db, "--format", "json")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `"groups": []`, "stdout stays one JSON document")
	assert.Equal(t, "no rollouts recorded in "+db+"\n", errOut)
}

func TestHistoryUsageErrors(t *testing.T) {
	db := historyDB(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad format", []string{"--format", "xml"}, `format "xml": want markdown or json`},
		{"negative limit", []string{"--limit", "-1"}, "limit -1: want 0 (all) or more"},
		{"limit not a number", []string{"--limit", "ten"}, `invalid value "ten" for flag -limit`},
		{"web url without scheme", []string{"--web-url", "ghe.example.com"}, `web url "ghe.example.com": want an http(s) URL`},
		{"web url of another scheme", []string{"--web-url", "javascript:alert(1)"}, "want an http(s) URL"},
		{"zero timeout", []string{"--timeout", "0s"}, "timeout 0s: want a positive duration"},
		{"unknown flag", []string{"--since", "1d"}, "flag provided but not defined: -since"},
		{"stray argument", []string{"fraud"}, `unexpected argument "fraud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := historyCmd(t, append([]string{"--db", db}, tt.args...)...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.want)
		})
	}
}

func TestHistoryHelp(t *testing.T) {
	code, out, errOut := historyCmd(t, "-h")
	assert.Equal(t, 0, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "usage: bot history")
	assert.Contains(t, errOut, "-web-url")
}

func TestHistoryUnreachableStore(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		db       string
		contains []string
		absent   string
	}{
		{"missing SQLite file is not created", filepath.Join(dir, "typo.db"),
			[]string{"store " + filepath.Join(dir, "typo.db") + ": no such file", "MODELGATE_DB"}, ""},
		{"a directory is no SQLite file", dir, []string{"store " + dir + ": not a modelgate store"}, ""},
		{"nobody listening on the PostgreSQL port", "postgres://modelgate:s3cret@127.0.0.1:1/bot?connect_timeout=5",
			[]string{"store postgres://…@127.0.0.1:1/bot", "ping store"}, "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := historyCmd(t, "--db", tt.db)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			for _, s := range tt.contains {
				assert.Contains(t, errOut, s)
			}
			if tt.absent != "" {
				assert.NotContains(t, errOut, tt.absent)
			}
		})
	}
	assert.NoFileExists(t, filepath.Join(dir, "typo.db"))
}
