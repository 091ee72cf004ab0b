// Package history tells which version of each model served which
// environment, from when to when, and who decided: it turns the store's
// rollouts, stages and audit entries into a timeline, and renders it.
package history

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/store"
)

// DefaultWebURL is github.com's web address, the base of pull request and
// deployment links.
const DefaultWebURL = "https://github.com"

// History is the timeline of some rollouts: one group per repository, model
// and environment, ordered by those three.
type History struct {
	AsOf   time.Time `json:"as_of"`
	Groups []Group   `json:"groups"`
	// Truncated says that the store held more rollouts than were read.
	Truncated bool `json:"truncated"`
}

// Group is the history of one model in one environment of a repository.
type Group struct {
	Repo           string `json:"repo"`
	Model          string `json:"model"`
	Environment    string `json:"environment"`
	DeploymentsURL string `json:"deployments_url"`
	// Live is the version serving all traffic: the latest promotion. Nil
	// when no promotion is recorded.
	Live *Serving `json:"live"`
	// Served lists every recorded promotion, newest first: each version
	// served from its promotion until the next one.
	Served []Serving `json:"served"`
	// Rollouts lists the rollouts, newest first, at most the limit.
	Rollouts []Rollout `json:"rollouts"`
	// More counts the older rollouts the limit left out.
	More int `json:"more"`
}

// Serving is one version serving all of an environment's traffic.
type Serving struct {
	Version    string     `json:"version"`
	RolloutID  int64      `json:"rollout_id"`
	PR         int        `json:"pr"`
	PRURL      string     `json:"pr_url"`
	From       time.Time  `json:"from"`
	Until      *time.Time `json:"until"` // nil while it still serves
	PromotedBy string     `json:"promoted_by"`
}

// Rollout is one rollout as the history tells it.
type Rollout struct {
	ID              int64      `json:"rollout_id"`
	PR              int        `json:"pr"`
	PRURL           string     `json:"pr_url"`
	Version         string     `json:"version"`
	BaselineVersion string     `json:"baseline_version"`
	HeadSHA         string     `json:"head_sha"`
	State           string     `json:"state"`
	Active          bool       `json:"active"`
	Live            bool       `json:"live"`
	Stage           int        `json:"stage"`           // index of the current or last stage, from 0
	TrafficPercent  int        `json:"traffic_percent"` // the most traffic it reached
	From            time.Time  `json:"from"`
	Until           *time.Time `json:"until"` // nil while active
	StartedBy       string     `json:"started_by"`
	// DecidedBy and Reason tell who ended the rollout ("modelgate" when
	// the bot decided on its own) and why; empty while active, or when the
	// end was not audited.
	DecidedBy   string       `json:"decided_by"`
	Reason      string       `json:"reason"`
	Deployments []Deployment `json:"deployments"`
	Events      []Event      `json:"events"`
}

// Deployment is the GitHub Deployment of one stage.
type Deployment struct {
	Stage          int    `json:"stage"`
	TrafficPercent int    `json:"traffic_percent"`
	ID             int64  `json:"id"`
	State          string `json:"state"`
}

// Event is one audit entry about a rollout.
type Event struct {
	At       time.Time `json:"at"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	Decision string    `json:"decision"`
	Reason   string    `json:"reason"`
}

// Records is what the store holds about some rollouts.
type Records struct {
	Rollouts  []store.Rollout
	Stages    map[int64][]store.Stage      // by rollout id
	Audit     map[int64][]store.AuditEntry // by rollout id
	Truncated bool                         // more rollouts matched than were read
}

// Options tune Build.
type Options struct {
	// Limit is how many rollouts each group lists; all when zero. Served
	// and Live consider every promotion in the records regardless.
	Limit int
	// WebURL is GitHub's web address; DefaultWebURL when empty.
	WebURL string
	// Now is the moment the history is told at.
	Now time.Time
}

// Build turns records into a history.
func Build(rec Records, opt Options) History {
	links := links{web: strings.TrimRight(opt.WebURL, "/")}
	if links.web == "" {
		links.web = DefaultWebURL
	}
	byGroup := map[groupKey][]Rollout{}
	for _, r := range rec.Rollouts {
		k := groupKey{r.Repo, r.Model, r.Environment}
		byGroup[k] = append(byGroup[k], newRollout(r, rec.Stages[r.ID], rec.Audit[r.ID], links))
	}
	h := History{AsOf: opt.Now.UTC(), Groups: []Group{}, Truncated: rec.Truncated}
	for _, k := range sortedKeys(byGroup) {
		h.Groups = append(h.Groups, newGroup(k, byGroup[k], opt.Limit, links))
	}
	return h
}

type groupKey struct{ repo, model, environment string }

func sortedKeys(m map[groupKey][]Rollout) []groupKey {
	keys := make([]groupKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.repo != b.repo {
			return a.repo < b.repo
		}
		if a.model != b.model {
			return a.model < b.model
		}
		return a.environment < b.environment
	})
	return keys
}

func newGroup(k groupKey, rs []Rollout, limit int, l links) Group {
	// Newest first: ids count creations, whatever the replicas' clocks say.
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID > rs[j].ID })
	g := Group{Repo: k.repo, Model: k.model, Environment: k.environment,
		DeploymentsURL: l.deployments(k.repo, k.environment), Served: served(rs)}
	if len(g.Served) > 0 {
		g.Live = &g.Served[0]
		for i := range rs {
			rs[i].Live = rs[i].ID == g.Live.RolloutID
		}
	}
	if limit > 0 && len(rs) > limit {
		rs, g.More = rs[:limit], len(rs)-limit
	}
	g.Rollouts = rs
	return g
}

// served lists the promotions among rs, newest first, each until the next.
func served(rs []Rollout) []Serving {
	out := []Serving{}
	for _, r := range rs {
		if r.State == store.RolloutPromoted && r.Until != nil {
			out = append(out, Serving{Version: r.Version, RolloutID: r.ID, PR: r.PR, PRURL: r.PRURL,
				From: *r.Until, PromotedBy: r.DecidedBy})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.After(out[j].From) })
	for i := 1; i < len(out); i++ {
		until := out[i-1].From
		out[i].Until = &until
	}
	return out
}

func newRollout(r store.Rollout, stages []store.Stage, audit []store.AuditEntry, l links) Rollout {
	out := Rollout{ID: r.ID, PR: r.PR, PRURL: l.pr(r.Repo, r.PR), Version: r.Version,
		BaselineVersion: r.BaselineVersion, HeadSHA: r.HeadSHA, State: r.State, Active: r.Active(),
		Stage: r.Stage, TrafficPercent: r.TrafficPercent, From: r.CreatedAt.UTC(), StartedBy: r.StartedBy,
		Deployments: []Deployment{}, Events: []Event{}}
	audit = append([]store.AuditEntry(nil), audit...)
	sort.SliceStable(audit, func(i, j int) bool { return audit[i].At.Before(audit[j].At) })
	for _, e := range audit {
		out.Events = append(out.Events, Event{At: e.At.UTC(), Action: e.Action, Actor: e.Actor,
			Decision: e.Decision, Reason: e.Reason})
		if e.Action == store.ActionRolloutStarted && out.StartedBy == "" {
			out.StartedBy = e.Actor
		}
	}
	out.Deployments = deployments(stages, audit)
	for _, d := range out.Deployments {
		if d.State == stateDeployed || deployed(d.State) {
			out.TrafficPercent = max(out.TrafficPercent, d.TrafficPercent)
		}
	}
	if !out.Active {
		out.end(r, audit)
	}
	return out
}

// end fills in when and by whom a finished rollout ended: from its last
// ending audit entry, or from the row's last update when none was written.
func (r *Rollout) end(row store.Rollout, audit []store.AuditEntry) {
	until := row.UpdatedAt.UTC()
	for _, e := range audit {
		if isEnd(e.Action) {
			until, r.DecidedBy, r.Reason = e.At.UTC(), e.Actor, e.Reason
		}
	}
	r.Until = &until
	if r.State == store.RolloutPromoted {
		r.TrafficPercent = 100
	}
}

func isEnd(action string) bool {
	switch action {
	case store.ActionRolloutPromoted, store.ActionRolloutRolledBack, store.ActionRolloutAborted, store.ActionRolloutFailed:
		return true
	}
	return false
}

// stageDetails is the Details JSON of a rollout.stage audit entry; Stage
// is the stage's index, from 0, as store.Stage.Index.
type stageDetails struct {
	Stage          *int  `json:"stage"`
	TrafficPercent int   `json:"traffic_percent"`
	DeploymentID   int64 `json:"deployment_id"`
}

// deployments lists the stages that were deployed: the stage rows, and the
// rollout.stage audit entries for stages without a row.
func deployments(stages []store.Stage, audit []store.AuditEntry) []Deployment {
	byStage := map[int]Deployment{}
	for _, st := range stages {
		if st.DeploymentID != 0 || deployed(st.State) {
			byStage[st.Index] = Deployment{Stage: st.Index, TrafficPercent: st.TrafficPercent, ID: st.DeploymentID, State: st.State}
		}
	}
	for _, e := range audit {
		var d stageDetails
		if e.Action != store.ActionRolloutStage || json.Unmarshal(e.Details, &d) != nil || d.Stage == nil {
			continue
		}
		if _, ok := byStage[*d.Stage]; !ok {
			byStage[*d.Stage] = Deployment{Stage: *d.Stage, TrafficPercent: d.TrafficPercent, ID: d.DeploymentID,
				State: stateDeployed}
		} else if prev := byStage[*d.Stage]; !deployed(prev.State) {
			// The audit says the stage deployed; its row has not caught up.
			prev.State = stateDeployed
			byStage[*d.Stage] = prev
		}
	}
	out := make([]Deployment, 0, len(byStage))
	for _, d := range byStage {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stage < out[j].Stage })
	return out
}

// stateDeployed is the state of a deployment known from its audit entry
// alone: the stage took its traffic.
const stateDeployed = "deployed"

// deployed reports whether a stage in state took its traffic.
func deployed(state string) bool {
	switch state {
	case store.StageAnalyzing, store.StagePassed, store.StageFailed:
		return true
	}
	return false
}

// links builds GitHub web addresses.
type links struct{ web string }

func (l links) pr(repo string, n int) string {
	if n == 0 {
		return ""
	}
	return l.web + "/" + escapeRepo(repo) + "/pull/" + strconv.Itoa(n)
}

func (l links) deployments(repo, environment string) string {
	return l.web + "/" + escapeRepo(repo) + "/deployments/" + escapeSegment(environment)
}

// escapeRepo escapes each segment of owner/name for a URL path.
func escapeRepo(repo string) string {
	parts := strings.Split(repo, "/")
	for i, p := range parts {
		parts[i] = escapeSegment(p)
	}
	return strings.Join(parts, "/")
}

// escapeSegment escapes s for one segment of a URL path, @ included, so
// that no text in a link reads as a mention.
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "@", "%40")
}
