package promtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/loopback"
)

// Restartable is a Prometheus scraping one target that a soak stops and
// starts again, on the same address and data, as an outage would.
type Restartable struct {
	// URL is the server's base URL; it stays the same across restarts.
	URL string

	t                            testing.TB
	prometheus, configFile, data string
	addr                         string
	mu                           sync.Mutex
	s                            *server // nil while stopped
}

// StartRestartable starts Prometheus scraping target every interval and
// waits until it has scraped once; it stops when the test ends.
func StartRestartable(t testing.TB, target string, interval time.Duration) *Restartable {
	t.Helper()
	prometheus, _ := binaries(t)
	dir := t.TempDir()
	r := &Restartable{t: t, prometheus: prometheus, configFile: filepath.Join(dir, "prometheus.yml"), data: filepath.Join(dir, "data")}
	if err := os.WriteFile(r.configFile, []byte(scrapeConfig(target, interval)), 0o600); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	var err error
	for range startTries {
		var port int
		// Outside the ephemeral range, no connection takes the port
		// while Prometheus is stopped.
		if port, err = loopback.StablePort(); err != nil {
			break
		}
		r.addr = fmt.Sprintf("127.0.0.1:%d", port)
		if err = r.Start(); err == nil || !strings.Contains(err.Error(), errPortTaken.Error()) {
			break
		}
	}
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	r.URL = "http://" + r.addr
	if err := waitScraped(r.URL); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop ends Prometheus gently (its data stays); stopping a stopped one
// does nothing.
func (r *Restartable) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		r.s.stop(r.t)
		r.s = nil
	}
}

// Start runs Prometheus again on its address and data and waits until it
// is ready; starting a running one does nothing.
func (r *Restartable) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		return nil
	}
	s, err := startOn(r.prometheus, r.configFile, r.data, r.addr)
	if err != nil {
		return fmt.Errorf("restart prometheus on %s: %w", r.addr, err)
	}
	r.s = s
	return nil
}
