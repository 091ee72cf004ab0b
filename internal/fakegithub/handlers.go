package fakegithub

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// handler answers one operation; it runs with s.mu held.
type handler func(s *Server, w http.ResponseWriter, c *call)

// handlers maps "METHOD /path/{template}" to the handler of the operation.
var handlers = map[string]handler{
	"POST /app/installations/{installation_id}/access_tokens":           (*Server).createToken,
	"GET /repos/{owner}/{repo}/installation":                            (*Server).getInstallation,
	"GET /repos/{owner}/{repo}":                                         (*Server).getRepo,
	"GET /repos/{owner}/{repo}/issues/{issue_number}":                   (*Server).getIssue,
	"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":          (*Server).listComments,
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":         (*Server).createComment,
	"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":          (*Server).updateComment,
	"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": (*Server).createReaction,
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission":     (*Server).getPermission,
	"GET /repos/{owner}/{repo}/pulls/{pull_number}":                     (*Server).getPull,
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":             (*Server).listReviews,
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/files":               (*Server).listFiles,
	"GET /repos/{owner}/{repo}/contents/{path}":                         (*Server).getContents,
	"GET /repos/{owner}/{repo}/deployments":                             (*Server).listDeployments,
	"POST /repos/{owner}/{repo}/deployments":                            (*Server).createDeployment,
	"GET /repos/{owner}/{repo}/deployments/{deployment_id}":             (*Server).getDeployment,
	"GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses":    (*Server).listDeploymentStatuses,
	"POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses":   (*Server).createDeploymentStatus,
	"GET /repos/{owner}/{repo}/commits/{ref}/status":                    (*Server).getCombinedStatus,
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":                (*Server).listCheckRuns,
}

// handle runs the handler of a validated call. An operation of the subset
// without a handler is the fake's gap, answered 501 and reported, so that no
// test passes on it.
func (s *Server) handle(w http.ResponseWriter, rec *Request, c *call) {
	h, ok := handlers[c.route]
	if !ok {
		s.violate(rec, "fakegithub has no handler for %s (add one in handlers.go)", c.route)
		writeError(w, http.StatusNotImplemented, "fakegithub: no handler for "+c.route)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h(s, w, c)
}

// repoOf returns the call's repository, or answers 404.
func (s *Server) repoOf(w http.ResponseWriter, c *call) *repoState {
	r, ok := s.repos[c.params["owner"]+"/"+c.params["repo"]]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil
	}
	return r
}

// caller is the login behind the call's token: the App's bot.
func (s *Server) caller(c *call) string { return BotLogin() }

// field returns a string field of the JSON body.
func (c *call) field(name string) (string, bool) {
	m, _ := c.body.(map[string]any)
	v, ok := m[name].(string)
	return v, ok
}

// intParam returns a numeric path parameter (the router has checked it).
func (c *call) intParam(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

// page cuts a list to the page and per_page query parameters and sets the
// Link header GitHub sends.
func page[T any](w http.ResponseWriter, c *call, items []T) []T {
	per, _ := strconv.Atoi(c.query.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100) // GitHub's largest page
	pg, _ := strconv.Atoi(c.query.Get("page"))
	if pg <= 0 {
		pg = 1
	}
	start := len(items)
	if pg-1 < len(items)/per+1 {
		start = min((pg-1)*per, len(items))
	}
	end := min(start+per, len(items))
	if end < len(items) {
		q := c.query
		q.Set("page", strconv.Itoa(pg+1))
		q.Set("per_page", strconv.Itoa(per))
		w.Header().Set("Link", "<"+c.self+"?"+q.Encode()+`>; rel="next"`)
	}
	return items[start:end]
}

func (s *Server) createToken(w http.ResponseWriter, c *call) {
	if c.intParam("installation_id") != InstallationID {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	tok := s.issueToken()
	writeJSON(w, http.StatusCreated, obj{
		"token": tok, "expires_at": stamp(s.tokens[tok].expires),
		"permissions":          obj{"contents": "read", "issues": "write", "pull_requests": "write", "deployments": "write", "statuses": "read", "checks": "read", "metadata": "read"},
		"repository_selection": "all",
	})
}

func (s *Server) getInstallation(w http.ResponseWriter, c *call) {
	if s.repoOf(w, c) == nil {
		return
	}
	owner := c.params["owner"]
	id := strconv.FormatInt(InstallationID, 10)
	created := stamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	writeJSON(w, http.StatusOK, obj{
		"id": InstallationID, "app_id": AppID, "app_slug": AppSlug, "client_id": "Iv1.fake",
		"account": s.user(owner), "target_id": userID(owner), "target_type": "Organization",
		"repository_selection": "all", "single_file_name": nil, "single_file_paths": []string{},
		"access_tokens_url": s.api() + "/app/installations/" + id + "/access_tokens",
		"repositories_url":  s.api() + "/installation/repositories",
		"html_url":          webURL + "/organizations/" + owner + "/settings/installations/" + id,
		"events":            []string{"issue_comment", "pull_request", "deployment", "deployment_status"},
		"permissions":       obj{"contents": "read", "issues": "write", "pull_requests": "write", "deployments": "write", "statuses": "read", "checks": "read", "metadata": "read"},
		"created_at":        created, "updated_at": created,
		"suspended_by": nil, "suspended_at": nil, "has_multiple_single_files": false,
	})
}

func (s *Server) getRepo(w http.ResponseWriter, c *call) {
	if r := s.repoOf(w, c); r != nil {
		writeJSON(w, http.StatusOK, s.repository(r))
	}
}

func (s *Server) getIssue(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	n := int(c.intParam("issue_number"))
	if _, ok := r.issues[n]; !ok && r.pulls[n] == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.issue(r, n))
}

// hasIssue reports whether number is an issue or a pull request of r.
func (r *repoState) hasIssue(number int) bool {
	_, issue := r.issues[number]
	_, pull := r.pulls[number]
	return issue || pull
}

func (s *Server) listComments(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	n := int(c.intParam("issue_number"))
	if !r.hasIssue(n) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	var out []obj
	for _, cm := range r.comments {
		if cm.Issue == n {
			out = append(out, s.comment(r, cm))
		}
	}
	writeJSON(w, http.StatusOK, nonNil(page(w, c, out)))
}

func (s *Server) createComment(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	n := int(c.intParam("issue_number"))
	if !r.hasIssue(n) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, _ := c.field("body")
	cm := s.addComment(r, n, s.caller(c), body)
	w.Header().Set("Location", s.repoURL(r)+"/issues/comments/"+strconv.FormatInt(cm.ID, 10))
	writeJSON(w, http.StatusCreated, s.comment(r, cm))
}

// findComment returns the comment of the call, or answers 404.
func (s *Server) findComment(w http.ResponseWriter, r *repoState, c *call) *Comment {
	id := c.intParam("comment_id")
	for _, cm := range r.comments {
		if cm.ID == id {
			return cm
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return nil
}

func (s *Server) updateComment(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	cm := s.findComment(w, r, c)
	if cm == nil {
		return
	}
	cm.Body, _ = c.field("body")
	cm.UpdatedAt = s.now().UTC().Truncate(time.Second)
	writeJSON(w, http.StatusOK, s.comment(r, cm))
}

func (s *Server) createReaction(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	cm := s.findComment(w, r, c)
	if cm == nil {
		return
	}
	content, _ := c.field("content")
	user := s.caller(c)
	for _, rc := range r.reactions {
		if rc.CommentID == cm.ID && rc.User == user && rc.Content == content {
			writeJSON(w, http.StatusOK, s.reaction(rc)) // GitHub answers 200 for a repeat
			return
		}
	}
	rc := Reaction{ID: s.id(), CommentID: cm.ID, User: user, Content: content, CreatedAt: s.now().UTC().Truncate(time.Second)}
	r.reactions = append(r.reactions, rc)
	writeJSON(w, http.StatusCreated, s.reaction(rc))
}

// legacyPermission maps a role to the permission field GitHub returns.
var legacyPermission = map[string]string{
	"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none",
}

func (s *Server) getPermission(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	login := c.params["username"]
	role := r.permission(login)
	u := s.user(login)
	u["permissions"] = obj{
		"admin": role == "admin", "maintain": slices.Contains([]string{"admin", "maintain"}, role),
		"push":   slices.Contains([]string{"admin", "maintain", "write"}, role),
		"triage": slices.Contains([]string{"admin", "maintain", "write", "triage"}, role),
		"pull":   role != "none",
	}
	u["role_name"] = role
	writeJSON(w, http.StatusOK, obj{"permission": legacyPermission[role], "role_name": role, "user": u})
}

// findPull returns the pull request of the call, or answers 404.
func (s *Server) findPull(w http.ResponseWriter, c *call) (*repoState, *PullRequest) {
	r := s.repoOf(w, c)
	if r == nil {
		return nil, nil
	}
	pr, ok := r.pulls[int(c.intParam("pull_number"))]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, nil
	}
	return r, pr
}

func (s *Server) getPull(w http.ResponseWriter, c *call) {
	if r, pr := s.findPull(w, c); pr != nil {
		writeJSON(w, http.StatusOK, s.pull(r, pr))
	}
}

func (s *Server) listReviews(w http.ResponseWriter, c *call) {
	r, pr := s.findPull(w, c)
	if pr == nil {
		return
	}
	var out []obj
	for _, rv := range r.reviews[pr.Number] {
		html := webURL + "/" + r.FullName + "/pull/" + itoa(pr.Number) + "#pullrequestreview-" + strconv.FormatInt(rv.ID, 10)
		pu := s.repoURL(r) + "/pulls/" + itoa(pr.Number)
		out = append(out, obj{
			"id": rv.ID, "node_id": nodeID("PullRequestReview", rv.ID), "user": s.user(rv.User),
			"body": rv.Body, "state": rv.State, "commit_id": rv.CommitID, "html_url": html,
			"pull_request_url": pu, "author_association": "COLLABORATOR",
			"submitted_at": stamp(rv.SubmittedAt),
			"_links":       obj{"html": link(html), "pull_request": link(pu)},
		})
	}
	writeJSON(w, http.StatusOK, nonNil(page(w, c, out)))
}

func (s *Server) listFiles(w http.ResponseWriter, c *call) {
	r, pr := s.findPull(w, c)
	if pr == nil {
		return
	}
	var out []obj
	for _, f := range pr.Files {
		status := f.Status
		if status == "" {
			status = "modified"
		}
		o := obj{
			"sha": fakeSHA(pr.HeadSHA + ":" + f.Filename), "filename": f.Filename, "status": status,
			"additions": f.Additions, "deletions": f.Deletions, "changes": f.Additions + f.Deletions,
			"blob_url":     webURL + "/" + r.FullName + "/blob/" + pr.HeadSHA + "/" + f.Filename,
			"raw_url":      webURL + "/" + r.FullName + "/raw/" + pr.HeadSHA + "/" + f.Filename,
			"contents_url": s.repoURL(r) + "/contents/" + f.Filename + "?ref=" + pr.HeadSHA,
		}
		if f.Patch != "" {
			o["patch"] = f.Patch
		}
		if f.PreviousFilename != "" {
			o["previous_filename"] = f.PreviousFilename
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, nonNil(page(w, c, out)))
}

func (s *Server) getContents(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	ref := c.query.Get("ref")
	if ref == "" {
		ref = r.DefaultBranch
	}
	files := r.filesAt(ref)
	p := strings.Trim(c.params["path"], "/")
	if content, ok := files[p]; ok {
		writeJSON(w, http.StatusOK, s.content(r, ref, p, content, true))
		return
	}
	if dir := s.listDir(r, ref, p, files); dir != nil {
		writeJSON(w, http.StatusOK, dir)
		return
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

// listDir renders the entries of directory p (the root when empty) among
// files, or nil when there is no such directory.
func (s *Server) listDir(r *repoState, ref, p string, files map[string][]byte) []obj {
	var dir []obj
	seen := map[string]bool{}
	for _, fp := range sortedPaths(files) {
		rest, ok := strings.CutPrefix(fp, p+"/")
		if p == "" {
			rest, ok = fp, true
		}
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		entry := s.content(r, ref, path.Join(p, name), files[fp], false)
		if isDir {
			entry["type"], entry["size"] = "dir", 0
		}
		dir = append(dir, entry)
	}
	return dir
}

// filesAt returns the files at a ref, trying the ref as given and then the
// SHA it resolves to.
func (r *repoState) filesAt(ref string) map[string][]byte {
	if f, ok := r.files[ref]; ok {
		return f
	}
	sha := r.resolve(ref)
	if f, ok := r.files[sha]; ok {
		return f
	}
	for name, head := range r.branchHeads {
		if head == sha {
			return r.files[name]
		}
	}
	return nil
}

// content renders a file for the contents API, with its content in base64
// (lines of 60 characters, as GitHub sends) when withContent.
func (s *Server) content(r *repoState, ref, p string, content []byte, withContent bool) obj {
	sha := fakeSHA("blob:" + string(content))
	u := s.repoURL(r) + "/contents/" + p + "?ref=" + ref
	html := webURL + "/" + r.FullName + "/blob/" + ref + "/" + p
	git := s.repoURL(r) + "/git/blobs/" + sha
	o := obj{
		"type": "file", "name": path.Base(p), "path": p, "sha": sha, "size": len(content),
		"url": u, "html_url": html, "git_url": git,
		"download_url": "https://raw.githubusercontent.com/" + r.FullName + "/" + ref + "/" + p,
		"_links":       obj{"self": u, "git": git, "html": html},
	}
	if withContent {
		o["encoding"] = "base64"
		o["content"] = wrap(base64.StdEncoding.EncodeToString(content), 60)
	}
	return o
}

// wrap cuts s into lines of n characters, each ending in a newline.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	if s != "" {
		b.WriteString(s + "\n")
	}
	return b.String()
}

func (s *Server) listDeployments(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	var out []obj
	for i := len(r.deployments) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := r.deployments[i]
		if match(c.query.Get("sha"), d.SHA) && match(c.query.Get("ref"), d.Ref) &&
			match(c.query.Get("task"), d.Task) && match(c.query.Get("environment"), d.Environment) {
			out = append(out, s.deployment(r, d))
		}
	}
	writeJSON(w, http.StatusOK, nonNil(page(w, c, out)))
}

// match reports whether a filter (empty for none) accepts a value.
func match(filter, value string) bool { return filter == "" || filter == value }

func (s *Server) createDeployment(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	m, _ := c.body.(map[string]any)
	ref, _ := c.field("ref")
	if failing := r.failingContexts(r.resolve(ref), m["required_contexts"]); len(failing) > 0 {
		writeJSON(w, http.StatusConflict, obj{
			"message":           "Conflict: Commit status checks failed for " + ref + ".",
			"errors":            []obj{{"contexts": failing, "resource": "Deployment", "field": "required_contexts", "code": "invalid"}},
			"documentation_url": docsURL + "/deployments/deployments#create-a-deployment",
		})
		return
	}
	d := Deployment{Ref: ref, Creator: s.caller(c)}
	d.Task, _ = c.field("task")
	d.Environment, _ = c.field("environment")
	d.Description, _ = c.field("description")
	d.TransientEnvironment, _ = m["transient_environment"].(bool)
	d.ProductionEnvironment, _ = m["production_environment"].(bool)
	if _, ok := m["production_environment"]; !ok {
		d.ProductionEnvironment = d.Environment == "" || d.Environment == "production"
	}
	if p, ok := m["payload"]; ok {
		d.Payload, _ = json.Marshal(p)
	}
	writeJSON(w, http.StatusCreated, s.deployment(r, s.addDeployment(r, d)))
}

// failingContexts returns the required contexts that are not green at sha.
// Without required_contexts GitHub requires every context it knows.
func (r *repoState) failingContexts(sha string, required any) []obj {
	var want []string
	if list, ok := required.([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				want = append(want, s)
			}
		}
	} else {
		for _, st := range r.statuses[sha] {
			want = append(want, st.Context)
		}
	}
	var out []obj
	for _, ctx := range want {
		state := "missing"
		for _, st := range r.statuses[sha] {
			if st.Context == ctx {
				state = st.State
			}
		}
		if state != "success" {
			out = append(out, obj{"context": ctx, "state": state})
		}
	}
	return out
}

// findDeployment returns the deployment of the call, or answers 404.
func (s *Server) findDeployment(w http.ResponseWriter, c *call) (*repoState, *Deployment) {
	r := s.repoOf(w, c)
	if r == nil {
		return nil, nil
	}
	d := r.deployment(c.intParam("deployment_id"))
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found")
	}
	return r, d
}

func (s *Server) getDeployment(w http.ResponseWriter, c *call) {
	if r, d := s.findDeployment(w, c); d != nil {
		writeJSON(w, http.StatusOK, s.deployment(r, d))
	}
}

func (s *Server) listDeploymentStatuses(w http.ResponseWriter, c *call) {
	r, d := s.findDeployment(w, c)
	if d == nil {
		return
	}
	var out []obj
	for i := len(r.depStatuses) - 1; i >= 0; i-- { // newest first
		if st := r.depStatuses[i]; st.DeploymentID == d.ID {
			out = append(out, s.deploymentStatus(r, st))
		}
	}
	writeJSON(w, http.StatusOK, nonNil(page(w, c, out)))
}

func (s *Server) createDeploymentStatus(w http.ResponseWriter, c *call) {
	r, d := s.findDeployment(w, c)
	if d == nil {
		return
	}
	st := DeploymentStatus{DeploymentID: d.ID, Creator: s.caller(c)}
	st.State, _ = c.field("state")
	st.Description, _ = c.field("description")
	st.Environment, _ = c.field("environment")
	st.EnvironmentURL, _ = c.field("environment_url")
	st.LogURL, _ = c.field("log_url")
	if st.LogURL == "" {
		st.LogURL, _ = c.field("target_url")
	}
	writeJSON(w, http.StatusCreated, s.deploymentStatus(r, s.addDeploymentStatus(r, d, st)))
}

func (s *Server) getCombinedStatus(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	sha := r.resolve(c.params["ref"])
	statuses := []obj{}
	for i, st := range r.statuses[sha] {
		id := int64(userID(sha+st.Context)) + int64(i)
		stampNow := stamp(s.now())
		statuses = append(statuses, obj{
			"id": id, "node_id": nodeID("StatusContext", id), "state": st.State, "context": st.Context,
			"description": nullable(st.Description), "target_url": nullable(st.TargetURL),
			"avatar_url": nil, "url": s.repoURL(r) + "/statuses/" + sha,
			"created_at": stampNow, "updated_at": stampNow,
		})
	}
	writeJSON(w, http.StatusOK, obj{
		"state": combinedState(r.statuses[sha]), "sha": sha, "total_count": len(statuses),
		"statuses": statuses, "repository": s.repository(r),
		"commit_url": s.repoURL(r) + "/commits/" + sha, "url": s.repoURL(r) + "/commits/" + sha + "/status",
	})
}

// combinedState is failure if any status failed or errored, pending if any
// is pending or there is none, success otherwise.
func combinedState(list []Status) string {
	state := "success"
	if len(list) == 0 {
		return "pending"
	}
	for _, st := range list {
		switch st.State {
		case "failure", "error":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

func (s *Server) listCheckRuns(w http.ResponseWriter, c *call) {
	r := s.repoOf(w, c)
	if r == nil {
		return
	}
	sha := r.resolve(c.params["ref"])
	var runs []obj
	for _, cr := range r.checkRuns[sha] {
		if !match(c.query.Get("check_name"), cr.Name) || !match(c.query.Get("status"), cr.Status) {
			continue
		}
		runs = append(runs, s.checkRun(r, sha, cr))
	}
	total := len(runs)
	writeJSON(w, http.StatusOK, obj{"total_count": total, "check_runs": nonNil(page(w, c, runs))})
}

// checkRun renders a check run.
func (s *Server) checkRun(r *repoState, sha string, cr CheckRun) obj {
	started := stamp(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	var completed, conclusion any
	if cr.Status == "completed" {
		completed, conclusion = started, cr.Conclusion
	}
	id := strconv.FormatInt(cr.ID, 10)
	appID := int64(userID("app:" + cr.AppSlug))
	return obj{
		"id": cr.ID, "node_id": nodeID("CheckRun", cr.ID), "head_sha": sha, "name": cr.Name,
		"external_id": "", "status": cr.Status, "conclusion": conclusion,
		"url": s.repoURL(r) + "/check-runs/" + id, "html_url": webURL + "/" + r.FullName + "/runs/" + id,
		"details_url": webURL + "/" + r.FullName + "/runs/" + id,
		"started_at":  started, "completed_at": completed,
		"output":      obj{"title": nil, "summary": nil, "text": nil, "annotations_count": 0, "annotations_url": s.repoURL(r) + "/check-runs/" + id + "/annotations"},
		"check_suite": obj{"id": cr.ID + 1},
		"app": obj{
			"id": appID, "slug": cr.AppSlug, "node_id": nodeID("App", appID), "name": cr.AppSlug,
			"owner": s.user("github"), "description": "", "external_url": webURL, "html_url": webURL + "/apps/" + cr.AppSlug,
			"created_at": started, "updated_at": started, "permissions": obj{}, "events": []string{},
		},
		"pull_requests": []obj{},
	}
}

// nonNil turns a nil list into an empty one, which encodes as [].
func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}
