package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rows written before "analysing" became StageAnalyzing read as the new word.
func TestOldStageSpellingReadsAsNew(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"), SQLiteOptions{})
	require.NoError(t, err)
	defer st.Close()
	ro, err := st.CreateRollout(ctx, Rollout{Repo: "o/r", PR: 1, Model: "m", Version: "2", Environment: "production", State: RolloutRunning})
	require.NoError(t, err)
	require.NoError(t, st.PutStage(ctx, Stage{RolloutID: ro.ID, Index: 0, State: "analysing"}))
	require.NoError(t, st.PutStage(ctx, Stage{RolloutID: ro.ID, Index: 1, State: StageDeploying}))
	stages, err := st.ListStages(ctx, ro.ID)
	require.NoError(t, err)
	require.Len(t, stages, 2)
	assert.Equal(t, StageAnalyzing, stages[0].State)
	assert.Equal(t, StageDeploying, stages[1].State)
}
