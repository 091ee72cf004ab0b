package fakegithub

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Repo is a repository the fake serves. FullName is "owner/name".
type Repo struct {
	FullName      string
	DefaultBranch string // "main" when empty
	Private       bool
}

// PullRequest is a pull request; it is also issue Number of its repository.
type PullRequest struct {
	Number   int
	Title    string
	Body     string
	Author   string // login; "octocat" when empty
	HeadSHA  string // made from the head ref when empty
	HeadRef  string // branch name; "feature-<number>" when empty
	HeadRepo string // full name of the head repository; the base repository when empty, another for a fork
	BaseRef  string // the repository's default branch when empty
	BaseSHA  string // made from the base ref when empty
	Draft    bool
	State    string // "open" when empty, or "closed"
	Merged   bool
	Labels   []string
	Files    []File // what GET .../pulls/{n}/files lists
}

// File is a file changed by a pull request.
type File struct {
	Filename         string
	Status           string // "added", "modified", "removed", "renamed"…; "modified" when empty
	Additions        int
	Deletions        int
	Patch            string
	PreviousFilename string
}

// Review is a pull request review.
type Review struct {
	ID          int64 // assigned when zero
	User        string
	State       string // "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"
	CommitID    string // the pull request's head SHA when empty
	Body        string
	SubmittedAt time.Time // now when zero
}

// Issue is an issue that is not a pull request.
type Issue struct {
	Number int
	Title  string
	Body   string
	Author string // "octocat" when empty
	State  string // "open" when empty
	Labels []string
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID        int64
	Issue     int
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Reaction is an emoji reaction to an issue comment.
type Reaction struct {
	ID        int64
	CommentID int64
	User      string
	Content   string // "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"
	CreatedAt time.Time
}

// Deployment is a GitHub deployment.
type Deployment struct {
	ID                    int64 // assigned when zero
	Ref                   string
	SHA                   string // resolved from Ref when empty
	Task                  string // "deploy" when empty
	Environment           string // "production" when empty
	Description           string
	Payload               json.RawMessage // JSON object or string; {} when empty
	Creator               string          // the App's bot when empty
	ProductionEnvironment bool
	TransientEnvironment  bool
	CreatedAt             time.Time // now when zero
	UpdatedAt             time.Time
}

// DeploymentStatus is a status of a deployment.
type DeploymentStatus struct {
	ID             int64 // assigned when zero
	DeploymentID   int64
	State          string // error, failure, inactive, in_progress, queued, pending, success
	Description    string
	Environment    string // the deployment's when empty
	LogURL         string
	EnvironmentURL string
	Creator        string    // the App's bot when empty
	CreatedAt      time.Time // now when zero
}

// Status is a commit status (one context of the combined status).
type Status struct {
	Context     string
	State       string // error, failure, pending, success
	Description string
	TargetURL   string
}

// CheckRun is a check run on a commit.
type CheckRun struct {
	ID         int64 // assigned when zero
	Name       string
	Status     string // queued, in_progress, completed; "completed" when empty
	Conclusion string // success, failure, neutral, cancelled, skipped, timed_out, action_required; "success" when empty and completed
	AppSlug    string // "github-actions" when empty
}

// repoState is everything the fake knows of one repository.
type repoState struct {
	Repo
	id          int64
	perms       map[string]string
	pulls       map[int]*PullRequest
	issues      map[int]*Issue
	reviews     map[int][]Review
	files       map[string]map[string][]byte // ref -> path -> content
	comments    []*Comment
	reactions   []Reaction
	deployments []*Deployment
	depStatuses []DeploymentStatus
	statuses    map[string][]Status // sha or ref -> statuses
	checkRuns   map[string][]CheckRun
	branchHeads map[string]string // branch -> sha
}

// id returns a new id; s.mu must be held.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// repo returns the state of fullName, made on first use; s.mu must be held.
func (s *Server) repo(fullName string) *repoState {
	if r, ok := s.repos[fullName]; ok {
		return r
	}
	if !strings.Contains(fullName, "/") {
		s.t.Fatalf("fakegithub: repository %q is not owner/name", fullName)
	}
	r := &repoState{
		Repo:        Repo{FullName: fullName, DefaultBranch: "main"},
		id:          s.id(),
		perms:       map[string]string{},
		pulls:       map[int]*PullRequest{},
		issues:      map[int]*Issue{},
		reviews:     map[int][]Review{},
		files:       map[string]map[string][]byte{},
		statuses:    map[string][]Status{},
		checkRuns:   map[string][]CheckRun{},
		branchHeads: map[string]string{},
	}
	s.repos[fullName] = r
	return r
}

// fakeSHA makes a stable commit SHA from a name.
func fakeSHA(name string) string {
	sum := sha1.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// isSHA reports whether ref looks like a full commit SHA.
func isSHA(ref string) bool {
	if len(ref) != 40 {
		return false
	}
	_, err := hex.DecodeString(ref)
	return err == nil
}

// AddRepo adds a repository or changes its settings. Other setters add the
// repositories they name on first use, with default branch "main".
func (s *Server) AddRepo(r Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.repo(r.FullName)
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	st.Repo = r
}

// SetPermission sets a user's role on a repository: "admin", "maintain",
// "write", "triage", "read" or "none". Users not set have "read" on public
// repositories and "none" on private ones.
func (s *Server) SetPermission(repo, user, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(repo).perms[user] = role
}

// AddPullRequest adds or replaces a pull request; empty fields get the
// defaults documented on PullRequest. It returns the stored pull request.
func (s *Server) AddPullRequest(repo string, pr PullRequest) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	if pr.Author == "" {
		pr.Author = "octocat"
	}
	if pr.HeadRef == "" {
		pr.HeadRef = "feature-" + itoa(pr.Number)
	}
	if pr.HeadSHA == "" {
		pr.HeadSHA = fakeSHA(repo + "#" + pr.HeadRef)
	}
	if pr.HeadRepo == "" {
		pr.HeadRepo = repo
	}
	if pr.BaseRef == "" {
		pr.BaseRef = r.DefaultBranch
	}
	if pr.BaseSHA == "" {
		pr.BaseSHA = fakeSHA(repo + "#" + pr.BaseRef)
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.Title == "" {
		pr.Title = "Pull request " + itoa(pr.Number)
	}
	pr.Labels = append([]string(nil), pr.Labels...)
	pr.Files = append([]File(nil), pr.Files...)
	r.pulls[pr.Number] = &pr
	if pr.HeadRepo == repo {
		r.branchHeads[pr.HeadRef] = pr.HeadSHA
	}
	return pr
}

// AddReview adds a review to pull request number, which must exist.
func (s *Server) AddReview(repo string, number int, rv Review) Review {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	pr, ok := r.pulls[number]
	if !ok {
		s.t.Fatalf("fakegithub: AddReview: no pull request %s#%d", repo, number)
	}
	if rv.ID == 0 {
		rv.ID = s.id()
	}
	if rv.CommitID == "" {
		rv.CommitID = pr.HeadSHA
	}
	if rv.SubmittedAt.IsZero() {
		rv.SubmittedAt = s.now().UTC().Truncate(time.Second)
	}
	r.reviews[number] = append(r.reviews[number], rv)
	return rv
}

// AddIssue adds or replaces an issue that is not a pull request.
func (s *Server) AddIssue(repo string, is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if is.Author == "" {
		is.Author = "octocat"
	}
	if is.State == "" {
		is.State = "open"
	}
	if is.Title == "" {
		is.Title = "Issue " + itoa(is.Number)
	}
	is.Labels = append([]string(nil), is.Labels...)
	s.repo(repo).issues[is.Number] = &is
}

// SetFile stores a file's content at a ref (a branch name or a SHA) for the
// contents API.
func (s *Server) SetFile(repo, ref, path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	if r.files[ref] == nil {
		r.files[ref] = map[string][]byte{}
	}
	r.files[ref][strings.Trim(path, "/")] = append([]byte(nil), content...)
}

// SetBranch points a branch at a commit, for refs that deployments and
// statuses resolve.
func (s *Server) SetBranch(repo, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(repo).branchHeads[branch] = sha
}

// SetStatus sets one context of a commit's combined status (ref is a SHA or
// a branch name), replacing an earlier status of the same context.
func (s *Server) SetStatus(repo, ref string, st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	sha := r.resolve(ref)
	list := r.statuses[sha]
	for i := range list {
		if list[i].Context == st.Context {
			list[i] = st
			return
		}
	}
	r.statuses[sha] = append(list, st)
}

// AddCheckRun adds a check run to a commit (ref is a SHA or a branch name).
func (s *Server) AddCheckRun(repo, ref string, cr CheckRun) CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	if cr.ID == 0 {
		cr.ID = s.id()
	}
	if cr.Status == "" {
		cr.Status = "completed"
	}
	if cr.Status == "completed" && cr.Conclusion == "" {
		cr.Conclusion = "success"
	}
	if cr.AppSlug == "" {
		cr.AppSlug = "github-actions"
	}
	sha := r.resolve(ref)
	r.checkRuns[sha] = append(r.checkRuns[sha], cr)
	return cr
}

// AddComment adds a comment to issue or pull request number, as if user had
// written it, and returns it with its id.
func (s *Server) AddComment(repo string, number int, user, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addComment(s.repo(repo), number, user, body)
}

// addComment stores a new comment; s.mu must be held.
func (s *Server) addComment(r *repoState, number int, user, body string) *Comment {
	now := s.now().UTC().Truncate(time.Second)
	c := &Comment{ID: s.id(), Issue: number, User: user, Body: body, CreatedAt: now, UpdatedAt: now}
	r.comments = append(r.comments, c)
	return c
}

// Comments returns the comments of issue or pull request number, oldest
// first.
func (s *Server) Comments(repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.lookup(repo).comments {
		if c.Issue == number {
			out = append(out, *c)
		}
	}
	return out
}

// Reactions returns the reactions to a comment, oldest first.
func (s *Server) Reactions(repo string, commentID int64) []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filter(s.lookup(repo).reactions, func(rc Reaction) bool { return rc.CommentID == commentID })
}

// AddDeployment stores a deployment as if it had been made earlier (say,
// before a restart) and returns it with its id and defaults.
func (s *Server) AddDeployment(repo string, d Deployment) Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addDeployment(s.repo(repo), d)
}

// addDeployment fills defaults and stores d; s.mu must be held.
func (s *Server) addDeployment(r *repoState, d Deployment) *Deployment {
	now := s.now().UTC().Truncate(time.Second)
	if d.ID == 0 {
		d.ID = s.id()
	}
	if d.SHA == "" {
		d.SHA = r.resolve(d.Ref)
	}
	if d.Task == "" {
		d.Task = "deploy"
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	if len(d.Payload) == 0 {
		d.Payload = json.RawMessage("{}")
	}
	if d.Creator == "" {
		d.Creator = BotLogin()
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	r.deployments = append(r.deployments, &d)
	return &d
}

// Deployments returns a repository's deployments, oldest first.
func (s *Server) Deployments(repo string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.lookup(repo).deployments {
		out = append(out, *d)
	}
	return out
}

// AddDeploymentStatus adds a status to a deployment, as the user's deploy
// workflow would, and returns it with its id.
func (s *Server) AddDeploymentStatus(repo string, st DeploymentStatus) DeploymentStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo(repo)
	d := r.deployment(st.DeploymentID)
	if d == nil {
		s.t.Fatalf("fakegithub: AddDeploymentStatus: no deployment %d in %s", st.DeploymentID, repo)
	}
	if st.Creator == "" {
		st.Creator = "github-actions[bot]"
	}
	return s.addDeploymentStatus(r, d, st)
}

// addDeploymentStatus fills defaults and stores st; s.mu must be held.
func (s *Server) addDeploymentStatus(r *repoState, d *Deployment, st DeploymentStatus) DeploymentStatus {
	if st.ID == 0 {
		st.ID = s.id()
	}
	if st.Environment == "" {
		st.Environment = d.Environment
	}
	if st.Creator == "" {
		st.Creator = BotLogin()
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = s.now().UTC().Truncate(time.Second)
	}
	d.UpdatedAt = st.CreatedAt
	r.depStatuses = append(r.depStatuses, st)
	return st
}

// DeploymentStatuses returns the statuses of a deployment, oldest first.
func (s *Server) DeploymentStatuses(repo string, deploymentID int64) []DeploymentStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filter(s.lookup(repo).depStatuses, func(st DeploymentStatus) bool { return st.DeploymentID == deploymentID })
}

// filter returns a new slice of the items that keep accepts.
func filter[T any](items []T, keep func(T) bool) []T {
	var out []T
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}

// lookup returns the state of a repository, or an empty one for a
// repository the fake does not know; s.mu must be held.
func (s *Server) lookup(fullName string) *repoState {
	if r, ok := s.repos[fullName]; ok {
		return r
	}
	return &repoState{}
}

// deployment finds a deployment by id.
func (r *repoState) deployment(id int64) *Deployment {
	for _, d := range r.deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// resolve turns a ref into a commit SHA: a SHA stays, a branch gives the SHA
// it points at, and a branch the fake does not know gets the SHA that
// AddPullRequest would make for it.
func (r *repoState) resolve(ref string) string {
	if isSHA(ref) {
		return strings.ToLower(ref)
	}
	ref = strings.TrimPrefix(ref, "refs/heads/")
	if sha, ok := r.branchHeads[ref]; ok {
		return sha
	}
	return fakeSHA(r.FullName + "#" + ref)
}

// permission is a user's role on r.
func (r *repoState) permission(user string) string {
	if p, ok := r.perms[user]; ok {
		return p
	}
	if r.Private {
		return "none"
	}
	return "read"
}

// sortedPaths lists the paths of files at a ref in order.
func sortedPaths(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
