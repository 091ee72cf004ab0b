package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/actionmeta"
)

// readActionMetadata is action.yml as GitHub's loader reads it (strictly:
// internal/actionmeta's tests hold that, and internal/workflowcheck's hold
// it to GitHub's schema).
func readActionMetadata(t *testing.T) actionmeta.Metadata {
	t.Helper()
	m, err := actionmeta.Read("../action.yml")
	require.NoError(t, err, "action.yml must parse as GitHub reads it")
	return m
}
