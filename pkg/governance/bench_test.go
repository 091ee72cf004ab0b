package governance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/internal/cputime"
)

// BenchmarkEvaluate runs the default bundle over generated repositories of
// plausible manifests. Besides ns/op it reports the process CPU time per
// document: on a shared machine wall time says little.
//
//	go test -run '^$' -bench BenchmarkEvaluate -benchmem ./pkg/governance/
func BenchmarkEvaluate(b *testing.B) {
	e, err := Load(context.Background(), Options{DefaultBundle: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 100, 1000, 10000} {
		docs := generateDocuments(n)
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := e.Evaluate(context.Background(), docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N*n), "cpu-ns/doc")
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*n), "ns/doc")
		})
	}
}

// BenchmarkEvaluateRule evaluates each rule of the default bundle alone on
// 1,000 generated documents, beside a plan without rules: what a rule costs
// per document is its cpu-ns/doc less that of "none". A rule evaluated
// with the others shares their helpers (lib.tier, say), so the sum of the
// rules exceeds BenchmarkEvaluate's figure.
//
//	go test -run '^$' -bench BenchmarkEvaluateRule -benchmem ./pkg/governance/
func BenchmarkEvaluateRule(b *testing.B) {
	ctx := context.Background()
	e, err := Load(ctx, Options{DefaultBundle: true})
	if err != nil {
		b.Fatal(err)
	}
	docs := generateDocuments(1000)
	none, err := e.prepare(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkPlan(b, e, "none", none, docs)
	for _, r := range e.rules {
		p, err := e.single(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		benchmarkPlan(b, e, r.id, p, docs)
	}
}

func benchmarkPlan(b *testing.B, e *Engine, name string, p *plan, docs []Document) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cputime.Process()
		for b.Loop() {
			for i := range docs {
				in, err := e.newEvalInput(&docs[i])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.eval(context.Background(), p, in); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N*len(docs)), "cpu-ns/doc")
	})
}

// BenchmarkLoad is the start-up cost of a single-manifest run: parsing and
// compiling the default bundle.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(context.Background(), Options{DefaultBundle: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// generateDocuments builds n documents as the action would: model
// families with several versions, parents, a base-branch copy for some,
// a tenth with problems. The generator is seeded: runs are comparable.
func generateDocuments(n int) []Document {
	rng := rand.New(rand.NewPCG(1, 2))
	docs := make([]Document, n)
	for i := range docs {
		docs[i] = generateDocument(rng, i)
	}
	return docs
}

func generateDocument(rng *rand.Rand, i int) Document {
	name := fmt.Sprintf("model-%d", i/5)
	version := fmt.Sprintf("1.%d.0", i%5)
	tiers := []string{"minimal", "limited", "high", "high"}
	tier := tiers[rng.IntN(len(tiers))]
	digest := "sha256:" + strings.Repeat(fmt.Sprintf("%02x", i%256), 32)
	m := map[string]any{
		"apiVersion": "modelgate.dev/v1",
		"kind":       "Model",
		"metadata": map[string]any{
			"name": name, "version": version, "owner": "team-" + name + "@example.com",
			"labels": map[string]any{"team": "t" + fmt.Sprint(i%7)},
		},
		"spec": map[string]any{
			"framework": "pytorch",
			"task":      "classification",
			"artifact":  map[string]any{"uri": "s3://models/" + name + "/" + version + "/model.pt", "digest": digest},
			"lineage":   "lineage.json",
			"metrics": map[string]any{
				"f1": 0.85 + rng.Float64()*0.14, "latency_p99_ms": int64(20 + rng.IntN(100)),
				"memory_mb": int64(500 + rng.IntN(4000)), "cost_per_call_usd": 0.0001 + rng.Float64()*0.005,
			},
			"governance": map[string]any{
				"risk_tier": tier, "license": "apache-2.0", "pii": rng.IntN(2) == 0,
				"intended_use": "Scores events of " + name + " for the risk team.",
				"limitations":  "Validated on EU traffic of 2024 only; not for minors.",
				"dpia":         "docs/dpia/" + name + ".md", "fairness": "docs/fairness/" + name + ".md",
			},
			"lifecycle": map[string]any{"stage": "staging", "retire_after": "2028-06-30"},
			"rollout": map[string]any{"environment": "production", "stages": []any{
				map[string]any{"traffic": int64(5), "analysis": "30m"},
				map[string]any{"traffic": int64(50), "analysis": "1h"},
				map[string]any{"traffic": int64(100)},
			}},
		},
	}
	if i%10 == 0 { // a tenth break a few rules
		m["metadata"].(map[string]any)["owner"] = "nobody"
		m["spec"].(map[string]any)["artifact"].(map[string]any)["digest"] = "sha256:bad"
	}
	ctx := map[string]any{
		"file":     "models/" + name + "/" + version + "/model.yaml",
		"manifest": m,
		"lineage": map[string]any{
			"model_id": name, "version": version,
			"parent_models": []any{},
			"training_data": map[string]any{"versions": []any{"2024.01"}, "checksums": []any{digest}},
		},
		"graph":        generateGraph(name, i),
		"base":         nil,
		"change":       []string{"unchanged", "modified", "added"}[i%3],
		"pull_request": map[string]any{"number": int64(42), "author": "alice", "labels": []any{}, "approvals": int64(2)},
		"now":          "2026-11-25T10:00:00Z",
	}
	if i%3 == 1 {
		ctx["base"] = m
	}
	return Document{File: ctx["file"].(string), Model: name + "@" + version, Input: m, Context: ctx}
}

func generateGraph(name string, i int) map[string]any {
	g := map[string]any{
		"parents": []any{}, "ancestors": []any{}, "children": []any{}, "external": []any{},
		"cycle": []any{}, "problems": []any{}, "parent_manifests": map[string]any{},
	}
	if i%5 == 0 {
		return g
	}
	parent := fmt.Sprintf("%s@1.%d.0", name, i%5-1)
	g["parents"] = []any{parent}
	g["ancestors"] = []any{parent}
	g["parent_manifests"] = map[string]any{parent: map[string]any{
		"license": "apache-2.0", "stage": "production",
		"metrics": map[string]any{"f1": 0.8, "latency_p99_ms": int64(200)},
	}}
	return g
}
