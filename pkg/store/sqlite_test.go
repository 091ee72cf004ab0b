package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenSQLiteFailsOnBadPath(t *testing.T) {
	_, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "missing", "dir", "x.db"), SQLiteOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "migrate")
}

func TestEnqueueAfterClose(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "c.db"), SQLiteOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.EnqueueDelivery(context.Background(), Delivery{ID: "x", Event: "e", Payload: []byte("{}")})
	assert.ErrorIs(t, err, errClosed)
}

func TestCompleteAfterClose(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "c.db"), SQLiteOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	err = s.CompleteDeliveries(context.Background(), "w", []DeliveryOutcome{{ID: "x"}})
	assert.ErrorIs(t, err, errClosed)
	assert.ErrorContains(t, err, "complete deliveries")
}

// TestInsertsAndOutcomesShareCommits records outcomes while new
// deliveries arrive, so that group commits hold both; each keeps its own
// answer.
func TestInsertsAndOutcomesShareCommits(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "g.db"), SQLiteOptions{})
	require.NoError(t, err)
	defer s.Close()
	for i := range 100 {
		_, err := s.EnqueueClaimedDelivery(ctx, Delivery{ID: fmt.Sprint("old", i), Event: "e", Payload: []byte("{}")}, "w", time.Minute)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	var inserted atomic.Int64
	for i := range 100 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ok, err := s.EnqueueDelivery(ctx, Delivery{ID: fmt.Sprint("new", i%50), Event: "e", Payload: []byte("{}")})
			assert.NoError(t, err)
			if ok {
				inserted.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			out := DeliveryOutcome{ID: fmt.Sprint("old", i)}
			if i%10 == 0 {
				out.Err = errors.New("boom") // failed for good
			}
			assert.NoError(t, s.CompleteDeliveries(ctx, "w", []DeliveryOutcome{out}))
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 50, inserted.Load(), "each new id inserted once, redeliveries answered as known")
	st, err := s.DeliveryStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[DeliveryState]int{DeliveryDone: 90, DeliveryFailed: 10, DeliveryPending: 50}, st.ByState)
	assert.Zero(t, st.ProcessedTwice)
	d, err := s.GetDelivery(ctx, "old0")
	require.NoError(t, err)
	assert.Equal(t, "boom", d.LastError)
}
