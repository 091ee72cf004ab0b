package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errClosed is returned to writes that arrive after Close.
var errClosed = errors.New("store closed")

// batcher group-commits the webhook queue's writes: every insert, and
// every worker's record of finished deliveries, waiting while one
// transaction commits goes into the next, so that a burst of webhooks and
// the work they cause pay for one fsync instead of one each.
type batcher struct {
	db       *sql.DB
	stmts    *queueStmts // prepared at the first write; only loop uses them
	max      int
	requests chan insertRequest
	quit     chan struct{}
	done     chan struct{}
	once     sync.Once

	mu     sync.RWMutex // held for reading while sending, so Close sees every send
	closed bool
}

// insertRequest is one caller's part of a group commit: a delivery to
// store, or (outcomes non-nil) the outcomes of deliveries owner leases.
type insertRequest struct {
	d          Delivery
	owner      string // non-empty: stored already leased to owner
	leaseUntil time.Time
	outcomes   []DeliveryOutcome
	now        int64 // when the outcomes were recorded, in ms
	reply      chan insertResult
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

// insert waits until req is committed with its batch.
func (b *batcher) insert(ctx context.Context, req insertRequest) (bool, error) {
	req.reply = make(chan insertResult, 1)
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
	defer func() {
		if b.stmts != nil {
			b.stmts.close()
		}
	}()
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

// queueStmts are the group commit's statements, prepared once: parsing a
// statement again for every batch cost more than running it row by row.
type queueStmts struct {
	insert, payload, done *sql.Stmt
}

func prepareQueueStmts(ctx context.Context, db *sql.DB) (*queueStmts, error) {
	var q queueStmts
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&q.insert, `INSERT INTO deliveries (id, event, received_at, next_attempt, state, lease_owner, lease_until)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`},
		{&q.payload, `INSERT INTO delivery_payloads (id, payload) VALUES (?, ?)`},
		{&q.done, `UPDATE deliveries SET state = 'done', processed = processed + 1,
			done_at = ?, last_error = '', lease_owner = '', lease_until = 0
			WHERE id = ? AND lease_owner = ? AND state = 'processing'`},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			q.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return &q, nil
}

func (q *queueStmts) close() {
	for _, s := range []*sql.Stmt{q.insert, q.payload, q.done} {
		if s != nil {
			s.Close()
		}
	}
}

// write commits a batch in one transaction: the outcomes, then the inserts.
func (b *batcher) write(batch []insertRequest) ([]insertResult, error) {
	ctx := context.Background() // one caller's cancellation must not fail the others
	if b.stmts == nil {
		stmts, err := prepareQueueStmts(ctx, b.db)
		if err != nil {
			return nil, fmt.Errorf("delivery queue: %w", err)
		}
		b.stmts = stmts
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("delivery queue: begin: %w", err)
	}
	defer tx.Rollback()
	insert, payload := tx.StmtContext(ctx, b.stmts.insert), tx.StmtContext(ctx, b.stmts.payload)
	done := tx.StmtContext(ctx, b.stmts.done)
	results := make([]insertResult, len(batch))
	for i, req := range batch {
		if req.outcomes != nil {
			err = completeDeliveries(ctx, tx, done, req.owner, req.now, req.outcomes)
		} else {
			results[i].inserted, err = insertDelivery(ctx, insert, payload, req)
		}
		if err != nil {
			return nil, fmt.Errorf("delivery queue: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("delivery queue: commit: %w", err)
	}
	return results, nil
}

// insertDelivery stores one delivery and its payload unless its id is
// known, the first of a batch's duplicates included.
func insertDelivery(ctx context.Context, insert, payload *sql.Stmt, req insertRequest) (bool, error) {
	d := req.d
	state, next := DeliveryPending, d.ReceivedAt
	if req.owner != "" {
		state, next = DeliveryProcessing, req.leaseUntil // a claimed delivery is due again when its lease ends
	}
	res, err := insert.ExecContext(ctx, d.ID, d.Event, ms(d.ReceivedAt), ms(next), string(state), req.owner, ms(req.leaseUntil))
	if err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := payload.ExecContext(ctx, d.ID, nonNil(d.Payload)); err != nil {
		return false, fmt.Errorf("enqueue delivery %s: payload: %w", d.ID, err)
	}
	return true, nil
}
