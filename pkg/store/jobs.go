package store

import (
	"context"
	"fmt"
)

// ScheduleJob adds j, or reschedules the pending job with its kind and key.
func (s *records) ScheduleJob(ctx context.Context, j Job) (int64, error) {
	var id int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO jobs (kind, key, payload, due_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, key) WHERE state = 'pending' DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at
		RETURNING id`, j.Kind, j.Key, j.Payload, ms(j.DueAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("schedule job %s/%s: %w", j.Kind, j.Key, err)
	}
	return id, nil
}

// CancelJobs deletes the pending jobs of kind and key.
func (s *records) CancelJobs(ctx context.Context, kind, key string) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM jobs WHERE kind = $1 AND key = $2 AND state = 'pending'`, kind, key)
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s: %w", kind, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancel jobs %s/%s: %w", kind, key, err)
	}
	return int(n), nil
}

// CompleteJob marks a job worker holds done, or failed with err.
func (s *records) CompleteJob(ctx context.Context, worker string, id int64, jobErr error) error {
	state, msg := jobOutcome(jobErr)
	res, err := s.write.ExecContext(ctx, `UPDATE jobs SET state = $1, last_error = $2, lease_owner = '', lease_until = 0
		WHERE id = $3 AND state = 'running' AND lease_owner = $4`, state, msg, id, worker)
	if err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("complete job %d as %s: %w", id, worker, ErrLeaseLost)
	}
	return nil
}
