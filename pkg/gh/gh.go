// Package gh is the bot's one door to GitHub's REST API: the words its
// callers share (Repo, PullRequest, Deployment ...), the errors they compare
// with (ErrNotFound, ErrRejected), and Client, the go-github adapter that
// makes every call. Callers declare the interfaces they need of it.
package gh

import (
	"errors"
	"strings"

	"github.com/modelgate/modelgate/pkg/rollout"
)

// Errors callers compare with errors.Is. Client wraps GitHub's answer in
// them, keeping it.
var (
	// ErrNotFound is a 404: the thing is gone, or the App cannot see it.
	ErrNotFound = errors.New("not found on GitHub")
	// ErrRejected is a 4xx answer that retrying will not mend (400, 409,
	// 410, 422): the request itself was refused.
	ErrRejected = errors.New("rejected by GitHub")
)

// Repo names a repository.
type Repo struct {
	Owner string
	Name  string
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// ParseRepo reads "owner/name"; a name without a slash is all owner.
func ParseRepo(fullName string) Repo {
	owner, name, _ := strings.Cut(fullName, "/")
	return Repo{Owner: owner, Name: name}
}

// PullRequest is what the bot needs to know of a pull request.
type PullRequest struct {
	Number  int
	Author  string
	Labels  []string
	Draft   bool
	State   string // open, closed
	Merged  bool
	HeadSHA string
	// HeadRepo is the full name of the repository the head branch lives in;
	// another than the base repository means a fork.
	HeadRepo string
}

// ChangedFile is one file a pull request touches.
type ChangedFile struct {
	Path   string
	Status string // added, modified, removed, renamed, ...
}

// CheckRun is a check on a commit.
type CheckRun struct {
	Name       string
	Status     string // queued, in_progress, completed
	Conclusion string // success, failure, neutral, ...
}

// Deployment is a GitHub Deployment the bot creates (DESIGN.md,
// "Deployments").
type Deployment struct {
	Ref, Environment, Task, Description string
	Payload                             rollout.Payload
}
