package repository

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errReader yields its data, then an error.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadSized(t *testing.T) {
	tests := []struct {
		name        string
		r           io.Reader
		size, limit int64
		want        string
		wantErr     string
	}{
		{name: "as stated", r: strings.NewReader("abc"), size: 3, limit: 10, want: "abc"},
		{name: "shrank", r: strings.NewReader("ab"), size: 3, limit: 10, want: "ab"},
		{name: "empty", r: strings.NewReader(""), size: 0, limit: 10, want: ""},
		{name: "grew within the limit", r: strings.NewReader("abcdef"), size: 3, limit: 10, want: "abcdef"},
		// The caller refuses more than limit bytes: it reads one past it.
		{name: "grew over the limit", r: strings.NewReader("abcdefghijklmnop"), size: 3, limit: 10, want: "abcdefghijk"},
		{name: "error on the first read", r: &errReader{err: errors.New("disk on fire")}, size: 3, limit: 10, wantErr: "disk on fire"},
		{name: "error after growing", r: &errReader{data: "abcdef", err: errors.New("disk on fire")}, size: 3, limit: 10, wantErr: "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readSized(tt.r, tt.size, tt.limit)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}
