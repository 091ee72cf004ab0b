package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// DefaultBaseURL is github.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// ClientConfig says how to reach GitHub as the App.
type ClientConfig struct {
	AppID      int64
	PrivateKey []byte // PEM
	BaseURL    string // REST API root; GitHub Enterprise Server: https://host/api/v3/
	UserAgent  string
	// Transport sends the requests; it is wrapped in retries and counting.
	Transport http.RoundTripper
	Retry     RetryTransport // tuning of the retry middleware (Next is set here)
	Metrics   *APIMetrics
}

// ClientCreator makes GitHub clients for the App and its installations.
// Installation clients are cached, so each installation's token is
// fetched once and refreshed by ghinstallation shortly before it expires.
type ClientCreator struct {
	cfg     ClientConfig
	base    *url.URL
	http    http.RoundTripper // retries + counting, no auth
	apps    *ghinstallation.AppsTransport
	mu      sync.Mutex
	clients map[int64]*github.Client
	tokens  map[int64]*ghinstallation.Transport
	// last is the installation whose client was asked for last.
	last int64
}

// NewClientCreator checks cfg and builds the shared transports.
func NewClientCreator(cfg ClientConfig) (*ClientCreator, error) {
	if cfg.AppID == 0 {
		return nil, fmt.Errorf("github app: app id is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/") + "/")
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("github app: base url %q: want an http(s) URL", cfg.BaseURL)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "modelgate"
	}
	retry := cfg.Retry
	retry.Next = &CountingTransport{Next: cfg.Transport, Metrics: cfg.Metrics}
	retry.Metrics = cfg.Metrics
	apps, err := ghinstallation.NewAppsTransport(&retry, cfg.AppID, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("github app: private key: %w", err)
	}
	apps.BaseURL = strings.TrimSuffix(base.String(), "/")
	return &ClientCreator{cfg: cfg, base: base, http: &retry, apps: apps, clients: map[int64]*github.Client{},
		tokens: map[int64]*ghinstallation.Transport{}}, nil
}

// App returns a client authenticated as the App itself (JWT), for the
// /app endpoints.
func (c *ClientCreator) App() *github.Client {
	return c.newClient(c.apps)
}

// Installation returns the cached client of an installation.
func (c *ClientCreator) Installation(installationID int64) (*github.Client, error) {
	if installationID <= 0 {
		return nil, fmt.Errorf("github app: installation id %d: the event carries no installation", installationID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = installationID
	if cl, ok := c.clients[installationID]; ok {
		return cl, nil
	}
	itr := ghinstallation.NewFromAppsTransport(c.apps, installationID)
	cl := c.newClient(itr)
	c.clients[installationID] = cl
	c.tokens[installationID] = itr
	return cl, nil
}

// CheckToken says whether the App can get an installation token: it asks
// for the token of the installation served last, which ghinstallation
// keeps until shortly before it expires, so that a check costs a call to
// GitHub only when a new token is due. Before any installation was served
// there is nothing to ask for: the App's key was read at start.
func (c *ClientCreator) CheckToken(ctx context.Context) error {
	c.mu.Lock()
	itr, id := c.tokens[c.last], c.last
	c.mu.Unlock()
	if itr == nil {
		return nil
	}
	if _, err := itr.Token(ctx); err != nil {
		return fmt.Errorf("github app: token of installation %d: %w", id, err)
	}
	return nil
}

// Forget drops an installation's client, e.g. when the App is uninstalled.
func (c *ClientCreator) Forget(installationID int64) {
	c.mu.Lock()
	delete(c.clients, installationID)
	delete(c.tokens, installationID)
	c.mu.Unlock()
}

func (c *ClientCreator) newClient(rt http.RoundTripper) *github.Client {
	cl := github.NewClient(&http.Client{Transport: rt})
	cl.BaseURL = c.base
	cl.UploadURL = c.base
	cl.UserAgent = c.cfg.UserAgent
	return cl
}

// ReadPrivateKey takes PEM text, or the path of a PEM file.
func ReadPrivateKey(v string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	if v == "" {
		return nil, fmt.Errorf("private key: empty")
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return b, nil
}
