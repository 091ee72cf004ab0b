package githubapp

import (
	"context"
	"errors"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/queue"
)

// DeliveryQueue is the queue webhook deliveries wait in: each is a job
// whose kind is its event (X-GitHub-Event) and whose key is its delivery
// id (X-GitHub-Delivery), so that a redelivery is stored once.
const DeliveryQueue = "webhook"

// DeliveryJob is the job that carries a webhook delivery.
func DeliveryJob(event, id string, payload []byte, received time.Time) queue.Job {
	return queue.Job{Queue: DeliveryQueue, Kind: event, Key: id, Payload: payload, CreatedAt: received}
}

// NewWorker returns the worker that takes webhook deliveries from jobs and
// dispatches them with d: a delivery is completed only after its handler
// returns, retried with the queue's backoff (10 s, doubling, 5 attempts),
// sooner never than GitHub's rate limit resets, and failed for good on a
// Permanent error. Set its Concurrency, Logger and Observer
// (NewWorkerMetrics) as needed; while it runs, it is the webhook
// handler's Queue, taking new deliveries over in memory.
func NewWorker(jobs queue.Backend, d *Dispatcher) *queue.Worker {
	return &queue.Worker{Store: jobs, Queue: DeliveryQueue, Handle: d.handleJob, Classify: classify}
}

// handleJob dispatches the delivery a job carries.
func (d *Dispatcher) handleJob(ctx context.Context, j queue.Job) error {
	return d.Dispatch(ctx, Event{Type: j.Kind, DeliveryID: j.Key, Payload: j.Payload})
}

// classify tells the queue which failures retrying cannot mend, and when
// GitHub said to come back.
func classify(err error) (permanent bool, notBefore time.Time) {
	return IsPermanent(err), rateLimitReset(err)
}

// rateLimitReset finds when GitHub said its rate limit resets, if it did.
func rateLimitReset(err error) time.Time {
	var ra *RetryAfterError
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &ra):
		return ra.At
	case errors.As(err, &rl):
		return rl.Rate.Reset.Time
	case errors.As(err, &abuse) && abuse.RetryAfter != nil:
		return time.Now().Add(*abuse.RetryAfter)
	}
	return time.Time{}
}
