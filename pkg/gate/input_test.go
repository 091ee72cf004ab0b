package gate

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicyContext(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), Options{Root: "../../testdata/example", Now: now})
	require.NoError(t, err)
	contextOf := func(pr *PullRequest) map[string]any {
		d, err := documentBuilder{ev: &evaluation{root: "/repo", now: now, withContext: true}, res: res, pr: pr}.document("fraud-detector@3.2.0")
		require.NoError(t, err)
		assert.Equal(t, d.Input, d.Context["manifest"])
		assert.Equal(t, reflect.ValueOf(d.Input).Pointer(), reflect.ValueOf(d.Context["manifest"]).Pointer(), "shared, not copied")
		assert.Equal(t, "/repo/models/fraud-detector/3.2.0/model.yaml", d.Path)
		return d.Context
	}
	ctx := contextOf(&PullRequest{Number: 7, Author: "alice", Labels: []string{"ml"}, Approvals: 2})

	assert.Equal(t, "models/fraud-detector/3.2.0/model.yaml", ctx["file"])
	assert.Equal(t, "unchanged", ctx["change"])
	assert.Nil(t, ctx["base"])
	assert.Equal(t, "2026-11-25T10:00:00Z", ctx["now"])
	assert.Equal(t, map[string]any{"number": 7, "author": "alice", "labels": []any{"ml"}, "approvals": 2}, ctx["pull_request"])
	assert.NotContains(t, ctx, "apiVersion", "the manifest's fields stay in the manifest")
	assert.Equal(t, "fraud-detector", ctx["manifest"].(map[string]any)["metadata"].(map[string]any)["name"])
	lineage := ctx["lineage"].(map[string]any)
	assert.Equal(t, []any{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, lineage["parent_models"])
	graph := ctx["graph"].(map[string]any)
	assert.Equal(t, []any{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, graph["parents"])
	assert.Contains(t, graph["parent_manifests"], "fraud-detector@3.1.0")

	unknown := contextOf(&PullRequest{Approvals: -1})
	assert.Nil(t, unknown["pull_request"].(map[string]any)["approvals"])
	assert.Nil(t, contextOf(nil)["pull_request"])
}

func TestPolicyDocumentWithoutContext(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 999, time.UTC)
	res, err := Run(context.Background(), Options{Root: "../../testdata/example", Now: now})
	require.NoError(t, err)
	d, err := documentBuilder{ev: &evaluation{root: "/repo", now: now}, res: res}.document("fraud-detector@3.2.0")
	require.NoError(t, err)
	assert.Nil(t, d.Context, "no policy reads it")
	assert.Equal(t, "fraud-detector", d.Input.(map[string]any)["metadata"].(map[string]any)["name"])
	assert.Equal(t, now.Truncate(time.Second), d.Now, "the context's now, which time.now_ns() gives")
	line, _, ok := d.Locator.Locate("spec.metrics")
	assert.True(t, ok)
	assert.Positive(t, line)
}
