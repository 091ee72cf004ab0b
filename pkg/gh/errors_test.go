package gh

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
)

func TestMapErr(t *testing.T) {
	answer := func(code int) error {
		return &github.ErrorResponse{Response: &http.Response{StatusCode: code, Request: &http.Request{}}, Message: "m"}
	}
	other := errors.New("connection reset")
	tests := []struct {
		name               string
		err                error
		notFound, rejected bool
	}{
		{"404", answer(http.StatusNotFound), true, false},
		{"422", answer(http.StatusUnprocessableEntity), false, true},
		{"409", answer(http.StatusConflict), false, true},
		{"400", answer(http.StatusBadRequest), false, true},
		{"410", answer(http.StatusGone), false, true},
		{"502 is worth a retry", answer(http.StatusBadGateway), false, false},
		{"403 (a rate limit) is worth a retry", answer(http.StatusForbidden), false, false},
		{"the network", other, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapErr(tt.err)
			assert.ErrorIs(t, got, tt.err, "the answer is kept")
			assert.Equal(t, tt.notFound, errors.Is(got, ErrNotFound))
			assert.Equal(t, tt.rejected, errors.Is(got, ErrRejected))
		})
	}
	assert.NoError(t, mapErr(nil))
}
