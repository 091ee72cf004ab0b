package gh

import (
	"errors"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
)

func TestEachPage(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		pages   int // pages GitHub has
		doneAt  int // page at which fetch is done; 0 never
		failAt  int // page whose fetch fails; 0 never
		fetched int
		err     error
	}{
		{"one page", 1, 0, 0, 1, nil},
		{"every page", 5, 0, 0, 5, nil},
		{"done early", 5, 2, 0, 2, nil},
		{"error", 5, 0, 3, 3, boom},
		{"bounded", 100, 0, 0, maxPages, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &github.ListOptions{}
			var fetched []int
			err := eachPage(opts, func() (*github.Response, bool, error) {
				page := max(opts.Page, 1)
				fetched = append(fetched, page)
				if page == tt.failAt {
					return nil, false, boom
				}
				resp := &github.Response{}
				if page < tt.pages {
					resp.NextPage = page + 1
				}
				return resp, page == tt.doneAt, nil
			})
			assert.ErrorIs(t, err, tt.err)
			if tt.err == nil {
				assert.NoError(t, err)
			}
			assert.Len(t, fetched, tt.fetched)
			for i, p := range fetched {
				assert.Equal(t, i+1, p, "pages in order")
			}
		})
	}
}
