package fakegithub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signJWT makes an App JWT with the given claims, signed RS256 with key.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(unsigned))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestAppJWT(t *testing.T) {
	s := New(t)
	scenario(s)
	block, _ := pem.Decode(s.AppPrivateKeyPEM())
	require.NotNil(t, block)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	now := time.Now().Unix()
	good := map[string]any{"iss": AppID, "iat": now - 30, "exp": now + 120}
	tests := []struct {
		name   string
		key    *rsa.PrivateKey
		claims map[string]any
		want   int
	}{
		{"valid", key, good, http.StatusOK},
		{"issuer as string", key, map[string]any{"iss": "4242", "iat": now - 30, "exp": now + 120}, http.StatusOK},
		{"other app", key, map[string]any{"iss": 1, "iat": now - 30, "exp": now + 120}, http.StatusUnauthorized},
		{"expired", key, map[string]any{"iss": AppID, "iat": now - 700, "exp": now - 60}, http.StatusUnauthorized},
		{"lives too long", key, map[string]any{"iss": AppID, "iat": now, "exp": now + 3600}, http.StatusUnauthorized},
		{"other key", other, good, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwt := signJWT(t, tt.key, tt.claims)
			resp := send(t, s, "GET", "/repos/octo/models/installation", "", map[string]string{"Authorization": "Bearer " + jwt})
			body := decode(t, resp)
			assert.Equal(t, tt.want, resp.StatusCode, "%v", body["message"])
		})
	}
	t.Run("installation token on a repository endpoint", func(t *testing.T) {
		resp := send(t, s, "GET", "/repos/octo/models", "", map[string]string{"Authorization": "Bearer " + signJWT(t, key, good)})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a JWT is not an installation token")
		resp.Body.Close()
	})
	t.Run("unknown installation", func(t *testing.T) {
		resp := send(t, s, "POST", "/app/installations/77/access_tokens", "", map[string]string{"Authorization": "Bearer " + signJWT(t, key, good)})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp.Body.Close()
	})
	assert.Empty(t, s.Violations())
}
