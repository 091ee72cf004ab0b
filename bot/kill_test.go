package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// botProcessEnv makes the test binary the bot itself, for a test to run
// as a process of its own and kill.
const botProcessEnv = "MODELGATE_TEST_BOT_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(botProcessEnv) != "" {
		main() // exits
	}
	os.Exit(m.Run())
}

// botProcess runs `bot serve` in a process of its own on the scenario's
// database, calling GitHub at githubURL; it returns the webhook URL.
func botProcess(t *testing.T, s *scenario, githubURL string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--bot-login", fakegithub.BotLogin())
	cmd.Env = append(os.Environ(), botProcessEnv+"=1", "GOMAXPROCS=2",
		"MODELGATE_APP_ID="+strconv.FormatInt(fakegithub.AppID, 10), "MODELGATE_PRIVATE_KEY="+string(s.gh.AppPrivateKeyPEM()),
		"MODELGATE_WEBHOOK_SECRET="+secret, "MODELGATE_DB="+s.db, "MODELGATE_GITHUB_URL="+githubURL)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go io.Copy(io.Discard, stderr) // the bot never blocks on its log
			return cmd, "http://" + line.Addr + "/webhook"
		}
	}
	t.Fatalf("the bot exited before listening")
	return nil, ""
}

// gate holds the first request that passes it until it is opened, or
// until its caller goes away.
type gate struct {
	once   sync.Once
	held   chan struct{} // closed when the first request arrives
	opened chan struct{}
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		g.once.Do(func() { first = true; close(g.held) })
		if first {
			select {
			case <-g.opened:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// A bot killed with SIGKILL right after it acknowledged a delivery, while
// the delivery's work waits on GitHub, loses it to the next bot on its
// database within one lease, seconds after the kill rather than minutes,
// and the command is answered once.
func TestKilledBotsDeliveryIsTakenOverInSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two bot processes and waits out a lease")
	}
	s := fakeScenario(t)
	target, err := url.Parse(s.gh.URL())
	require.NoError(t, err)
	target.Path = ""
	g := &gate{held: make(chan struct{}), opened: make(chan struct{})}
	forward := httputil.NewSingleHostReverseProxy(target)
	forward.ErrorLog = log.New(io.Discard, "", 0) // the killed bot's request breaks off
	proxy := httptest.NewServer(g.wrap(forward))
	t.Cleanup(proxy.Close)
	githubURL := proxy.URL + fakegithub.BasePath + "/"

	first, webhook := botProcess(t, s, githubURL)
	resp, err := http.DefaultClient.Do(fakegithub.SignedRequest(t, webhook, secret, "issue_comment", "d-kill",
		s.comment(1, "alice", "/help")))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	select {
	case <-g.held: // the delivery's work waits on GitHub
	case <-time.After(30 * time.Second):
		t.Fatal("the bot never called GitHub")
	}
	require.NoError(t, first.Process.Kill()) // SIGKILL
	var exit *exec.ExitError
	require.True(t, errors.As(first.Wait(), &exit), "killed")
	killed := time.Now()
	close(g.opened)

	botProcess(t, s, githubURL)
	deadline := killed.Add(2 * time.Minute)
	for len(s.replies(1)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("the delivery was taken over and answered %.1fs after the kill", took.Seconds())
	replies := s.replies(1)
	require.Len(t, replies, 1, "answered once")
	assert.True(t, strings.Contains(replies[0], "modelgate commands"))
	assert.Less(t, took, 20*time.Second, "taken over within a lease, not minutes")
	assert.Empty(t, s.gh.Violations())
}
