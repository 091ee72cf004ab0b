package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchStore opens a fresh store of backend b for a benchmark.
func benchStore(tb testing.TB, b backend) Store {
	s, err := b.open(context.Background(), b.dsn(tb), time.Now)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkEnqueueDelivery measures durable webhook inserts from 8
// concurrent receivers per core.
func BenchmarkEnqueueDelivery(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := benchStore(b, be)
			ctx := context.Background()
			var n atomic.Int64
			payload := []byte(`{"action":"created","comment":{"body":"/canary"}}`)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprint("d", n.Add(1))
					if _, err := s.EnqueueDelivery(ctx, Delivery{ID: id, Event: "issue_comment", Payload: payload}); err != nil {
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
			s := benchStore(b, be)
			ctx := context.Background()
			for i := range b.N {
				_, err := s.EnqueueDelivery(ctx, Delivery{ID: fmt.Sprint("d", i), Event: "e", Payload: []byte("{}")})
				require.NoError(b, err)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					drain(ctx, b, s, fmt.Sprint("w", w))
				}()
			}
			wg.Wait()
			b.StopTimer()
			st, err := s.DeliveryStats(ctx)
			require.NoError(b, err)
			require.Equal(b, b.N, st.ByState[DeliveryDone])
		})
	}
}

// drain claims and completes deliveries until none is left.
func drain(ctx context.Context, b *testing.B, s Store, worker string) {
	for {
		got, err := s.ClaimDeliveries(ctx, worker, 16, time.Minute)
		if err != nil || len(got) == 0 {
			if err != nil {
				b.Error(err)
			}
			return
		}
		out := make([]DeliveryOutcome, len(got))
		for i, d := range got {
			out[i].ID = d.ID
		}
		if err := s.CompleteDeliveries(ctx, worker, out); err != nil {
			b.Error(err)
			return
		}
	}
}

// BenchmarkClaimJobs measures taking one due job through a claim and a
// completion, by 4 workers claiming 8 at a time, beside 1,000 finished jobs
// and blocked running jobs under a live lease whose pending twins must wait
// (each claim reads past those twins).
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
	s := benchStore(b, be)
	ctx := context.Background()
	now := time.Now()
	for i := range 1000 + blocked {
		_, err := s.ScheduleJob(ctx, Job{Kind: "busy", Key: fmt.Sprint(i), DueAt: now})
		require.NoError(b, err)
	}
	held, err := s.ClaimDueJobs(ctx, "holder", now, 1000+blocked, time.Hour)
	require.NoError(b, err)
	for _, j := range held[:1000] {
		require.NoError(b, s.CompleteJob(ctx, "holder", j.ID, nil))
	}
	for _, j := range held[1000:] {
		_, err := s.ScheduleJob(ctx, Job{Kind: j.Kind, Key: j.Key, DueAt: now})
		require.NoError(b, err)
	}
	for i := range b.N {
		_, err := s.ScheduleJob(ctx, Job{Kind: "rollout.effects", Key: fmt.Sprint(i), DueAt: now})
		require.NoError(b, err)
	}
	b.ResetTimer()
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done.Add(int64(drainJobs(ctx, b, s, fmt.Sprint("w", w), now)))
		}()
	}
	wg.Wait()
	b.StopTimer()
	require.Equal(b, int64(b.N), done.Load(), "every free job once, no waiting twin")
}

// drainJobs claims and completes due jobs until none is left, and says how
// many it ran.
func drainJobs(ctx context.Context, b *testing.B, s Store, worker string, now time.Time) int {
	n := 0
	for {
		jobs, err := s.ClaimDueJobs(ctx, worker, now, 8, time.Minute)
		if err != nil || len(jobs) == 0 {
			if err != nil {
				b.Error(err)
			}
			return n
		}
		for _, j := range jobs {
			if err := s.CompleteJob(ctx, worker, j.ID, nil); err != nil {
				b.Error(err)
				return n
			}
			n++
		}
	}
}
