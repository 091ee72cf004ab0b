package store

import (
	"context"
	"fmt"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
)

// RolloutQueue is the queue the rollout engine's jobs wait in.
const RolloutQueue = "rollout"

// jobs serves Jobs, and the whole queue, from the queue in the store's
// database.
type jobs struct {
	queue *queue.Store
}

// Queue is the job queue in the store's database.
func (s jobs) Queue() *queue.Store { return s.queue }

// ScheduleJob adds j, or reschedules the pending job with its kind and key.
func (s jobs) ScheduleJob(ctx context.Context, j Job) (int64, error) {
	return s.queue.Schedule(ctx, queue.Job{Queue: RolloutQueue, Kind: j.Kind, Key: j.Key, Payload: j.Payload, DueAt: j.DueAt})
}

// ClaimDueJobs leases up to limit jobs due at now, one per kind and key.
func (s jobs) ClaimDueJobs(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]Job, error) {
	claimed, err := s.queue.Claim(ctx, RolloutQueue, now, limit, queue.Lease{Worker: worker, Until: now.Add(lease)})
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(claimed))
	for i, j := range claimed {
		out[i] = Job{ID: j.ID, Kind: j.Kind, Key: j.Key, Payload: j.Payload, DueAt: j.DueAt, State: string(j.State),
			Attempts: j.Attempts}
	}
	return out, nil
}

// CancelJobs deletes the pending jobs of kind and key.
func (s jobs) CancelJobs(ctx context.Context, kind, key string) (int, error) {
	return s.queue.Cancel(ctx, RolloutQueue, kind, key)
}

// CompleteJob marks a job worker holds done, or failed with err: the
// engine schedules its retries itself.
func (s jobs) CompleteJob(ctx context.Context, worker string, id int64, jobErr error) error {
	if err := s.queue.Complete(ctx, worker, []queue.Outcome{{ID: id, Err: jobErr}}); err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	return nil
}
