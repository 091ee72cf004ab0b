package store

import "github.com/modelgate/modelgate/pkg/queue"

// jobs serves the queue in the store's database.
type jobs struct {
	queue *queue.Store
}

// Queue is the job queue in the store's database.
func (s jobs) Queue() *queue.Store { return s.queue }
