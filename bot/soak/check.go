package soak

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

// markers are the hidden markers of the bot's comments: a rollout's
// status comment, its notices by sequence number, a command's reply.
var markers = regexp.MustCompile(`<!-- modelgate:(?:rollout=\d+:(?:status|note=\d+)|command=\d+:reply) -->`)

// check holds the fake's state and the store to the invariants.
func (s *soak) check() {
	ctx := context.Background()
	for _, v := range s.gh.Violations() {
		s.violate("GitHub would refuse: %s", v)
	}
	deployments := map[int64][]fakegithub.Deployment{}
	for _, dep := range s.gh.Deployments(repo) {
		p := payloadOf(dep)
		deployments[p.RolloutID] = append(deployments[p.RolloutID], dep)
	}
	for _, l := range s.launches {
		rows, err := s.st.ListRollouts(ctx, store.RolloutFilter{Repo: repo, PR: l.pr})
		if err != nil {
			s.violate("#%d: list rollouts: %v", l.pr, err)
			continue
		}
		if len(rows) != 1 {
			var states []string
			for _, ro := range rows {
				states = append(states, fmt.Sprintf("%d %s (%s)", ro.ID, ro.State, ro.StartedBy))
			}
			s.violate("#%d: %d rollouts, want 1 (its /canary lost or run twice): %v", l.pr, len(rows), states)
			continue
		}
		ro := rows[0]
		s.count(ro.State)
		if ro.State != l.want() {
			s.violate("#%d (%s): ended %s (%s), its metrics call for %s", l.pr, l.model, ro.State, reason(ro), l.want())
		}
		if strings.Contains(string(ro.Record), `"outbox"`) {
			s.violate("#%d: effects left undone: %s", l.pr, ro.Record)
		}
		s.checkDeployments(l, ro, deployments[ro.ID])
		s.checkComments(l)
		s.checkAudit(ctx, l, ro, deployments[ro.ID])
	}
	s.checkQueues(ctx)
}

func (s *soak) count(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res.Rollouts++
	switch state {
	case store.RolloutPromoted:
		s.res.Promoted++
	case store.RolloutRolledBack:
		s.res.RolledBack++
	}
}

// stages are the plan's deployments, in order.
var stages = []string{"deploy:canary@10", "deploy:canary@50", "deploy:promote@100"}

// checkDeployments: the stages its metrics call for, each deployed once:
// all of them for a healthy version; for a regressed one, the canary
// stages up to the one whose looks caught it (the judge keeps its
// false-rollback budget, so a small stage may pass), then the rollback.
func (s *soak) checkDeployments(l *launch, ro store.Rollout, deps []fakegithub.Deployment) {
	var got []string
	for _, dep := range deps {
		got = append(got, fmt.Sprintf("%s@%g", dep.Task, payloadOf(dep).TrafficPercent))
	}
	if !l.regressed {
		if !slices.Equal(got, stages) {
			s.violate("#%d (rollout %d): deployments %v, want %v", l.pr, ro.ID, got, stages)
		}
		return
	}
	n := len(got) - 1
	if n < 1 || n >= len(stages) || got[n] != "deploy:rollback@0" || !slices.Equal(got[:n], stages[:n]) {
		s.violate("#%d (rollout %d): deployments %v, want canary stages of %v, then deploy:rollback@0", l.pr, ro.ID, got, stages[:len(stages)-1])
	}
}

// checkComments: one status comment, each notice once, one reply and one
// reaction to the command.
func (s *soak) checkComments(l *launch) {
	seen := map[string]int{}
	replies := 0
	for _, c := range s.gh.Comments(repo, l.pr) {
		if c.User != fakegithub.BotLogin() {
			continue
		}
		for _, m := range markers.FindAllString(c.Body, -1) {
			seen[m]++
		}
		if strings.HasPrefix(c.Body, "> /canary") {
			replies++
		}
	}
	for m, n := range seen {
		if n > 1 {
			s.violate("#%d: %d comments carry %s", l.pr, n, m)
		}
	}
	if replies != 1 {
		s.violate("#%d: %d replies to /canary, want 1", l.pr, replies)
	}
	if n := len(s.gh.Reactions(repo, l.comment)); n != 1 {
		s.violate("#%d: %d reactions to /canary, want 1", l.pr, n)
	}
}

// checkAudit: the command, the start, every stage deployed, each pause
// with its resume, and the end, each once.
func (s *soak) checkAudit(ctx context.Context, l *launch, ro store.Rollout, deps []fakegithub.Deployment) {
	entries, err := s.st.ListAudit(ctx, store.AuditFilter{Repo: repo, PR: l.pr})
	if err != nil {
		s.violate("#%d: audit: %v", l.pr, err)
		return
	}
	n := map[store.AuditAction]int{}
	for _, e := range entries {
		n[e.Action]++
	}
	stages := 0
	for _, dep := range deps {
		if dep.Task != "deploy:rollback" {
			stages++
		}
	}
	end := store.AuditAction("rollout." + ro.State)
	want := map[store.AuditAction]int{store.CommandAction("canary"): 1, store.ActionRolloutStarted: 1,
		store.ActionRolloutStage: stages, end: 1}
	for action, k := range want {
		if n[action] != k {
			s.violate("#%d: %d audit entries %s, want %d", l.pr, n[action], action, k)
		}
	}
	if p, r := n[store.ActionRolloutPaused], n[store.ActionRolloutResumed]; p != r {
		s.violate("#%d: %d pauses and %d resumes in the audit log", l.pr, p, r)
	}
}

// checkQueues: every delivery done once, no job done twice, none left.
func (s *soak) checkQueues(ctx context.Context) {
	for _, id := range s.github.acceptedIDs() {
		j, err := s.st.Queue().Get(ctx, githubapp.DeliveryQueue, id)
		switch {
		case err != nil:
			s.violate("delivery %s was answered 202 but is not in the queue: %v", id, err)
		case j.State != queue.Done || j.Completions != 1:
			s.violate("delivery %s: %s, completed %d times, want done once (%s)", id, j.State, j.Completions, j.LastError)
		}
	}
	for _, name := range []string{githubapp.DeliveryQueue, canary.JobQueue} {
		st, err := s.st.Queue().Stats(ctx, name)
		if err != nil {
			s.violate("queue %s: %v", name, err)
			continue
		}
		if st.CompletedTwice > 0 {
			s.violate("queue %s: %d jobs completed twice", name, st.CompletedTwice)
		}
		if st.ByState[queue.Running] > 0 {
			s.violate("queue %s: %d jobs still running after every bot stopped", name, st.ByState[queue.Running])
		}
		// A rollout job may fail when a twin stands for it (the queue's
		// design); a delivery may not.
		if name == githubapp.DeliveryQueue && st.ByState[queue.Pending]+st.ByState[queue.Failed] > 0 {
			s.violate("queue %s: %d deliveries pending and %d failed", name, st.ByState[queue.Pending], st.ByState[queue.Failed])
		}
	}
}
