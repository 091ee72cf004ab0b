package chatops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/pkg/history"
	"github.com/modelgate/modelgate/pkg/markdown"
	"github.com/modelgate/modelgate/pkg/store"
)

// status answers /status from the store alone: no GitHub reads.
func (s *Service) status(ctx context.Context, r *run) (Outcome, error) {
	repo := r.ev.Repo.FullName()
	rollouts, err := s.Store.ListRollouts(ctx, store.RolloutFilter{Repo: repo, PR: r.ev.Number, Limit: 10})
	if err != nil {
		return Outcome{}, err
	}
	locks, err := s.Store.ListLocks(ctx, repo)
	if err != nil {
		return Outcome{}, err
	}
	reply := renderStatus(r.ev.Number, rollouts, locks)
	past, err := s.history(ctx, repo, rollouts)
	if err != nil {
		return Outcome{}, err
	}
	if past != "" {
		reply += "\n\n**Which version served where**\n\n" + past
	}
	return Outcome{Reply: reply}, nil
}

// historyPerModel is how many rollouts of each model and environment
// /status lists.
const historyPerModel = 3

// history is the recent history of the models this pull request rolled
// out: which version is live in each environment, and the last rollouts.
func (s *Service) history(ctx context.Context, repo string, rollouts []store.Rollout) (string, error) {
	var models []string
	for _, ro := range rollouts {
		if !slices.Contains(models, ro.Model) {
			models = append(models, ro.Model)
		}
	}
	if len(models) == 0 {
		return "", nil
	}
	rec, err := history.Load(ctx, s.Store, history.Query{Repo: repo, Models: models, Limit: historyPerModel})
	if err != nil {
		return "", fmt.Errorf("history of %s: %w", strings.Join(models, ", "), err)
	}
	return history.Summary(history.Build(rec, history.Options{Limit: historyPerModel, WebURL: s.WebURL, Now: s.now()}), historyPerModel), nil
}

func renderStatus(number int, rollouts []store.Rollout, locks []store.Lock) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Rollouts of #%d**\n\n", number)
	if len(rollouts) == 0 {
		b.WriteString("No rollout has been started from this pull request.\n")
	} else {
		b.WriteString("| model | version | environment | state | stage | traffic | started by |\n|---|---|---|---|---|---|---|\n")
		for _, ro := range rollouts {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d %% | @%s |\n", markdown.Text(ro.Model), markdown.Text(ro.Version),
				markdown.Text(ro.Environment), ro.State, ro.Stage+1, ro.TrafficPercent, markdown.Text(ro.StartedBy))
		}
	}
	if len(locks) > 0 {
		b.WriteString("\n**Locked environments**\n\n")
		for _, l := range locks {
			fmt.Fprintf(&b, "- `%s` by @%s since %s: %s\n", markdown.Text(l.Environment), markdown.Text(l.LockedBy),
				l.LockedAt.UTC().Format("2006-01-02 15:04 UTC"), markdown.Text(l.Reason))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
