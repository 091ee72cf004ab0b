package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/modelgate/modelgate/internal/dbtime"
)

// errClosed is returned to writes that arrive after Close.
var errClosed = errors.New("queue closed")

// batcher group-commits a SQLite queue's writes: every job added, every
// worker's record of finished jobs and every lease renewal waiting while
// one transaction commits goes into the next, so that a burst of webhooks
// and the work they cause pay for one fsync instead of one each.
type batcher struct {
	s        *Store
	stmts    *statements // prepared at the first write; only loop uses them
	max      int
	requests chan request
	quit     chan struct{}
	done     chan struct{}
	once     sync.Once

	mu     sync.RWMutex // held for reading while sending, so close sees every send
	closed bool
}

// request is one caller's part of a group commit.
type request struct {
	c     change
	now   int64 // when it was asked for, in ms
	reply chan result
}

type result struct {
	changed
	err error
}

func newBatcher(s *Store, max int) *batcher {
	b := &batcher{
		s:        s,
		max:      max,
		requests: make(chan request, max),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go b.loop()
	return b
}

// do waits until c is committed with its batch.
func (b *batcher) do(ctx context.Context, c change) (changed, error) {
	req := request{c: c, now: dbtime.Millis(b.s.now()), reply: make(chan result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return changed{}, errClosed
	}
	select {
	case b.requests <- req:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return changed{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.changed, r.err
	case <-ctx.Done():
		return changed{}, ctx.Err()
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
func (b *batcher) gather(first request) []request {
	batch := []request{first}
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

// drain answers the writes that were queued before close.
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

func (b *batcher) flush(batch []request) {
	results, err := b.write(batch)
	for i, req := range batch {
		if err != nil {
			req.reply <- result{err: err}
			continue
		}
		req.reply <- results[i]
	}
}

// write commits a batch in one transaction.
func (b *batcher) write(batch []request) ([]result, error) {
	ctx := context.Background() // one caller's cancellation must not fail the others
	if b.stmts == nil {
		stmts, err := prepare(ctx, b.s.write)
		if err != nil {
			return nil, fmt.Errorf("group commit: %w", err)
		}
		b.stmts = stmts
	}
	results := make([]result, len(batch))
	err := b.s.inTx(ctx, func(tx *sql.Tx) error {
		for i, req := range batch {
			var err error
			results[i].changed, err = b.apply(ctx, tx, req)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("group commit: %w", err)
	}
	return results, nil
}

// apply writes one request of a batch in tx.
func (b *batcher) apply(ctx context.Context, tx *sql.Tx, req request) (changed, error) {
	c := req.c
	switch {
	case c.add != nil:
		id, err := insertSQLite(ctx, tx, b.stmts, *c.add, c.lease)
		return changed{id: id}, err
	case c.extend != nil:
		lost, err := extend(ctx, tx, c.extend, c.lease)
		return changed{lost: lost}, err
	default:
		lost, err := complete(ctx, tx, succeedEach(tx, b.stmts.done), c.lease.Worker, c.outcomes, req.now)
		return changed{lost: lost}, err
	}
}
