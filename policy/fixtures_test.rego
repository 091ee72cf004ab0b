# METADATA
# title: Test fixtures of the default bundle
# description: |
#   A compliant high-risk model and its context; tests patch them. A test
#   evaluates a rule on a context c `with input as c.manifest with
#   data.modelgate.context as c`: the manifest is the input, and the context
#   holds it too, as the action gives them.
package modelgate.fixtures

digest := "sha256:a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2a1b2"

manifest := {
	"apiVersion": "modelgate.dev/v1",
	"kind": "Model",
	"metadata": {
		"name": "fraud-detector",
		"version": "3.2.0",
		"owner": "risk-ml@example.com",
		"labels": {"team": "risk"},
	},
	"spec": {
		"framework": "pytorch",
		"task": "classification",
		"artifact": {"uri": "s3://models/fraud-detector/3.2.0/model.pt", "digest": digest},
		"lineage": "lineage.json",
		"metrics": {"f1": 0.95, "latency_p99_ms": 45, "memory_mb": 2300, "cost_per_call_usd": 0.0012},
		"governance": {
			"risk_tier": "high",
			"license": "apache-2.0",
			"intended_use": "Score card transactions for fraud before authorization.",
			"limitations": "Not validated for merchants outside the EU or for B2B payments.",
			"pii": true,
			"dpia": "docs/dpia/fraud.md",
			"fairness": "docs/fairness/fraud-detector-3.2.0.md",
		},
		"lifecycle": {"stage": "staging", "retire_after": "2027-06-30"},
		"rollout": {
			"environment": "production",
			"baseline": "3.1.0",
			"stages": [{"traffic": 5, "analysis": "30m"}, {"traffic": 25, "analysis": "1h"}, {"traffic": 100}],
		},
	},
}

lineage := {
	"model_id": "fraud-detector",
	"version": "3.2.0",
	"parent_models": ["fraud-detector@3.1.0", "bert_base"],
	"training_data": {
		"versions": ["2024.03.15", "2024.03.16"],
		"checksums": [digest, digest],
	},
}

graph := {
	"parents": ["fraud-detector@3.1.0", "bert_base"],
	"ancestors": ["fraud-detector@3.1.0", "bert_base"],
	"children": [],
	"external": ["bert_base"],
	"cycle": [],
	"problems": [],
	"parent_manifests": {"fraud-detector@3.1.0": {
		"license": "apache-2.0",
		"stage": "production",
		"metrics": {"f1": 0.94, "latency_p99_ms": 44, "memory_mb": 2300, "cost_per_call_usd": 0.0012},
	}},
}

# context_for builds modelgate's context of a manifest (data.modelgate.context).
context_for(m) := {
	"file": "models/fraud-detector/model.yaml",
	"manifest": m,
	"lineage": lineage,
	"graph": graph,
	"base": null,
	"change": "added",
	"pull_request": {"number": 7, "author": "alice", "labels": [], "approvals": 2},
	"now": "2026-11-25T10:00:00Z",
}

good := context_for(manifest)

# with_manifest is the context of the fixture manifest with JSON patches applied.
with_manifest(patches) := context_for(json.patch(manifest, patches))

# with_context applies JSON patches to the whole context (graph, base, …);
# patches of /manifest change the input too.
with_context(patches) := json.patch(good, patches)

# paths lists the paths of a set of findings.
paths(findings) := {f.path | some f in findings}

# messages lists the messages of a set of findings.
messages(findings) := {f.msg | some f in findings}
