package chatops

import (
	"context"
	"fmt"
	"strings"

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
	return Outcome{Reply: renderStatus(r.ev.Number, rollouts, locks)}, nil
}

func renderStatus(number int, rollouts []store.Rollout, locks []store.Lock) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Rollouts of #%d**\n\n", number)
	if len(rollouts) == 0 {
		b.WriteString("No rollout has been started from this pull request.\n")
	} else {
		b.WriteString("| model | version | environment | state | stage | traffic | started by |\n|---|---|---|---|---|---|---|\n")
		for _, ro := range rollouts {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d %% | @%s |\n", escapeText(ro.Model), escapeText(ro.Version),
				escapeText(ro.Environment), ro.State, ro.Stage+1, ro.TrafficPercent, escapeText(ro.StartedBy))
		}
	}
	if len(locks) > 0 {
		b.WriteString("\n**Locked environments**\n\n")
		for _, l := range locks {
			fmt.Fprintf(&b, "- `%s` by @%s since %s: %s\n", escapeText(l.Environment), escapeText(l.LockedBy),
				l.LockedAt.UTC().Format("2006-01-02 15:04 UTC"), escapeText(l.Reason))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
