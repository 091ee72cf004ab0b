package queue_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/stretchr/testify/require"
)

// BenchmarkAdd measures durable webhook inserts from 8 concurrent
// receivers per core.
func BenchmarkAdd(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			q := be.openQueue(b, be.dsn(b), time.Now)
			ctx := context.Background()
			var n atomic.Int64
			payload := []byte(`{"action":"created","comment":{"body":"/canary"}}`)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					j := delivery(fmt.Sprint("d", n.Add(1)))
					j.Payload = payload
					if _, err := q.Add(ctx, j); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkClaimComplete measures taking one queued delivery through a
// claim and a completion, by 8 workers claiming 16 at a time.
func BenchmarkClaimComplete(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			q := be.openQueue(b, be.dsn(b), time.Now)
			ctx := context.Background()
			for i := range b.N {
				_, err := q.Add(ctx, delivery(fmt.Sprint("d", i)))
				require.NoError(b, err)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() { drain(ctx, b, q, "webhook", fmt.Sprint("w", w), 16) })
			}
			wg.Wait()
			b.StopTimer()
			st, err := q.Stats(ctx, "webhook")
			require.NoError(b, err)
			require.Equal(b, b.N, st.ByState[queue.Done])
		})
	}
}

// BenchmarkClaimJobs measures taking one due rollout job through a claim
// and a completion, by 4 workers claiming 8 at a time, beside 1,000
// finished jobs and blocked running jobs under a live lease whose pending
// twins must wait (each claim reads past those twins).
func BenchmarkClaimJobs(b *testing.B) {
	for _, blocked := range []int{10, 1000} {
		for _, be := range backends() {
			b.Run(fmt.Sprintf("%s/blocked=%d", be.name, blocked), func(b *testing.B) {
				benchClaimJobs(b, be, blocked)
			})
		}
	}
}

func benchClaimJobs(b *testing.B, be backend, blocked int) {
	q := be.openQueue(b, be.dsn(b), time.Now)
	ctx := context.Background()
	now := time.Now()
	job := func(kind string, key int) queue.Job {
		return queue.Job{Queue: "rollout", Kind: kind, Key: fmt.Sprint(key), DueAt: now}
	}
	for i := range 1000 + blocked {
		_, err := q.Schedule(ctx, job("busy", i))
		require.NoError(b, err)
	}
	held, err := q.Claim(ctx, "rollout", now, 1000+blocked, queue.Lease{Worker: "holder", Until: now.Add(time.Hour)})
	require.NoError(b, err)
	for _, j := range held[:1000] {
		require.NoError(b, q.Complete(ctx, "holder", []queue.Outcome{{ID: j.ID}}))
	}
	for _, j := range held[1000:] {
		_, err := q.Schedule(ctx, queue.Job{Queue: "rollout", Kind: j.Kind, Key: j.Key, DueAt: now})
		require.NoError(b, err)
	}
	for i := range b.N {
		_, err := q.Schedule(ctx, job("rollout.effects", i))
		require.NoError(b, err)
	}
	b.ResetTimer()
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { done.Add(int64(drain(ctx, b, q, "rollout", fmt.Sprint("w", w), 8))) })
	}
	wg.Wait()
	b.StopTimer()
	require.Equal(b, int64(b.N), done.Load(), "every free job once, no waiting twin")
}

// drain claims and completes due jobs until none is left, and says how
// many it ran.
func drain(ctx context.Context, b *testing.B, q *queue.Store, name, worker string, limit int) int {
	n := 0
	for {
		now := time.Now()
		jobs, err := q.Claim(ctx, name, now, limit, queue.Lease{Worker: worker, Until: now.Add(time.Minute)})
		if err != nil || len(jobs) == 0 {
			if err != nil {
				b.Error(err)
			}
			return n
		}
		out := make([]queue.Outcome, len(jobs))
		for i, j := range jobs {
			out[i].ID = j.ID
		}
		if err := q.Complete(ctx, worker, out); err != nil {
			b.Error(err)
			return n
		}
		n += len(jobs)
	}
}
