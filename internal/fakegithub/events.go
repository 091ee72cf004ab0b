package fakegithub

import (
	"bytes"
	"encoding/json"
)

// The *Event methods build webhook payloads for what the fake holds: GitHub's
// example for the event, with the repository, the installation, the sender
// and the event's objects replaced by the fake's own (as its API renders
// them), so that a delivery and the API agree on ids, SHAs and URLs.

// CommentEvent returns an issue_comment payload ("created", "edited" or
// "deleted") for a comment the fake holds, sent by the comment's author.
func (s *Server) CommentEvent(t T, repo string, commentID int64, action string) map[string]any {
	t.Helper()
	m := LoadWebhook(t, "issue_comment."+action)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.known(t, repo)
	for _, c := range r.comments {
		if c.ID == commentID {
			s.fill(t, m, r, c.User, map[string]any{"comment": s.comment(r, c), "issue": s.issue(r, c.Issue)})
			return m
		}
	}
	t.Fatalf("fakegithub: CommentEvent: no comment %d in %s", commentID, repo)
	return nil
}

// PullRequestEvent returns a pull_request payload ("opened", "synchronize",
// "closed") for a pull request the fake holds, sent by its author.
func (s *Server) PullRequestEvent(t T, repo string, number int, action string) map[string]any {
	t.Helper()
	m := LoadWebhook(t, "pull_request."+action)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.known(t, repo)
	pr, ok := r.pulls[number]
	if !ok {
		t.Fatalf("fakegithub: PullRequestEvent: no pull request %s#%d", repo, number)
	}
	s.fill(t, m, r, pr.Author, map[string]any{"number": number, "pull_request": s.pull(r, pr)})
	if action == "synchronize" {
		m["before"], m["after"] = fakeSHA(pr.HeadSHA), pr.HeadSHA
	}
	return m
}

// DeploymentEvent returns a deployment.created payload for a deployment the
// fake holds, sent by its creator.
func (s *Server) DeploymentEvent(t T, repo string, deploymentID int64) map[string]any {
	t.Helper()
	m := LoadWebhook(t, "deployment.created")
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.known(t, repo)
	d := r.deployment(deploymentID)
	if d == nil {
		t.Fatalf("fakegithub: DeploymentEvent: no deployment %d in %s", deploymentID, repo)
	}
	s.fill(t, m, r, d.Creator, map[string]any{"deployment": s.deployment(r, d)})
	return m
}

// DeploymentStatusEvent returns a deployment_status.created payload for a
// deployment status the fake holds, sent by its creator.
func (s *Server) DeploymentStatusEvent(t T, repo string, statusID int64) map[string]any {
	t.Helper()
	m := LoadWebhook(t, "deployment_status.created")
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.known(t, repo)
	for _, st := range r.depStatuses {
		if st.ID == statusID {
			d := r.deployment(st.DeploymentID)
			s.fill(t, m, r, st.Creator, map[string]any{
				"deployment": s.deployment(r, d), "deployment_status": s.deploymentStatus(r, st),
			})
			return m
		}
	}
	t.Fatalf("fakegithub: DeploymentStatusEvent: no deployment status %d in %s", statusID, repo)
	return nil
}

// known returns a repository the fake holds; s.mu must be held.
func (s *Server) known(t T, repo string) *repoState {
	t.Helper()
	r, ok := s.repos[repo]
	if !ok {
		t.Fatalf("fakegithub: no repository %s", repo)
	}
	return r
}

// fill replaces the common fields of a payload and sets fields, each
// converted to the types LoadWebhook gives; s.mu must be held.
func (s *Server) fill(t T, m map[string]any, r *repoState, sender string, fields map[string]any) {
	t.Helper()
	fields["repository"] = s.repository(r)
	fields["sender"] = s.user(sender)
	fields["installation"] = map[string]any{"id": InstallationID, "node_id": nodeID("Installation", InstallationID)}
	delete(m, "organization")
	for k, v := range fields {
		m[k] = asPayload(t, v)
	}
}

// asPayload converts a rendered value to plain JSON types with json.Number.
func asPayload(t T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("fakegithub: encode payload: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("fakegithub: decode payload: %v", err)
	}
	return out
}
