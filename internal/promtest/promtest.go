// Package promtest starts a real Prometheus server, backfilled with given samples, for tests.
package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/needs"
)

// Timeouts of the harness; generous, for a busy CI machine.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3
)

// config scrapes nothing: all data comes from the backfill.
const config = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n"

// Start backfills openMetrics (OpenMetrics text ending in "# EOF") into a
// fresh TSDB with promtool, starts Prometheus on a free port of 127.0.0.1
// and returns its base URL; the server stops when the test ends. Samples must
// lie in the past, at least a few minutes before now. Without prometheus and
// promtool on PATH the test is skipped, or fails when CI=true.
func Start(t testing.TB, openMetrics string) string {
	t.Helper()
	prometheus, promtool := binaries(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := backfill(promtool, dir, data, openMetrics); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	return run(t, prometheus, dir, data, config)
}

// StartScraping starts Prometheus scraping target (host:port, path
// /metrics) every interval, for tests that feed it live from an exporter
// they serve themselves, and returns its base URL.
func StartScraping(t testing.TB, target string, interval time.Duration) string {
	t.Helper()
	prometheus, _ := binaries(t)
	dir := t.TempDir()
	url := run(t, prometheus, dir, filepath.Join(dir, "data"), scrapeConfig(target, interval))
	if err := waitScraped(url); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	return url
}

func scrapeConfig(target string, interval time.Duration) string {
	return fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: 1m\n"+
		"scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [%q]\n",
		model(interval), model(interval), target)
}

// Scraper is a Prometheus scraping one target, started by a command (a
// benchmark) rather than a test.
type Scraper struct {
	// URL is the server's base URL.
	URL string
	s   *server
}

// StartScraper starts Prometheus in dir (which must exist and be empty)
// scraping target every interval, and waits until it has scraped once.
func StartScraper(dir, target string, interval time.Duration) (*Scraper, error) {
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, fmt.Errorf("promtest: a real Prometheus is needed (Debian: apt-get install -y prometheus): %w", err)
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(scrapeConfig(target, interval)), 0o600); err != nil {
		return nil, fmt.Errorf("promtest: %w", err)
	}
	var s *server
	for range startTries {
		s, err = start(prometheus, configFile, filepath.Join(dir, "data"))
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("promtest: %w", err)
	}
	if err := waitScraped(s.url); err != nil {
		s.kill()
		return nil, fmt.Errorf("promtest: %w", err)
	}
	return &Scraper{URL: s.url, s: s}, nil
}

// Close stops Prometheus.
func (sc *Scraper) Close() {
	_ = sc.s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sc.s.done:
	case <-time.After(stopTimeout):
		sc.s.kill()
	}
}

// waitScraped waits until Prometheus has scraped its target once: it
// hands static targets to the scraper only after its discovery delay
// (about five seconds), and a test must not judge a window before that.
func waitScraped(url string) error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/api/v1/query?query=up%3D%3D1")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"job":"test"`) {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("prometheus has not scraped its target after %v", readyTimeout)
}

// model writes a duration as Prometheus's configuration does (100ms, 1s).
func model(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// run writes the configuration and starts Prometheus on it.
func run(t testing.TB, prometheus, dir, data, cfg string) string {
	t.Helper()
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(cfg), 0o600); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	var err error
	for range startTries {
		var s *server
		s, err = start(prometheus, configFile, data)
		if err == nil {
			t.Cleanup(func() { s.stop(t) })
			return s.url
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("promtest: %v", err)
	return ""
}

// binaries finds prometheus and promtool, or skips the test loudly.
func binaries(t testing.TB) (prometheus, promtool string) {
	t.Helper()
	prometheus, err1 := exec.LookPath("prometheus")
	promtool, err2 := exec.LookPath("promtool")
	if err := errors.Join(err1, err2); err != nil {
		needs.Missing(t, "a real Prometheus", "Debian: apt-get install -y prometheus", err)
	}
	return prometheus, promtool
}

// backfill writes openMetrics to a file and turns it into TSDB blocks in data.
func backfill(promtool, dir, data, openMetrics string) error {
	input := filepath.Join(dir, "input.om")
	if err := os.WriteFile(input, []byte(openMetrics), 0o600); err != nil {
		return err
	}
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w\n%s", err, out)
	}
	return nil
}

var errPortTaken = errors.New("another process took the free port before prometheus could listen on it")

// server is a running Prometheus and what it logged.
type server struct {
	url  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// start runs prometheus on a free port and waits until it is ready.
func start(prometheus, configFile, data string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return startOn(prometheus, configFile, data, fmt.Sprintf("127.0.0.1:%d", port))
}

// startOn runs prometheus listening on addr and waits until it is ready.
func startOn(prometheus, configFile, data, addr string) (*server, error) {
	s := &server{url: "http://" + addr, logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(prometheus,
		"--config.file="+configFile,
		"--storage.tsdb.path="+data,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /-/ready until Prometheus answers 200 or gives up.
func (s *server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			if strings.Contains(s.logs.String(), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("prometheus exited before it was ready:\n%s", s.logs)
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready after %v:\n%s", readyTimeout, s.logs)
		case <-tick.C:
		}
	}
}

// stop ends Prometheus gently, then not, and shows its logs if the test failed.
func (s *server) stop(t testing.TB) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Logf("promtest: prometheus did not stop within %v; killing it", stopTimeout)
		s.kill()
	}
	if t.Failed() {
		t.Logf("promtest: prometheus logs:\n%s", s.logs)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// syncBuffer is a bytes.Buffer the process's output can be written to
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
