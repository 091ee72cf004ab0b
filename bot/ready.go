package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/modelgate/modelgate/pkg/store"
)

// readyEvery bounds how often /readyz probes: a load balancer may ask
// every second, and each probe writes to the store.
const readyEvery = 5 * time.Second

// probeRepo is the repository of the lock the write probe takes: no
// GitHub repository has an empty name, so no /status ever shows it.
const probeRepo = ""

// ProbeStore is what the readiness probe writes to.
type ProbeStore interface {
	Ping(ctx context.Context) error
	LockEnvironment(ctx context.Context, l store.Lock) (store.Lock, error)
	UnlockEnvironment(ctx context.Context, repo, environment string) error
}

// readiness tells whether this replica can do its work: the store takes a
// write (a full disk answers its ping but refuses writes) and the GitHub
// App gets its tokens. A probe's answer is kept for readyEvery.
type readiness struct {
	store ProbeStore
	// token checks that the App can get an installation token.
	token  func(ctx context.Context) error
	worker string
	every  time.Duration
	now    func() time.Time

	mu   sync.Mutex
	at   time.Time
	last error
}

// check probes, or answers the last probe while it is fresh.
func (r *readiness) check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.at.IsZero() && now.Sub(r.at) < r.every {
		return r.last
	}
	r.at, r.last = now, r.probe(ctx)
	return r.last
}

func (r *readiness) probe(ctx context.Context) error {
	if err := r.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := r.write(ctx); err != nil {
		return fmt.Errorf("store cannot write: %w", err)
	}
	if err := r.token(ctx); err != nil {
		return fmt.Errorf("github: %w", err)
	}
	return nil
}

// write takes and releases a lock only this probe uses: two real writes.
// A lock left by a probe that died between the two is released.
func (r *readiness) write(ctx context.Context) error {
	env := "readiness-probe/" + r.worker
	_, err := r.store.LockEnvironment(ctx, store.Lock{Repo: probeRepo, Environment: env, Reason: "readiness probe",
		LockedBy: "modelgate", LockedAt: r.now()})
	if err != nil && !errors.Is(err, store.ErrLocked) {
		return err
	}
	if err := r.store.UnlockEnvironment(ctx, probeRepo, env); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
