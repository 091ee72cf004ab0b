package handler

import (
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// decodePayload decodes a webhook payload into go-github's type for the
// event. A payload that does not fit the type is a permanent failure: a
// retry would meet the same bytes.
func decodePayload[T any](event string, payload []byte) (*T, error) {
	p := new(T)
	if err := json.Unmarshal(payload, p); err != nil {
		return nil, githubapp.Permanent(fmt.Errorf("decode %s payload: %w", event, err))
	}
	return p, nil
}

// repoOf is the repository a payload names; a payload without its owner's
// login and its name is not one GitHub sends, and fails for good.
func repoOf(event string, r *github.Repository) (gh.Repo, error) {
	repo := gh.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
	if repo.Owner == "" || repo.Name == "" {
		return repo, githubapp.Permanent(fmt.Errorf("%s payload names no repository (owner login and name)", event))
	}
	return repo, nil
}
