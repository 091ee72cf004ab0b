package fakegithub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingTB is a testing.TB that keeps what would fail the test, so that
// a test can check that the fake fails the tests it should fail.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// finish runs the cleanups as the end of a test would and returns the errors.
func (r *recordingTB) finish() []string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

// send makes a raw request to the fake with a valid token and User-Agent
// unless the header says otherwise.
func send(t *testing.T, s *Server, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	url := strings.TrimSuffix(s.URL(), "/") + path
	if strings.HasPrefix(path, "!") { // a path outside BasePath
		url = s.http.URL + path[1:]
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("User-Agent", "modelgate-test")
	req.Header.Set("Authorization", "token "+s.InstallationToken())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if v == "" && k != "User-Agent" { // an empty User-Agent keeps Go from sending its own
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

func TestBadRequestsAreViolations(t *testing.T) {
	tests := []struct {
		name          string
		method, path  string
		body          string
		header        map[string]string
		wantStatus    int
		wantViolation string
	}{
		{
			name: "missing required body field", method: "POST", path: "/repos/octo/models/deployments",
			body: `{"environment":"production"}`, wantStatus: 422, wantViolation: `property "ref" is missing`,
		},
		{
			name: "wrong type", method: "POST", path: "/repos/octo/models/issues/7/comments",
			body: `{"body":42}`, wantStatus: 422, wantViolation: `at /body: value must be a string (got 42)`,
		},
		{
			name: "bad enum", method: "POST", path: "/repos/octo/models/deployments/1/statuses",
			body: `{"state":"bogus"}`, wantStatus: 422, wantViolation: `at /state: value is not one of the allowed values`,
		},
		{
			name: "bad reaction", method: "POST", path: "/repos/octo/models/issues/comments/1/reactions",
			body: `{"content":"thumbsup"}`, wantStatus: 422, wantViolation: `at /content`,
		},
		{
			name: "unknown route", method: "GET", path: "/repos/octo/models/frobnicate",
			wantStatus: 404, wantViolation: "no such operation",
		},
		{
			name: "method not allowed", method: "DELETE", path: "/repos/octo/models",
			wantStatus: 404, wantViolation: "method not allowed",
		},
		{
			name: "path parameter type", method: "GET", path: "/repos/octo/models/deployments/abc",
			wantStatus: 422, wantViolation: `parameter "deployment_id" in path`,
		},
		{
			name: "query parameter type", method: "GET", path: "/repos/octo/models/issues/7/comments?per_page=lots",
			wantStatus: 422, wantViolation: `parameter "per_page" in query`,
		},
		{
			name: "outside the base path", method: "GET", path: "!/repos/octo/models",
			wantStatus: 404, wantViolation: "not under /api/v3",
		},
		{
			name: "no user agent", method: "GET", path: "/repos/octo/models",
			header: map[string]string{"User-Agent": ""}, wantStatus: 403, wantViolation: "User-Agent",
		},
		{
			name: "unknown API version", method: "GET", path: "/repos/octo/models",
			header: map[string]string{"X-GitHub-Api-Version": "2019-01-01"}, wantStatus: 400, wantViolation: "not supported",
		},
		{
			name: "body not JSON", method: "POST", path: "/repos/octo/models/issues/7/comments",
			body: `{"body":`, wantStatus: 400, wantViolation: "Problems parsing JSON",
		},
		{
			name: "no body", method: "POST", path: "/repos/octo/models/issues/7/comments",
			wantStatus: 422, wantViolation: "value is required but missing",
		},
		{
			name: "body not declared JSON", method: "POST", path: "/repos/octo/models/issues/7/comments",
			body: `{"body":"hi"}`, header: map[string]string{"Content-Type": "text/plain"},
			wantStatus: 422, wantViolation: `Content-Type has unexpected value "text/plain"`,
		},
		{
			name: "body not an object", method: "POST", path: "/repos/octo/models/issues/7/comments",
			body: `["hi"]`, wantStatus: 422, wantViolation: "value must be an object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			s := New(tb)
			scenario(s)
			resp := send(t, s, tt.method, tt.path, tt.body, tt.header)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if resp.StatusCode != http.StatusBadGateway {
				body := decode(t, resp)
				assert.NotEmpty(t, body["message"], "GitHub-style error body")
				assert.NotEmpty(t, body["documentation_url"], "GitHub-style error body")
			}
			errs := tb.finish()
			require.Len(t, errs, 1, "the test should fail once")
			assert.Contains(t, errs[0], tt.wantViolation)
		})
	}
}

func TestValidRequestsAreNotViolations(t *testing.T) {
	tb := &recordingTB{TB: t}
	s := New(tb)
	scenario(s)
	resp := send(t, s, "POST", "/repos/octo/models/issues/7/comments", `{"body":"hi"}`, nil)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	resp = send(t, s, "GET", "/repos/octo/models/contents/models/fraud/model.yaml?ref=feature-7", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp = send(t, s, "GET", "/repos/octo/models/issues/99", "", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a missing issue is GitHub's answer, not a violation")
	assert.Empty(t, tb.finish())
}

func TestBadEnumThroughGoGitHub(t *testing.T) {
	tb := &recordingTB{TB: t}
	s := New(tb)
	scenario(s)
	d := s.AddDeployment("octo/models", Deployment{Ref: "main"})
	gh, _ := newClient(t, s)
	_, resp, err := gh.Repositories.CreateDeploymentStatus(context.Background(), "octo", "models", d.ID,
		&github.DeploymentStatusRequest{State: github.String("bogus")})
	require.Error(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Empty(t, s.DeploymentStatuses("octo/models", d.ID), "an invalid request changes nothing")
	errs := tb.finish()
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "POST /repos/octo/models/deployments/")
	assert.Contains(t, errs[0], "bogus")
}

func TestAuthentication(t *testing.T) {
	s := New(t)
	scenario(s)
	tests := []struct {
		name   string
		path   string
		header map[string]string
		want   int
	}{
		{"no token", "/repos/octo/models", map[string]string{"Authorization": ""}, 401},
		{"unknown token", "/repos/octo/models", map[string]string{"Authorization": "token ghs_nope"}, 401},
		{"app endpoint with installation token", "/repos/octo/models/installation", nil, 401},
		{"app endpoint with a bad JWT", "/repos/octo/models/installation", map[string]string{"Authorization": "Bearer a.b.c"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, s, "GET", tt.path, "", tt.header)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.NotEmpty(t, decode(t, resp)["message"])
		})
	}
	assert.Empty(t, s.Violations(), "a refused credential is GitHub's answer, not a violation")
}

func TestExpiredTokens(t *testing.T) {
	s := New(t)
	scenario(s)
	gh, _ := newClient(t, s)
	ctx := context.Background()
	_, _, err := gh.Repositories.Get(ctx, "octo", "models")
	require.NoError(t, err)
	s.ExpireTokens()
	_, resp, err := gh.Repositories.Get(ctx, "octo", "models")
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("server errors then recovery", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.FailNext("POST", "/repos/octo/models/issues/*/comments", 1, ServerError)
		s.FailNext("post", "/repos/octo/models/issues/*/comments", 1, BadGateway)
		comment := &github.IssueComment{Body: github.String("hi")}
		_, resp, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, comment)
		require.Error(t, err)
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		_, resp, err = gh.Issues.CreateComment(ctx, "octo", "models", 7, comment)
		require.Error(t, err)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		_, _, err = gh.Issues.CreateComment(ctx, "octo", "models", 7, comment)
		require.NoError(t, err)
		assert.Len(t, s.Comments("octo/models", 7), 1, "a failed request changes nothing")
		_, _, err = gh.Repositories.Get(ctx, "octo", "models")
		require.NoError(t, err, "other routes are not affected")
	})
	t.Run("not found", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.FailNext("", "/repos/octo/models/pulls/7", 1, NotFound)
		_, resp, err := gh.PullRequests.Get(ctx, "octo", "models", 7)
		require.Error(t, err)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("primary rate limit", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.FailNext("GET", "/repos/*/*", 1, RateLimited)
		_, _, err := gh.Repositories.Get(ctx, "octo", "models")
		var rl *github.RateLimitError
		require.True(t, errors.As(err, &rl), "got %T %v", err, err)
		assert.Equal(t, 0, rl.Rate.Remaining)
		assert.WithinDuration(t, time.Now().Add(2*time.Second), rl.Rate.Reset.Time, 2*time.Second)
	})
	t.Run("secondary rate limit", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.FailNext("GET", "/repos/octo/models", 1, SecondaryRateLimited)
		_, _, err := gh.Repositories.Get(ctx, "octo", "models")
		var abuse *github.AbuseRateLimitError
		require.True(t, errors.As(err, &abuse), "got %T %v", err, err)
		require.NotNil(t, abuse.RetryAfter)
		assert.Equal(t, time.Second, *abuse.RetryAfter)
	})
}

func TestRateHeaders(t *testing.T) {
	s := New(t)
	scenario(s)
	gh, _ := newClient(t, s)
	_, resp, err := gh.Repositories.Get(context.Background(), "octo", "models")
	require.NoError(t, err)
	assert.Equal(t, 5000, resp.Rate.Limit)
	assert.Equal(t, 4999, resp.Rate.Remaining)
	assert.True(t, resp.Rate.Reset.After(time.Now()))
	_, resp, err = gh.Repositories.Get(context.Background(), "octo", "models")
	require.NoError(t, err)
	assert.Equal(t, 4998, resp.Rate.Remaining)
}

func TestDeploymentNeedsGreenContexts(t *testing.T) {
	s := New(t)
	pr := scenario(s)
	s.SetStatus("octo/models", pr.HeadSHA, Status{Context: "ci", State: "failure"})
	gh, _ := newClient(t, s)
	ctx := context.Background()
	req := &github.DeploymentRequest{Ref: github.String(pr.HeadSHA), Environment: github.String("production"), AutoMerge: github.Bool(false)}
	_, resp, err := gh.Repositories.CreateDeployment(ctx, "octo", "models", req)
	require.Error(t, err)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	req.RequiredContexts = &[]string{}
	_, _, err = gh.Repositories.CreateDeployment(ctx, "octo", "models", req)
	require.NoError(t, err)
	assert.Len(t, s.Deployments("octo/models"), 1)
}

func TestRequestsAreRecorded(t *testing.T) {
	s := New(t)
	scenario(s)
	gh, _ := newClient(t, s)
	ctx := context.Background()
	_, _, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, &github.IssueComment{Body: github.String("/canary")})
	require.NoError(t, err)
	_, _, err = gh.Issues.ListComments(ctx, "octo", "models", 7, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 50}})
	require.NoError(t, err)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, "/repos/octo/models/issues/7/comments", reqs[0].Path)
	assert.Equal(t, "issues/create-comment", reqs[0].Operation)
	assert.Equal(t, map[string]any{"body": "/canary"}, reqs[0].Body)
	assert.Equal(t, http.StatusCreated, reqs[0].Status)
	assert.False(t, reqs[0].Time.IsZero())
	assert.Equal(t, "50", reqs[1].Query.Get("per_page"))
	assert.Nil(t, reqs[1].Body)
}

func TestPagination(t *testing.T) {
	s := New(t)
	scenario(s)
	for i := range 5 {
		s.AddComment("octo/models", 7, "alice", fmt.Sprint("comment ", i))
	}
	gh, _ := newClient(t, s)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	var all []*github.IssueComment
	for {
		page, resp, err := gh.Issues.ListComments(context.Background(), "octo", "models", 7, opts)
		require.NoError(t, err)
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	require.Len(t, all, 5)
	assert.Equal(t, "comment 4", all[4].GetBody())
}

func TestConcurrentRequests(t *testing.T) {
	s := New(t)
	pr := scenario(s)
	gh, _ := newClient(t, s)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, &github.IssueComment{Body: github.String(fmt.Sprint(i))})
			assert.NoError(t, err)
			_, _, err = gh.Reactions.CreateIssueCommentReaction(ctx, "octo", "models", c.GetID(), "eyes")
			assert.NoError(t, err)
			_, _, err = gh.Repositories.CreateDeployment(ctx, "octo", "models", &github.DeploymentRequest{
				Ref: github.String(pr.HeadSHA), RequiredContexts: &[]string{}, AutoMerge: github.Bool(false)})
			assert.NoError(t, err)
			_ = s.Requests()
		}()
	}
	wg.Wait()
	assert.Len(t, s.Comments("octo/models", 7), 8)
	assert.Len(t, s.Deployments("octo/models"), 8)
	ids := map[int64]bool{}
	for _, d := range s.Deployments("octo/models") {
		ids[d.ID] = true
	}
	assert.Len(t, ids, 8, "ids are unique")
}

func TestPageBounds(t *testing.T) {
	s := New(t)
	scenario(s)
	s.AddComment("octo/models", 7, "alice", "one")
	for _, q := range []string{"page=4611686018427387904&per_page=4", "per_page=1000", "page=0&per_page=0"} {
		resp := send(t, s, "GET", "/repos/octo/models/issues/7/comments?"+q, "", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, q)
		resp.Body.Close()
	}
}
