package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// EnqueueDelivery stores d unless its id is known; it returns once durable.
func (s *SQLite) EnqueueDelivery(ctx context.Context, d Delivery) (bool, error) {
	if d.ID == "" {
		return false, fmt.Errorf("enqueue delivery: empty id")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	return s.batch.insert(ctx, insertRequest{d: d})
}

// EnqueueClaimedDelivery stores d like EnqueueDelivery, but already leased
// to worker, which has it in memory and will complete it; should that
// worker die, the lease runs out and any worker claims it.
func (s *SQLite) EnqueueClaimedDelivery(ctx context.Context, d Delivery, worker string, lease time.Duration) (bool, error) {
	if d.ID == "" || worker == "" {
		return false, fmt.Errorf("enqueue delivery: empty id or worker")
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.now()
	}
	return s.batch.insert(ctx, insertRequest{d: d, owner: worker, leaseUntil: s.now().Add(lease)})
}

// ClaimDeliveries leases up to limit due deliveries, oldest first; a
// delivery whose lease ran out (its worker died) is due again.
func (s *SQLite) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]Delivery, error) {
	now := s.now()
	var out []Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A claimed delivery's next_attempt is its lease's end, so one index
		// range finds both the due and the abandoned ones.
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries
			SET state = 'processing', attempts = attempts + 1, lease_owner = ?, lease_until = ?, next_attempt = ?
			WHERE id IN (
				SELECT id FROM deliveries
				WHERE state IN ('pending', 'processing') AND next_attempt <= ?
				ORDER BY next_attempt LIMIT ?)
			RETURNING id, event, attempts, processed, received_at, next_attempt`,
			worker, ms(now.Add(lease)), ms(now.Add(lease)), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d := Delivery{State: DeliveryProcessing}
			var received, next int64
			if err := rows.Scan(&d.ID, &d.Event, &d.Attempts, &d.Processed, &received, &next); err != nil {
				return err
			}
			d.ReceivedAt, d.NextAttempt = fromMS(received), fromMS(next)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return loadPayloads(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

// CompleteDeliveries records outcomes of deliveries that worker still leases;
// an outcome for a lease that ran out is ignored, since another worker owns
// it. The outcomes share the next group commit with the webhook inserts.
func (s *SQLite) CompleteDeliveries(ctx context.Context, worker string, outcomes []DeliveryOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	if _, err := s.batch.insert(ctx, insertRequest{owner: worker, outcomes: outcomes, now: ms(s.now())}); err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	return nil
}

// completeDeliveries records outcomes in tx, at now (ms); done is the
// prepared statement for a success, the common case.
func completeDeliveries(ctx context.Context, tx *sql.Tx, done *sql.Stmt, worker string, now int64, outcomes []DeliveryOutcome) error {
	for _, o := range outcomes {
		var err error
		switch {
		case o.Err == nil:
			_, err = done.ExecContext(ctx, now, o.ID, worker)
		case o.RetryAt.IsZero():
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', done_at = ?, last_error = ?,
				lease_owner = '', lease_until = 0
				WHERE id = ? AND lease_owner = ? AND state = 'processing'`, now, o.Err.Error(), o.ID, worker)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', next_attempt = ?, last_error = ?,
				lease_owner = '', lease_until = 0
				WHERE id = ? AND lease_owner = ? AND state = 'processing'`, ms(o.RetryAt), o.Err.Error(), o.ID, worker)
		}
		if err != nil {
			return fmt.Errorf("outcome of delivery %s: %w", o.ID, err)
		}
	}
	return nil
}

// GetDelivery returns one delivery by id.
func (s *SQLite) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	d := Delivery{ID: id}
	var received, next, done int64
	var state string
	err := s.read.QueryRowContext(ctx, `SELECT event, coalesce(p.payload, x''), state, attempts, processed, last_error,
		received_at, next_attempt, done_at FROM deliveries d LEFT JOIN delivery_payloads p USING (id) WHERE d.id = ?`, id).
		Scan(&d.Event, &d.Payload, &state, &d.Attempts, &d.Processed, &d.LastError, &received, &next, &done)
	if errors.Is(err, sql.ErrNoRows) {
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
func (s *SQLite) DeliveryStats(ctx context.Context) (DeliveryStats, error) {
	st := DeliveryStats{ByState: map[DeliveryState]int{}}
	rows, err := s.read.QueryContext(ctx, `SELECT state, count(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("delivery stats: %w", err)
		}
		st.ByState[DeliveryState(state)] = n
		st.Total += n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	var oldest sql.NullInt64
	err = s.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE processed > 1),
		(SELECT min(received_at) FROM deliveries WHERE state IN ('pending', 'processing'))`).
		Scan(&st.ProcessedTwice, &oldest)
	if err != nil {
		return st, fmt.Errorf("delivery stats: %w", err)
	}
	if oldest.Valid {
		st.OldestPendingAge = s.now().Sub(fromMS(oldest.Int64))
	}
	return st, nil
}

// loadPayloads fills in the payloads of claimed deliveries.
func loadPayloads(ctx context.Context, tx *sql.Tx, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]any, len(ds))
	index := make(map[string]int, len(ds))
	for i, d := range ds {
		ids[i], index[d.ID] = d.ID, i
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, payload FROM delivery_payloads WHERE id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("payloads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			return fmt.Errorf("payloads: %w", err)
		}
		ds[index[id]].Payload = payload
	}
	return rows.Err()
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
