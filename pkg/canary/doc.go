// Package canary keeps each canary rollout's durable record and moves it
// through the state machine of pkg/rollout: a transition stores the new
// state together with the effects it asks for (the outbox) in one write,
// before anything touches GitHub. A look at the metrics is judged behind
// Analyzer (MetricsAnalyzer: the providers and pkg/judge).
//
// The parts that drive it live beside it, each with the narrow interfaces
// it needs: command (the ChatOps verbs, their gates and replies), effect
// (the outbox carried out on GitHub), event (deployment statuses and pull
// requests), schedule (the due jobs) and engine (the wiring of them all).
package canary
