package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// errClosed is returned to inserts that arrive after Close.
var errClosed = errors.New("store closed")

// batcher group-commits delivery inserts: every insert waiting while one
// transaction commits goes into the next, so that a burst of webhooks pays
// for one fsync instead of one each.
type batcher struct {
	db       *sql.DB
	max      int
	requests chan insertRequest
	quit     chan struct{}
	done     chan struct{}
	once     sync.Once

	mu     sync.RWMutex // held for reading while sending, so Close sees every send
	closed bool
}

type insertRequest struct {
	d     Delivery
	reply chan insertResult
}

type insertResult struct {
	inserted bool
	err      error
}

func newBatcher(db *sql.DB, max int) *batcher {
	b := &batcher{
		db:       db,
		max:      max,
		requests: make(chan insertRequest, max),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go b.loop()
	return b
}

func (b *batcher) insert(ctx context.Context, d Delivery) (bool, error) {
	req := insertRequest{d: d, reply: make(chan insertResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return false, errClosed
	}
	select {
	case b.requests <- req:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return false, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.inserted, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (b *batcher) close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.quit)
	})
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	for {
		select {
		case req := <-b.requests:
			b.flush(b.gather(req))
		case <-b.quit:
			b.drain() // no send can start now: closed is set
			return
		}
	}
}

// gather takes what is already waiting, up to the batch size.
func (b *batcher) gather(first insertRequest) []insertRequest {
	batch := []insertRequest{first}
	for len(batch) < b.max {
		select {
		case req := <-b.requests:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// drain answers inserts that were queued before Close.
func (b *batcher) drain() {
	for {
		select {
		case req := <-b.requests:
			b.flush(b.gather(req))
		default:
			return
		}
	}
}

func (b *batcher) flush(batch []insertRequest) {
	results, err := b.write(batch)
	for i, req := range batch {
		if err != nil {
			req.reply <- insertResult{err: err}
			continue
		}
		req.reply <- results[i]
	}
}

func (b *batcher) write(batch []insertRequest) ([]insertResult, error) {
	ctx := context.Background() // one caller's cancellation must not fail the others
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue delivery: begin: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, event, received_at, next_attempt)
		VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("enqueue delivery: prepare: %w", err)
	}
	defer stmt.Close()
	payloads, err := tx.PrepareContext(ctx, `INSERT INTO delivery_payloads (id, payload) VALUES (?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("enqueue delivery: prepare: %w", err)
	}
	defer payloads.Close()
	results := make([]insertResult, len(batch))
	for i, req := range batch {
		d := req.d
		res, err := stmt.ExecContext(ctx, d.ID, d.Event, ms(d.ReceivedAt), ms(d.ReceivedAt))
		if err != nil {
			results[i].err = fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
			continue
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // known already
		}
		if _, err := payloads.ExecContext(ctx, d.ID, nonNil(d.Payload)); err != nil {
			return nil, fmt.Errorf("enqueue delivery %s: payload: %w", d.ID, err)
		}
		results[i].inserted = true
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("enqueue delivery: commit: %w", err)
	}
	return results, nil
}
