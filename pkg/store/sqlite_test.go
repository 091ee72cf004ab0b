package store

import (
	"context"
	"path/filepath"
	"testing"

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
