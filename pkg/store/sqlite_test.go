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
