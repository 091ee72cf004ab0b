package fakegithub_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/fakegithub"
)

func TestSmoke(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddPullRequest("octo/models", fakegithub.PullRequest{Number: 7, Author: "alice"})
	client := github.NewClient(nil).WithAuthToken(gh.InstallationToken())
	client.BaseURL, _ = url.Parse(gh.URL())
	ctx := context.Background()
	c, _, err := client.Issues.CreateComment(ctx, "octo", "models", 7, &github.IssueComment{Body: github.String("hi")})
	require.NoError(t, err)
	require.Equal(t, "hi", c.GetBody())
	require.Len(t, gh.Comments("octo/models", 7), 1)
}
