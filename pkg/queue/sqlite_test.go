package queue_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openSQLite(t *testing.T) *store.SQLite {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "q.db"), store.SQLiteOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestWritesAfterCloseFail(t *testing.T) {
	st := openSQLite(t)
	require.NoError(t, st.Close())
	ctx := context.Background()
	_, err := st.Queue().Add(ctx, delivery("x"))
	assert.ErrorContains(t, err, "queue closed")
	err = st.Queue().Complete(ctx, "w", []queue.Outcome{{ID: 1}})
	assert.ErrorContains(t, err, "complete jobs: queue closed")
	_, err = st.Queue().Extend(ctx, []int64{1}, queue.Lease{Worker: "w"})
	assert.ErrorContains(t, err, "queue closed")
}

// TestWritesShareCommits records outcomes and renews leases while new jobs
// arrive, so that group commits hold all three; each keeps its own answer.
func TestWritesShareCommits(t *testing.T) {
	q := openSQLite(t).Queue()
	ctx := context.Background()
	l := queue.Lease{Worker: "w", Until: time.Now().Add(time.Minute)}
	ids := make([]int64, 100)
	for i := range ids {
		var err error
		ids[i], _, err = q.AddLeased(ctx, delivery(fmt.Sprint("old", i)), l)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	var inserted atomic.Int64
	for i := range 100 {
		wg.Go(func() {
			ok, err := q.Add(ctx, delivery(fmt.Sprint("new", i%50)))
			assert.NoError(t, err)
			if ok {
				inserted.Add(1)
			}
		})
		wg.Go(func() {
			out := queue.Outcome{ID: ids[i]}
			if i%10 == 0 {
				out.Err = errors.New("boom") // failed for good
			}
			assert.NoError(t, q.Complete(ctx, "w", []queue.Outcome{out}))
		})
		wg.Go(func() {
			_, err := q.Extend(ctx, ids[i:i+1], l)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 50, inserted.Load(), "each new key inserted once, redeliveries answered as known")
	st, err := q.Stats(ctx, "webhook")
	require.NoError(t, err)
	assert.Equal(t, map[queue.State]int{queue.Done: 90, queue.Failed: 10, queue.Pending: 50}, st.ByState)
	d, err := q.Get(ctx, "webhook", "old0")
	require.NoError(t, err)
	assert.Equal(t, "boom", d.LastError)
}
