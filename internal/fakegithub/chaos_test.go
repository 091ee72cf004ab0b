package fakegithub

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChaos(t *testing.T) {
	ctx := context.Background()
	t.Run("a share of the requests fails, repeatably, and is counted", func(t *testing.T) {
		statuses := func() []int {
			s := New(t)
			scenario(s)
			s.SetChaos(Chaos{Rate: 0.3, Faults: []Fault{ServerError, SecondaryRateLimited}, Seed: 7})
			var out []int
			for range 200 {
				// A plain client: go-github holds back requests after a
				// secondary rate limit by itself.
				req, _ := http.NewRequest(http.MethodGet, s.URL()+"repos/octo/models", nil)
				req.Header.Set("User-Agent", "test")
				req.Header.Set("Authorization", "token "+s.InstallationToken())
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				out = append(out, resp.StatusCode)
			}
			failed := 0
			for _, c := range out {
				if c != http.StatusOK {
					failed++
				}
			}
			assert.InDelta(t, 60, failed, 20, "about 30 %% of 200 fail")
			in := s.Injected()
			assert.Equal(t, failed, in[ServerError]+in[SecondaryRateLimited])
			assert.Positive(t, in[ServerError])
			assert.Positive(t, in[SecondaryRateLimited])
			return out
		}
		assert.Equal(t, statuses(), statuses(), "one seed, one run")
	})
	t.Run("off again at rate 0", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.SetChaos(Chaos{Rate: 1, Faults: []Fault{ServerError}})
		_, _, err := gh.Repositories.Get(ctx, "octo", "models")
		require.Error(t, err)
		s.SetChaos(Chaos{})
		_, _, err = gh.Repositories.Get(ctx, "octo", "models")
		require.NoError(t, err)
	})
	t.Run("a lost answer lands the write and answers 502", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.FailNext("POST", "/repos/octo/models/issues/*/comments", 1, LostAnswer)
		_, resp, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, &github.IssueComment{Body: github.String("hi")})
		require.Error(t, err)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.Len(t, s.Comments("octo/models", 7), 1, "the comment was written all the same")
		assert.Equal(t, map[Fault]int{LostAnswer: 1}, s.Injected())
	})
	t.Run("a lost answer drawn for a read is a 502", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.SetChaos(Chaos{Rate: 1, Faults: []Fault{LostAnswer}})
		_, resp, err := gh.Repositories.Get(ctx, "octo", "models")
		require.Error(t, err)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.Equal(t, map[Fault]int{BadGateway: 1}, s.Injected())
	})
	t.Run("down answers 503 to everything, tokens included, until up", func(t *testing.T) {
		s := New(t)
		scenario(s)
		gh, _ := newClient(t, s)
		s.SetDown(true)
		_, resp, err := gh.Repositories.Get(ctx, "octo", "models")
		require.Error(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"app/installations/1/access_tokens", nil)
		req.Header.Set("User-Agent", "test")
		tok, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		tok.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, tok.StatusCode)
		s.SetDown(false)
		_, _, err = gh.Repositories.Get(ctx, "octo", "models")
		require.NoError(t, err)
		assert.Equal(t, 2, s.Injected()[Unavailable])
	})
}
