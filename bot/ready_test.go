package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/store"
)

// fullDisk is a store whose ping answers and whose writes fail, as
// SQLite's do on a full disk.
type fullDisk struct {
	ProbeStore
	writes int
}

func (f *fullDisk) LockEnvironment(context.Context, store.Lock) (store.Lock, error) {
	f.writes++
	return store.Lock{}, errors.New("database or disk is full (SQLITE_FULL)")
}

// countingStore counts the probe's writes.
type countingStore struct {
	ProbeStore
	writes int
}

func (c *countingStore) LockEnvironment(ctx context.Context, l store.Lock) (store.Lock, error) {
	c.writes++
	return c.ProbeStore.LockEnvironment(ctx, l)
}

func TestReadinessProbes(t *testing.T) {
	s := newScenario(t)
	tokenDown := errors.New("token endpoint: 500")
	tests := []struct {
		name  string
		store func(real ProbeStore) ProbeStore
		token error
		want  string // "" for ready
	}{
		{"ready", func(real ProbeStore) ProbeStore { return real }, nil, ""},
		{"a store that cannot write", func(real ProbeStore) ProbeStore { return &fullDisk{ProbeStore: real} }, nil,
			"store cannot write: database or disk is full"},
		{"an App that cannot get a token", func(real ProbeStore) ProbeStore { return real }, tokenDown, "github: token endpoint: 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &readiness{store: tt.store(s.srv.store), token: func(context.Context) error { return tt.token },
				worker: "w", every: time.Second, now: time.Now}
			err := r.check(context.Background())
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestReadinessProbesAtMostEveryInterval(t *testing.T) {
	s := newScenario(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	counted := &countingStore{ProbeStore: s.srv.store}
	r := &readiness{store: counted, token: func(context.Context) error { return nil }, worker: "w", every: 5 * time.Second,
		now: func() time.Time { return now }}
	for range 10 {
		require.NoError(t, r.check(context.Background()))
	}
	assert.Equal(t, 1, counted.writes, "one probe within the interval")
	now = now.Add(5 * time.Second)
	require.NoError(t, r.check(context.Background()))
	assert.Equal(t, 2, counted.writes, "a new probe once it passed")
	locks, err := s.srv.store.ListLocks(context.Background(), probeRepo)
	require.NoError(t, err)
	assert.Empty(t, locks, "the probe leaves no lock behind")
}

// /readyz fails while the store refuses writes or GitHub refuses the App a
// token; /healthz, a liveness check, stays ok.
func TestReadyzTellsTheTruth(t *testing.T) {
	s := newScenario(t)
	s.srv.readiness.every = 0
	get := func(path string) (int, string) {
		resp, err := http.Get(s.http.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, _ := get("/readyz")
	assert.Equal(t, http.StatusOK, code)

	s.srv.readiness.store = &fullDisk{ProbeStore: s.srv.store}
	code, body := get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "store cannot write")
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	s.srv.readiness.store = s.srv.store

	// The token endpoint fails; a webhook makes the bot want a token.
	s.gh.FailNext("POST", "/app/installations/*/access_tokens", 1000, fakegithub.ServerError)
	code, msg := s.deliver("issue_comment", "d-1", s.comment(1, "alice", "/help"))
	require.Equal(t, http.StatusAccepted, code, msg)
	s.work()
	code, body = get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "github: github app: token of installation 1")
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code)
}
