package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeConfigErrors(t *testing.T) {
	for _, name := range []string{"MODELGATE_APP_ID", "MODELGATE_PRIVATE_KEY", "MODELGATE_WEBHOOK_SECRET", "MODELGATE_DB", "MODELGATE_GITHUB_URL"} {
		t.Setenv(name, "")
	}
	key := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(key, fakegithub.New(t).AppPrivateKeyPEM(), 0o600))
	db := filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing set", nil, "missing --app-id/MODELGATE_APP_ID, --private-key/MODELGATE_PRIVATE_KEY, --webhook-secret/MODELGATE_WEBHOOK_SECRET"},
		{"bad app id", []string{"--app-id", "x", "--private-key", key, "--webhook-secret", "s"}, `app id "x": want a positive number`},
		{"unreadable key", []string{"--app-id", "1", "--private-key", "/nonexistent.pem", "--webhook-secret", "s", "--db", db}, "private key: open /nonexistent.pem"},
		{"not a key", []string{"--app-id", "1", "--private-key", "-----BEGIN nonsense", "--webhook-secret", "s", "--db", db}, "private key"},
		{"postgres unreachable", []string{"--app-id", "1", "--private-key", key, "--webhook-secret", "s", "--db", "postgres://u:pw@127.0.0.1:1/mg?connect_timeout=5"}, "store postgres://…@127.0.0.1:1/mg?connect_timeout=5: ping store"},
		{"bad github url", []string{"--app-id", "1", "--private-key", key, "--webhook-secret", "s", "--db", db, "--github-url", "ftp://x"}, `base url "ftp://x"`},
		{"bad log level", []string{"--app-id", "1", "--private-key", key, "--webhook-secret", "s", "--log-level", "loud"}, `log level "loud"`},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := runServe(context.Background(), tt.args, &bytes.Buffer{}, &stderr)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tt.want)
			assert.NotContains(t, stderr.String(), "pw@", "credentials are not printed")
		})
	}
}

func TestServeFromEnvironmentAndDrain(t *testing.T) {
	serveAndDrain(t, filepath.Join(t.TempDir(), "env.db"))
}

func TestServeOnPostgres(t *testing.T) {
	var pg pgtest.Server
	t.Cleanup(func() { assert.NoError(t, pg.Stop()) })
	serveAndDrain(t, pg.DSN(t))
}

// serveAndDrain runs bot serve on db, configured from the environment,
// until it is ready, then stops it.
func serveAndDrain(t *testing.T, db string) {
	gh := fakegithub.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("MODELGATE_APP_ID", "4242")
	t.Setenv("MODELGATE_PRIVATE_KEY", string(gh.AppPrivateKeyPEM()))
	t.Setenv("MODELGATE_WEBHOOK_SECRET", secret)
	t.Setenv("MODELGATE_GITHUB_URL", gh.URL())
	t.Setenv("MODELGATE_LISTEN", addr)
	t.Setenv("MODELGATE_DB", db)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int)
	go func() { done <- runServe(ctx, nil, &bytes.Buffer{}, &stderr) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(25 * time.Second):
		t.Fatal("bot serve did not stop")
	}
	assert.Contains(t, stderr.String(), `"msg":"listening"`)
	assert.Contains(t, stderr.String(), `"msg":"stopped"`)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  chan struct{}
	buf strings.Builder
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.String()
}
