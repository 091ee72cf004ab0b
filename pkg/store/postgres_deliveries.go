package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnqueueDelivery stores d unless its id is known; it returns once durable.
func (s *Postgres) EnqueueDelivery(ctx context.Context, d Delivery) (bool, error) {
	if d.ID == "" {
		return false, fmt.Errorf("enqueue delivery: empty id")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	return s.insertDelivery(ctx, d, DeliveryPending, "", d.ReceivedAt, time.Time{})
}

// EnqueueClaimedDelivery stores d like EnqueueDelivery, but already leased
// to worker; should that worker die, the lease runs out and any replica's
// worker claims it.
func (s *Postgres) EnqueueClaimedDelivery(ctx context.Context, d Delivery, worker string, lease time.Duration) (bool, error) {
	if d.ID == "" || worker == "" {
		return false, fmt.Errorf("enqueue delivery: empty id or worker")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	until := s.now().Add(lease)
	// A claimed delivery is due again when its lease ends.
	return s.insertDelivery(ctx, d, DeliveryProcessing, worker, until, until)
}

// insertDelivery stores the queue row and its payload in one statement: the
// payload goes in only when the row was new. PostgreSQL commits concurrent
// transactions together, so there is no batcher here.
func (s *Postgres) insertDelivery(ctx context.Context, d Delivery, state DeliveryState, owner string, next, leaseUntil time.Time) (bool, error) {
	rows, err := s.pool.Query(ctx, `WITH fresh AS (
			INSERT INTO deliveries (id, event, received_at, next_attempt, state, lease_owner, lease_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id)
		INSERT INTO delivery_payloads (id, payload) SELECT id, $8 FROM fresh RETURNING id`,
		d.ID, d.Event, ms(d.ReceivedAt), ms(next), string(state), owner, ms(leaseUntil), nonNil(d.Payload))
	if err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	return n == 1, nil
}

// ClaimDeliveries leases up to limit due deliveries, oldest first; a
// delivery whose lease ran out (its worker died) is due again. Rows another
// replica is claiming at the same moment are skipped, not waited for.
func (s *Postgres) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]Delivery, error) {
	now := s.now()
	until := ms(now.Add(lease))
	// MATERIALIZED: the locking select runs once, whatever the plan.
	rows, err := s.pool.Query(ctx, `WITH due AS MATERIALIZED (
			SELECT id FROM deliveries
			WHERE state IN ('pending', 'processing') AND next_attempt <= $3
			ORDER BY next_attempt LIMIT $4 FOR UPDATE SKIP LOCKED),
		claimed AS (
			UPDATE deliveries d
			SET state = 'processing', attempts = d.attempts + 1, lease_owner = $1, lease_until = $2, next_attempt = $2
			FROM due WHERE d.id = due.id
			RETURNING d.id, d.event, d.attempts, d.processed, d.received_at, d.next_attempt)
		SELECT c.id, c.event, coalesce(p.payload, ''::bytea), c.attempts, c.processed, c.received_at, c.next_attempt
		FROM claimed c LEFT JOIN delivery_payloads p USING (id)`,
		worker, until, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		d := Delivery{State: DeliveryProcessing}
		var received, next int64
		err := row.Scan(&d.ID, &d.Event, &d.Payload, &d.Attempts, &d.Processed, &received, &next)
		d.ReceivedAt, d.NextAttempt = fromMS(received), fromMS(next)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

// CompleteDeliveries records outcomes of deliveries that worker still leases;
// an outcome for a lease that ran out is ignored, since another worker owns it.
func (s *Postgres) CompleteDeliveries(ctx context.Context, worker string, outcomes []DeliveryOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	now := ms(s.now())
	var done []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, o := range outcomes {
			var err error
			switch {
			case o.Err == nil:
				done = append(done, o.ID)
			case o.RetryAt.IsZero():
				_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'failed', done_at = $1, last_error = $2,
					lease_owner = '', lease_until = 0
					WHERE id = $3 AND lease_owner = $4 AND state = 'processing'`, now, o.Err.Error(), o.ID, worker)
			default:
				_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'pending', next_attempt = $1, last_error = $2,
					lease_owner = '', lease_until = 0
					WHERE id = $3 AND lease_owner = $4 AND state = 'processing'`, ms(o.RetryAt), o.Err.Error(), o.ID, worker)
			}
			if err != nil {
				return fmt.Errorf("delivery %s: %w", o.ID, err)
			}
		}
		if len(done) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'done', processed = processed + 1,
			done_at = $1, last_error = '', lease_owner = '', lease_until = 0
			WHERE lease_owner = $2 AND state = 'processing' AND id = ANY($3)`, now, worker, done)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	return nil
}

// GetDelivery returns one delivery by id.
func (s *Postgres) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	d := Delivery{ID: id}
	var received, next, done int64
	var state string
	err := s.pool.QueryRow(ctx, `SELECT event, coalesce(p.payload, ''::bytea), state, attempts, processed, last_error,
		received_at, next_attempt, done_at FROM deliveries d LEFT JOIN delivery_payloads p USING (id) WHERE d.id = $1`, id).
		Scan(&d.Event, &d.Payload, &state, &d.Attempts, &d.Processed, &d.LastError, &received, &next, &done)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	d.State = DeliveryState(state)
	d.ReceivedAt, d.NextAttempt, d.DoneAt = fromMS(received), fromMS(next), fromMS(done)
	return d, nil
}

// DeliveryStats counts deliveries by state.
func (s *Postgres) DeliveryStats(ctx context.Context) (DeliveryStats, error) {
	st := DeliveryStats{ByState: map[DeliveryState]int{}}
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		st.ByState[DeliveryState(state)] = n
		st.Total += n
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	var oldest *int64
	err = s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE processed > 1),
		(SELECT min(received_at) FROM deliveries WHERE state IN ('pending', 'processing'))`).
		Scan(&st.ProcessedTwice, &oldest)
	if err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	if oldest != nil {
		st.OldestPendingAge = s.now().Sub(fromMS(*oldest))
	}
	return st, nil
}
