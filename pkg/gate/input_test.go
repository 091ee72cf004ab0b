package gate

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicyInput(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), Options{Root: "../../testdata/example", Now: now})
	require.NoError(t, err)
	in := res.PolicyInput("fraud-detector@3.2.0", &PullRequest{Number: 7, Author: "alice", Labels: []string{"ml"}, Approvals: 2})

	assert.Equal(t, "models/fraud-detector/3.2.0/model.yaml", in["file"])
	assert.Equal(t, "unchanged", in["change"])
	assert.Nil(t, in["base"])
	assert.Equal(t, "2026-11-25T10:00:00Z", in["now"])
	assert.Equal(t, map[string]any{"number": 7, "author": "alice", "labels": []any{"ml"}, "approvals": 2}, in["pull_request"])
	assert.Equal(t, "modelgate.dev/v1", in["apiVersion"], "the manifest's fields stand at the root too")
	manifest := in["manifest"].(map[string]any)
	assert.Equal(t, reflect.ValueOf(manifest["spec"]).Pointer(), reflect.ValueOf(in["spec"]).Pointer(), "shared, not copied")
	lineage := in["lineage"].(map[string]any)
	assert.Equal(t, []any{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, lineage["parent_models"])
	graph := in["graph"].(map[string]any)
	assert.Equal(t, []any{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, graph["parents"])
	assert.Contains(t, graph["parent_manifests"], "fraud-detector@3.1.0")

	unknown := res.PolicyInput("fraud-detector@3.2.0", &PullRequest{Approvals: -1})
	assert.Nil(t, unknown["pull_request"].(map[string]any)["approvals"])
	assert.Nil(t, res.PolicyInput("fraud-detector@3.2.0", nil)["pull_request"])
}

func TestPolicyInputNamesWinOverManifestFields(t *testing.T) {
	res, err := Run(context.Background(), Options{Root: "../../testdata/example"})
	require.NoError(t, err)
	m := res.Graph.Node("churn-predictor@2.0.0").Manifest
	m.Doc.Value.(map[string]any)["change"] = "forged"
	in := res.PolicyInput("churn-predictor@2.0.0", nil)
	assert.Equal(t, "unchanged", in["change"])
}
