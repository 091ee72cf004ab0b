package imagetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBotImageServes(t *testing.T) {
	_, img := requireImages(t)

	pool := x509.NewCertPool()
	bundle, err := os.ReadFile(filepath.Join(img.Root, "etc/ssl/certs/ca-certificates.crt"))
	require.NoError(t, err, "the bot calls GitHub over TLS: the image needs CA certificates")
	require.True(t, pool.AppendCertsFromPEM(bundle))

	uid, gid := imageUser(t, img)
	assert.NotZero(t, uid, "the bot does not run as root")
	addr := freeAddr(t)
	env := img.Environ("MODELGATE_APP_ID=12345", "MODELGATE_PRIVATE_KEY="+privateKeyPEM(t), "MODELGATE_WEBHOOK_SECRET=s3cret",
		"MODELGATE_LISTEN="+addr, "MODELGATE_PROMETHEUS_URL=http://127.0.0.1:9")
	var logs strings.Builder
	c := Container{Root: img.Root, Env: env, Dir: orRoot(img.WorkingDir), UID: uid, GID: gid,
		Args: append(append([]string{}, img.Entrypoint...), img.Cmd...), Stdout: &logs, Stderr: &logs}
	cmd, err := c.Command(t.Context())
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	require.Eventually(t, func() bool { code, _ := get("/healthz"); return code == http.StatusOK }, 20*time.Second, 50*time.Millisecond,
		"bot serve answers /healthz: %s", &logs)
	code, body := get("/readyz")
	assert.Equal(t, http.StatusOK, code, "its SQLite store in /data is writable by its user: %s", body)
	code, body = get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "go_goroutines")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err, "bot serve stops cleanly on SIGTERM: %s", &logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("bot serve did not stop: %s", &logs)
	}
	_, err = os.Stat(filepath.Join(img.Root, "data", "modelgate.db"))
	assert.NoError(t, err, "the store is where MODELGATE_DB says")
}

// imageUser is the image's USER, which must be numeric: a container
// engine resolves names in the image's /etc/passwd, and this image has
// no entry for its user.
func imageUser(t *testing.T, img *Image) (uid, gid int) {
	t.Helper()
	if img.User == "" {
		return 0, 0
	}
	u, g, _ := strings.Cut(img.User, ":")
	uid, err := strconv.Atoi(u)
	require.NoError(t, err, "USER %s", img.User)
	gid = uid
	if g != "" {
		gid, err = strconv.Atoi(g)
		require.NoError(t, err, "USER %s", img.User)
	}
	return uid, gid
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func privateKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}
