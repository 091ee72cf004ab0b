// Package live answers "which version of each model serves which
// environment now", from the bot's store or the repository's GitHub
// Deployments.
package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Serving is one model version taking traffic in an environment.
type Serving struct {
	Model          string
	Version        string
	Environment    string
	TrafficPercent float64
	// Canary is true for the version an unfinished rollout is trying out;
	// the stable version shares the environment with it.
	Canary bool
	// Since is when the version took its current share of the traffic (the
	// promotion for the stable version, the stage for a canary); zero when
	// unknown (a baseline that was deployed before modelgate).
	Since time.Time
}

// Snapshot is what one source knows of the environments now.
type Snapshot struct {
	Source  string // "store" or "github"
	Serving []Serving
	// Calls counts the requests the source made (queries or API calls).
	Calls int
	// Truncated says that older history was not read: a model whose last
	// promotion is older may be missing.
	Truncated bool
	// Skipped are the errors of sources tried before this one.
	Skipped []error
}

// Of returns where model@version serves, by environment, the stable
// version before the canary.
func (s Snapshot) Of(model, version string) []Serving {
	var out []Serving
	for _, sv := range s.Serving {
		if sv.Model == model && sv.Version == version {
			out = append(out, sv)
		}
	}
	return out
}

// Source is a place that knows which versions serve.
type Source interface {
	// Name names the source in messages: "store", "github".
	Name() string
	Snapshot(ctx context.Context) (Snapshot, error)
}

// ErrNoSource is First's error when it is given no source at all.
var ErrNoSource = errors.New("no live source configured")

// First returns the snapshot of the first source that answers, with the
// errors of those tried before it; when none answers, an error naming
// every source and why it failed.
func First(ctx context.Context, sources []Source) (Snapshot, error) {
	if len(sources) == 0 {
		return Snapshot{}, ErrNoSource
	}
	var failed []error
	for _, src := range sources {
		snap, err := src.Snapshot(ctx)
		if err == nil {
			snap.Source, snap.Skipped = src.Name(), failed
			return snap, nil
		}
		failed = append(failed, fmt.Errorf("%s: %w", src.Name(), err))
	}
	return Snapshot{}, unreachable(failed)
}

// unreachable is First's error when no source answered: why each failed.
type unreachable []error

func (u unreachable) Error() string {
	msgs := make([]string, len(u))
	for i, err := range u {
		msgs[i] = err.Error()
	}
	return "no live source reachable: " + strings.Join(msgs, "; ")
}

func (u unreachable) Unwrap() []error { return u }

// Unavailable is a source that could not even be set up (a missing token,
// a missing flag): it fails with err, so that First names it among the
// sources tried.
func Unavailable(name string, err error) Source { return unavailable{name, err} }

type unavailable struct {
	name string
	err  error
}

func (u unavailable) Name() string                               { return u.name }
func (u unavailable) Snapshot(context.Context) (Snapshot, error) { return Snapshot{}, u.err }

// key is one model in one environment.
type key struct{ model, environment string }

// traffic is what a source found for one model in one environment: the
// version promoted last, and the canary of an unfinished rollout.
type traffic struct {
	stable   *Serving
	canary   *Serving
	baseline string // the canary's baseline, for when nothing was promoted
}

// serving splits the environment's traffic between the stable version and
// the canary. Without a promotion on record, the canary's baseline is the
// stable version.
func (r traffic) serving(k key) []Serving {
	var out []Serving
	stable := r.stable
	if stable == nil && r.canary != nil && r.baseline != "" && r.baseline != r.canary.Version {
		stable = &Serving{Version: r.baseline}
	}
	if stable != nil {
		s := *stable
		s.Model, s.Environment, s.Canary, s.TrafficPercent = k.model, k.environment, false, 100
		if r.canary != nil {
			s.TrafficPercent = max(0, 100-r.canary.TrafficPercent)
		}
		if s.TrafficPercent > 0 { // a canary at 100 % not promoted yet takes it all
			out = append(out, s)
		}
	}
	if r.canary != nil {
		c := *r.canary
		c.Model, c.Environment, c.Canary = k.model, k.environment, true
		out = append(out, c)
	}
	return out
}

// flatten lists the serving versions of every key in model, environment
// order.
func flatten(found map[key]traffic) []Serving {
	var out []Serving
	for _, k := range sortedKeys(found) {
		out = append(out, found[k].serving(k)...)
	}
	return out
}

// sortedKeys lists a map's keys by model, then environment.
func sortedKeys[V any](m map[key]V) []key {
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.model, b.model), cmp.Compare(a.environment, b.environment))
	})
	return keys
}
