package handler

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/modelgate/modelgate/pkg/canary/event"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// recorder takes every event a handler passes on, and every client it asks for.
type recorder struct {
	comments []chatops.CommentEvent
	statuses []event.DeploymentStatus
	pulls    []event.PullRequest
	forgot   []int64
}

func (r *recorder) Relevant(chatops.CommentEvent) bool { return true }
func (r *recorder) HandleComment(_ context.Context, _ chatops.GitHub, ev chatops.CommentEvent) error {
	r.comments = append(r.comments, ev)
	return nil
}
func (r *recorder) HandleDeploymentStatus(_ context.Context, ev event.DeploymentStatus) error {
	r.statuses = append(r.statuses, ev)
	return nil
}
func (r *recorder) HandlePullRequest(_ context.Context, ev event.PullRequest) error {
	r.pulls = append(r.pulls, ev)
	return nil
}
func (r *recorder) Forget(id int64) { r.forgot = append(r.forgot, id) }
func (r *recorder) ForInstallation(int64) (*gh.Client, error) {
	return &gh.Client{GitHub: github.NewClient(nil)}, nil
}

// fuzzed are the handlers under the fuzz target, by the event they take.
var fuzzed = []string{"issue_comment", "deployment_status", "pull_request", "installation"}

func handlerFor(event string, r *recorder) githubapp.EventHandler {
	switch event {
	case "issue_comment":
		return &IssueComment{Clients: r, Commands: r}
	case "deployment_status":
		return DeploymentStatus{Rollouts: r}
	case "pull_request":
		return PullRequest{Rollouts: r}
	}
	return Installation{Clients: r}
}

// wrongShapes are GitHub's example payload of event, each with one value
// (down to the third level) made null, removed, or of another type.
func wrongShapes(t testing.TB, fixture string) [][]byte {
	raw, err := os.ReadFile("../../testdata/webhooks/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := [][]byte{raw}
	var walk func(m map[string]any, depth int)
	walk = func(m map[string]any, depth int) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := m[k]
			for _, other := range []any{nil, "deleted", 7, "x", []any{}} {
				if s, ok := other.(string); ok && s == "deleted" {
					delete(m, k)
				} else {
					m[k] = other
				}
				b, _ := json.Marshal(doc)
				out = append(out, b)
				m[k] = v
			}
			if child, ok := v.(map[string]any); ok && depth < 3 {
				walk(child, depth+1)
			}
		}
	}
	walk(doc, 1)
	return out
}

// FuzzHandlers feeds every webhook handler valid JSON of the wrong shape
// (null users, missing objects, values of other types): none may panic,
// each fails permanently (a retry would meet the same bytes) or ignores
// the event, and what it passes on names a repository and its subject.
func FuzzHandlers(f *testing.F) {
	fixtures := map[string][]string{
		"issue_comment":     {"issue_comment.created.json", "issue_comment.edited.json"},
		"deployment_status": {"deployment_status.created.json"},
		"pull_request":      {"pull_request.closed.json", "pull_request.synchronize.json"},
		"installation":      {"installation.created.json"},
	}
	for i, ev := range fuzzed {
		for _, fx := range fixtures[ev] {
			for _, p := range wrongShapes(f, fx) {
				f.Add(uint8(i), p)
			}
		}
	}
	for _, p := range []string{`null`, `[]`, `"x"`, `7`, `{}`, `{"action":null}`,
		`{"comment":{"body":"/help","user":null},"issue":{"number":1,"pull_request":{}},"repository":{"name":"r","owner":{"login":"o"}}}`} {
		for i := range fuzzed {
			f.Add(uint8(i), []byte(p))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		ev := fuzzed[int(which)%len(fuzzed)]
		r := &recorder{}
		err := handlerFor(ev, r).Handle(context.Background(), githubapp.Event{Type: ev, DeliveryID: "d", Payload: payload})
		if err != nil && !githubapp.IsPermanent(err) {
			t.Fatalf("%s: a retry would meet the same bytes, yet the error is not permanent: %v", ev, err)
		}
		for _, c := range r.comments {
			if !named(c.Repo) || c.Number <= 0 || c.CommentID <= 0 || c.Commenter == "" {
				t.Fatalf("issue_comment passed on without its repository, issue, comment or commenter: %+v", c)
			}
		}
		for _, s := range r.statuses {
			if !named(s.Repo) || s.DeploymentID <= 0 {
				t.Fatalf("deployment_status passed on without its repository or deployment: %+v", s)
			}
		}
		for _, p := range r.pulls {
			if !named(p.Repo) || p.Number <= 0 {
				t.Fatalf("pull_request passed on without its repository or number: %+v", p)
			}
		}
		if slices.Contains(r.forgot, 0) {
			t.Fatal("installation forgot installation 0")
		}
	})
}

func named(r gh.Repo) bool { return r.Owner != "" && r.Name != "" }
