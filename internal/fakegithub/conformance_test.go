package fakegithub

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// responseChecker is a RoundTripper that validates every response of the
// fake against the OpenAPI description, so that the fake's answers stay
// what GitHub documents.
type responseChecker struct {
	t    *testing.T
	s    *Server
	next http.RoundTripper

	mu      sync.Mutex
	checked map[string]bool // operations whose responses were validated
}

func (rc *responseChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := rc.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	p := strings.TrimPrefix(req.URL.EscapedPath(), BasePath)
	vr := asGitHubRequest(req, p, reqBody)
	route, params, err := rc.s.spec.router.FindRoute(vr)
	if err != nil {
		return resp, nil // the fake reports unknown routes itself
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		// GitHub answers statuses its description leaves out (401, 5xx); a
		// success must be a documented one.
		Options: &openapi3filter.Options{IncludeResponseStatus: resp.StatusCode < 300, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		rc.t.Errorf("response of %s %s (%d) does not match GitHub's description: %v", req.Method, p, resp.StatusCode, err)
	}
	rc.mu.Lock()
	rc.checked[route.Operation.OperationID] = true
	rc.mu.Unlock()
	return resp, nil
}

// newClient returns a go-github client on the fake with an installation
// token, whose responses are checked against the description.
func newClient(t *testing.T, s *Server) (*github.Client, *responseChecker) {
	rc := &responseChecker{t: t, s: s, next: http.DefaultTransport, checked: map[string]bool{}}
	c, err := github.NewClient(&http.Client{Transport: rc}).WithAuthToken(s.InstallationToken()).WithEnterpriseURLs(s.URL(), s.URL())
	require.NoError(t, err)
	return c, rc
}

// scenario sets up the state every conformance test uses.
func scenario(s *Server) PullRequest {
	s.AddRepo(Repo{FullName: "octo/models", DefaultBranch: "main"})
	s.SetPermission("octo/models", "alice", "write")
	s.SetPermission("octo/models", "mallory", "triage")
	pr := s.AddPullRequest("octo/models", PullRequest{
		Number: 7, Author: "alice", Labels: []string{"model"},
		Files: []File{{Filename: "models/fraud/model.yaml", Status: "added", Additions: 12, Patch: "@@ -0,0 +1,12 @@"}},
	})
	s.AddReview("octo/models", 7, Review{User: "bob", State: "APPROVED"})
	s.AddIssue("octo/models", Issue{Number: 8, Title: "not a PR"})
	s.SetFile("octo/models", pr.HeadSHA, "models/fraud/model.yaml", []byte("apiVersion: modelgate.dev/v1\nkind: Model\n"))
	s.SetFile("octo/models", "main", ".github/modelgate.yml", []byte("rollout: {}\n"))
	s.SetStatus("octo/models", pr.HeadSHA, Status{Context: "ci", State: "success"})
	s.AddCheckRun("octo/models", pr.HeadSHA, CheckRun{Name: "validate"})
	return pr
}

func TestEveryOperationHasAHandler(t *testing.T) {
	sp, err := loadSpecOnce()
	require.NoError(t, err)
	var routes []string
	for p, item := range sp.doc.Paths.Map() {
		for method := range item.Operations() {
			routes = append(routes, method+" "+p)
		}
	}
	var handled []string
	for r := range handlers {
		handled = append(handled, r)
	}
	assert.ElementsMatch(t, routes, handled, "operations.txt and handlers.go list the same operations")
}

func TestEveryOperationConforms(t *testing.T) {
	s := New(t)
	pr := scenario(s)
	gh, rc := newClient(t, s)
	ctx := context.Background()

	repo, _, err := gh.Repositories.Get(ctx, "octo", "models")
	require.NoError(t, err)
	assert.Equal(t, "main", repo.GetDefaultBranch())

	issue, _, err := gh.Issues.Get(ctx, "octo", "models", 7)
	require.NoError(t, err)
	assert.True(t, issue.IsPullRequest())
	issue, _, err = gh.Issues.Get(ctx, "octo", "models", 8)
	require.NoError(t, err)
	assert.False(t, issue.IsPullRequest())

	c, _, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, &github.IssueComment{Body: github.String("Starting canary")})
	require.NoError(t, err)
	assert.Equal(t, BotLogin(), c.GetUser().GetLogin())
	c, _, err = gh.Issues.EditComment(ctx, "octo", "models", c.GetID(), &github.IssueComment{Body: github.String("Canary at 5 %")})
	require.NoError(t, err)
	assert.Equal(t, "Canary at 5 %", c.GetBody())
	comments, _, err := gh.Issues.ListComments(ctx, "octo", "models", 7, nil)
	require.NoError(t, err)
	require.Len(t, comments, 1)

	r, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "octo", "models", c.GetID(), "rocket")
	require.NoError(t, err)
	assert.Equal(t, "rocket", r.GetContent())
	assert.Len(t, s.Reactions("octo/models", c.GetID()), 1)

	perm, _, err := gh.Repositories.GetPermissionLevel(ctx, "octo", "models", "alice")
	require.NoError(t, err)
	assert.Equal(t, "write", perm.GetPermission())
	perm, _, err = gh.Repositories.GetPermissionLevel(ctx, "octo", "models", "mallory")
	require.NoError(t, err)
	assert.Equal(t, "read", perm.GetPermission())

	got, _, err := gh.PullRequests.Get(ctx, "octo", "models", 7)
	require.NoError(t, err)
	assert.Equal(t, pr.HeadSHA, got.GetHead().GetSHA())
	assert.Equal(t, "octo/models", got.GetHead().GetRepo().GetFullName())
	assert.Equal(t, "alice", got.GetUser().GetLogin())
	reviews, _, err := gh.PullRequests.ListReviews(ctx, "octo", "models", 7, nil)
	require.NoError(t, err)
	require.Len(t, reviews, 1)
	assert.Equal(t, "APPROVED", reviews[0].GetState())
	files, _, err := gh.PullRequests.ListFiles(ctx, "octo", "models", 7, nil)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, "models/fraud/model.yaml", files[0].GetFilename())

	file, _, _, err := gh.Repositories.GetContents(ctx, "octo", "models", "models/fraud/model.yaml", &github.RepositoryContentGetOptions{Ref: pr.HeadSHA})
	require.NoError(t, err)
	text, err := file.GetContent()
	require.NoError(t, err)
	assert.Equal(t, "apiVersion: modelgate.dev/v1\nkind: Model\n", text)
	_, dir, _, err := gh.Repositories.GetContents(ctx, "octo", "models", "models", &github.RepositoryContentGetOptions{Ref: pr.HeadSHA})
	require.NoError(t, err)
	require.Len(t, dir, 1)
	assert.Equal(t, "dir", dir[0].GetType())
	file, _, _, err = gh.Repositories.GetContents(ctx, "octo", "models", ".github/modelgate.yml", nil)
	require.NoError(t, err)
	assert.Equal(t, ".github/modelgate.yml", file.GetPath())

	d, _, err := gh.Repositories.CreateDeployment(ctx, "octo", "models", &github.DeploymentRequest{
		Ref: github.String(pr.HeadSHA), Task: github.String("deploy:canary"), Environment: github.String("production"),
		AutoMerge: github.Bool(false), RequiredContexts: &[]string{},
		Payload: map[string]any{"model": "fraud", "version": "3.2.0", "stage": 0, "traffic_percent": 5, "rollout_id": "r1"},
	})
	require.NoError(t, err)
	assert.Equal(t, pr.HeadSHA, d.GetSHA())
	assert.JSONEq(t, `{"model":"fraud","version":"3.2.0","stage":0,"traffic_percent":5,"rollout_id":"r1"}`, string(d.Payload))
	d, _, err = gh.Repositories.GetDeployment(ctx, "octo", "models", d.GetID())
	require.NoError(t, err)
	assert.Equal(t, "deploy:canary", d.GetTask())
	ds, _, err := gh.Repositories.ListDeployments(ctx, "octo", "models", &github.DeploymentsListOptions{Environment: "production", Task: "deploy:canary"})
	require.NoError(t, err)
	require.Len(t, ds, 1)

	st, _, err := gh.Repositories.CreateDeploymentStatus(ctx, "octo", "models", d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("in_progress"), Description: github.String("analysing"), LogURL: github.String("https://example.com/log"),
	})
	require.NoError(t, err)
	assert.Equal(t, "in_progress", st.GetState())
	sts, _, err := gh.Repositories.ListDeploymentStatuses(ctx, "octo", "models", d.GetID(), nil)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, "production", sts[0].GetEnvironment())

	combined, _, err := gh.Repositories.GetCombinedStatus(ctx, "octo", "models", pr.HeadSHA, nil)
	require.NoError(t, err)
	assert.Equal(t, "success", combined.GetState())
	runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, "octo", "models", pr.HeadRef, nil)
	require.NoError(t, err)
	require.Equal(t, 1, runs.GetTotal())
	assert.Equal(t, "validate", runs.CheckRuns[0].GetName())

	assert.Empty(t, s.Violations())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	want := len(handlers) - 2 // the App's JWT endpoints are covered by TestInstallationAuth
	assert.Len(t, rc.checked, want, "operations exercised: %v", rc.checked)
}

func TestInstallationAuth(t *testing.T) {
	s := New(t)
	scenario(s)
	tr, err := ghinstallation.New(http.DefaultTransport, AppID, InstallationID, s.AppPrivateKeyPEM())
	require.NoError(t, err)
	tr.BaseURL = strings.TrimSuffix(s.URL(), "/")
	rc := &responseChecker{t: t, s: s, next: tr, checked: map[string]bool{}}
	gh, err := github.NewClient(&http.Client{Transport: rc}).WithEnterpriseURLs(s.URL(), s.URL())
	require.NoError(t, err)
	ctx := context.Background()

	_, _, err = gh.Repositories.Get(ctx, "octo", "models")
	require.NoError(t, err)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "apps/create-installation-access-token", reqs[0].Operation)
	assert.Equal(t, http.StatusCreated, reqs[0].Status)
	assert.Equal(t, "repos/get", reqs[1].Operation)

	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, AppID, s.AppPrivateKeyPEM())
	require.NoError(t, err)
	atr.BaseURL = tr.BaseURL
	app, err := github.NewClient(&http.Client{Transport: &responseChecker{t: t, s: s, next: atr, checked: map[string]bool{}}}).WithEnterpriseURLs(s.URL(), s.URL())
	require.NoError(t, err)
	inst, _, err := app.Apps.FindRepositoryInstallation(ctx, "octo", "models")
	require.NoError(t, err)
	assert.Equal(t, InstallationID, inst.GetID())
	tok, _, err := app.Apps.CreateInstallationToken(ctx, InstallationID, nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.GetToken(), "ghs_"))
	assert.False(t, tok.GetExpiresAt().IsZero())
	assert.Empty(t, s.Violations())
}

// decode reads a JSON response body.
func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m
}

func TestClock(t *testing.T) {
	s := New(t)
	scenario(s)
	later := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	s.SetClock(func() time.Time { return later })
	gh, _ := newClient(t, s)
	c, _, err := gh.Issues.CreateComment(context.Background(), "octo", "models", 7, &github.IssueComment{Body: github.String("x")})
	require.NoError(t, err, "tokens keep to the real clock")
	assert.Equal(t, later, c.GetCreatedAt().Time)
	assert.Equal(t, later, s.Requests()[0].Time)
}
