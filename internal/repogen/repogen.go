// Package repogen writes generated model repositories of any size, with
// realistic manifests and lineage, for benchmarks and load tests.
package repogen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Write creates n model versions under dir/models: families of five
// versions, each version the child of the one before, and every family's
// first version a fine-tune of a shared base model or an external one.
// Every manifest has a lineage.json beside it.
func Write(dir string, n int) error {
	for i := range n {
		family, v := i/5, i%5
		name := fmt.Sprintf("model-%05d", family)
		version := fmt.Sprintf("1.%d.0", v)
		parent := fmt.Sprintf("%s@1.%d.0", name, v-1)
		if v == 0 {
			parent = "bert-base-uncased"
			if family > 0 {
				parent = fmt.Sprintf("model-%05d@1.0.0", family/2)
			}
		}
		if err := writeModel(dir, name, version, parent, i); err != nil {
			return err
		}
	}
	return nil
}

func writeModel(dir, name, version, parent string, i int) error {
	d := filepath.Join(dir, "models", name, version)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("generate %s: %w", d, err)
	}
	tier := []string{"minimal", "limited", "high"}[i%3]
	stage := []string{"development", "staging", "production"}[i%3]
	manifest := fmt.Sprintf(`apiVersion: modelgate.dev/v1
kind: Model
metadata:
  name: %[1]s
  version: %[2]s
  owner: team-%[3]d@example.com
  labels: {team: team-%[3]d}
spec:
  framework: pytorch
  task: classification
  artifact:
    uri: s3://models/%[1]s/%[2]s/model.pt
    digest: %[4]s
  lineage: lineage.json
  metrics:
    f1: 0.9%[3]d
    latency_p99_ms: %[5]d
    memory_mb: 1200
    cost_per_call_usd: 0.0004
  governance:
    risk_tier: %[6]s
    license: apache-2.0
    intended_use: "Classify records for team %[3]d."
    limitations: "Generated for benchmarks."
    pii: false
  lifecycle:
    stage: %[7]s
    retire_after: 2030-01-01
  rollout:
    environment: production
    stages:
      - {traffic: 5, analysis: 30m}
      - {traffic: 100}
`, name, version, i%10, checksum(name+version), 20+i%30, tier, stage)
	lineage := fmt.Sprintf(`{
  "model_id": %q,
  "version": %q,
  "parent_models": [%q],
  "training_data": {
    "versions": ["2024.03.15", "2024.03.16"],
    "checksums": [%q, %q]
  }
}
`, name, version, parent, checksum(name+"a"), checksum(name+"b"))
	if err := os.WriteFile(filepath.Join(d, "model.yaml"), []byte(manifest), 0o644); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d, "lineage.json"), []byte(lineage), 0o644); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
