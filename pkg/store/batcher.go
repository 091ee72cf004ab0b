package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// errClosed is returned to inserts that arrive after Close.
var errClosed = errors.New("store closed")

// batcher group-commits the webhook queue's writes: every insert, and
// every worker's record of finished deliveries, waiting while one
// transaction commits goes into the next, so that a burst of webhooks and
// the work they cause pay for one fsync instead of one each.
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

// write commits a batch in one transaction: the inserts, then the outcomes.
func (b *batcher) write(batch []insertRequest) ([]insertResult, error) {
	ctx := context.Background() // one caller's cancellation must not fail the others
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("delivery queue: begin: %w", err)
	}
	defer tx.Rollback()
	var inserts []insertRequest
	for _, req := range batch {
		if req.outcomes == nil {
			inserts = append(inserts, req)
			continue
		}
		if err := completeDeliveries(ctx, tx, req.owner, req.now, req.outcomes); err != nil {
			return nil, fmt.Errorf("delivery queue: outcomes of %s: %w", req.owner, err)
		}
	}
	results, err := insertDeliveries(ctx, tx, inserts)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("delivery queue: commit: %w", err)
	}
	all := make([]insertResult, len(batch))
	for i, req := range batch {
		if req.outcomes == nil {
			all[i], results = results[0], results[1:]
		}
	}
	return all, nil
}

// insertDeliveries stores a batch with two multi-row statements: the queue
// rows, whose RETURNING names the new ones, then the payloads of those.
func insertDeliveries(ctx context.Context, tx *sql.Tx, batch []insertRequest) ([]insertResult, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 7*len(batch))
	for _, req := range batch {
		d := req.d
		state, next := DeliveryPending, d.ReceivedAt
		if req.owner != "" {
			state, next = DeliveryProcessing, req.leaseUntil // a claimed delivery is due again when its lease ends
		}
		args = append(args, d.ID, d.Event, ms(d.ReceivedAt), ms(next), string(state), req.owner, ms(req.leaseUntil))
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO deliveries (id, event, received_at, next_attempt, state, lease_owner, lease_until)
		VALUES `+tuples(len(batch), 7)+` ON CONFLICT (id) DO NOTHING RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	fresh := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
		fresh[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	results := make([]insertResult, len(batch))
	args = args[:0]
	for i, req := range batch {
		if fresh[req.d.ID] { // the first of a batch's duplicates wins
			delete(fresh, req.d.ID)
			results[i].inserted = true
			args = append(args, req.d.ID, nonNil(req.d.Payload))
		}
	}
	if len(args) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_payloads (id, payload) VALUES `+tuples(len(args)/2, 2), args...); err != nil {
			return nil, fmt.Errorf("enqueue deliveries: payloads: %w", err)
		}
	}
	return results, nil
}

// tuples returns "(?, ?), (?, ?)" for rows of width values.
func tuples(rows, width int) string {
	one := "(" + placeholders(width) + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
