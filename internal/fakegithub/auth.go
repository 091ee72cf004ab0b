package fakegithub

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	// AppID is the id of the GitHub App the fake knows.
	AppID int64 = 4242
	// AppSlug is the App's slug; its comments are by "modelgate[bot]".
	AppSlug = "modelgate"
	// InstallationID is the id of the App's one installation, which covers
	// every repository (the webhook examples carry installation id 1 too).
	InstallationID int64 = 1
	// tokenLifetime is how long an installation token lives on GitHub.
	tokenLifetime = time.Hour
)

// appAuth holds the App's key, made on first use.
type appAuth struct {
	key *rsa.PrivateKey
}

// token is an installation access token the fake issued.
type token struct {
	installation int64
	expires      time.Time
}

// BotLogin is the login of the App's bot user, the author of what the App
// writes with an installation token.
func BotLogin() string { return AppSlug + "[bot]" }

// AppPrivateKeyPEM returns the App's private key (PKCS#1 PEM), made on first
// use. Once it exists, JWTs must be signed with it (RS256) and unexpired.
func (s *Server) AppPrivateKeyPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app.key == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.t.Fatalf("fakegithub: generate app key: %v", err)
		}
		s.app.key = key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.app.key)})
}

// InstallationToken issues an installation token directly, for tests that
// call the API without going through the access_tokens endpoint.
func (s *Server) InstallationToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueToken()
}

// ExpireTokens makes every installation token issued so far invalid, as if an
// hour had passed: requests carrying one get 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, tok := range s.tokens {
		tok.expires = time.Now().Add(-time.Second)
		s.tokens[k] = tok
	}
}

// issueToken makes a new installation token; s.mu must be held.
func (s *Server) issueToken() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		s.t.Fatalf("fakegithub: token: %v", err)
	}
	v := "ghs_" + hex.EncodeToString(b)
	s.tokens[v] = token{installation: InstallationID, expires: time.Now().Add(tokenLifetime)}
	return v
}

// appOnly are the operations GitHub authenticates with the App's JWT.
var appOnly = map[string]bool{
	"apps/create-installation-access-token": true,
	"apps/get-repo-installation":            true,
}

// authorize answers 401 when the request's credential is missing, unknown or
// expired for its operation.
func (s *Server) authorize(c *call) (int, string) {
	if c.auth == "" {
		return http.StatusUnauthorized, "Requires authentication"
	}
	if appOnly[c.op] {
		if err := s.checkJWT(c.auth); err != nil {
			return http.StatusUnauthorized, "A JSON web token could not be decoded: " + err.Error()
		}
		return 0, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[c.auth]
	if !ok || !time.Now().Before(tok.expires) {
		return http.StatusUnauthorized, "Bad credentials"
	}
	return 0, ""
}

// checkJWT checks an App JWT: its shape and claims always, its signature when
// the App key was handed out.
func (s *Server) checkJWT(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var claims struct {
		Iss any   `json:"iss"`
		Iat int64 `json:"iat"`
		Exp int64 `json:"exp"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	if fmt.Sprint(claims.Iss) != fmt.Sprint(AppID) {
		return fmt.Errorf("'Issuer' claim ('iss') must be the App id %d, got %v", AppID, claims.Iss)
	}
	s.mu.Lock()
	key, now := s.app.key, time.Now()
	s.mu.Unlock()
	if claims.Exp == 0 || now.Unix() >= claims.Exp || claims.Exp-claims.Iat > 600 {
		return fmt.Errorf("'Expiration time' claim ('exp') is too far in the future or in the past")
	}
	if key == nil {
		return nil
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("decode signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return nil
}
