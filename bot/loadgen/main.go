// Command loadgen measures the bot's webhook intake: it starts `bot serve`
// on loopback (or targets one already running), sends signed issue_comment
// deliveries from this second process, some of them redelivered, and
// reports accepted deliveries per second and the acknowledgment latency.
// Then it checks the bot's store: every accepted delivery stored once and
// processed exactly once, none lost.
//
//	go build -o /tmp/bot ./bot && go run ./bot/loadgen -bot /tmp/bot -n 20000 -c 32
//
// -c alone measures capacity (closed loop: each connection sends when
// answered); -rate R sends on a fixed schedule and counts latency from
// the scheduled time, so a slow bot cannot hide its queueing. "bot cpu"
// is the bot's own CPU time per request, a figure that does not depend on
// what else the machine runs. Run it from the module root (the default
// -fixture is testdata/webhooks/issue_comment.created.json, a comment
// without a command, so the bot makes no GitHub API calls; its GitHub URL
// points at a closed loopback port). It sends only to 127.0.0.1 and stops
// after -n deliveries or -duration.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
)

type options struct {
	bot        string
	url        string
	secret     string
	db         string
	n          int
	rate       int
	conc       int
	dup        float64
	duration   time.Duration
	fixture    string
	gomaxprocs string
}

func main() {
	var o options
	flag.StringVar(&o.bot, "bot", "", "path of the bot binary to start (leave -url empty)")
	flag.StringVar(&o.url, "url", "", "webhook URL of a bot already running on loopback")
	flag.StringVar(&o.secret, "secret", "", "its webhook secret (with -url)")
	flag.StringVar(&o.db, "db", "", "its SQLite file, for the check (with -url)")
	flag.IntVar(&o.n, "n", 20000, "distinct deliveries to send")
	flag.IntVar(&o.rate, "rate", 0, "deliveries per second to aim at; 0 for as fast as answered")
	flag.IntVar(&o.conc, "c", 64, "concurrent connections")
	flag.Float64Var(&o.dup, "dup", 0.05, "fraction of deliveries sent a second time (GitHub redelivery)")
	flag.DurationVar(&o.duration, "duration", 2*time.Minute, "stop sending after this long")
	flag.StringVar(&o.fixture, "fixture", "testdata/webhooks/issue_comment.created.json", "payload to send")
	flag.StringVar(&o.gomaxprocs, "gomaxprocs", "2", "GOMAXPROCS of the bot it starts")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	payload, err := os.ReadFile(o.fixture)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	var bot *exec.Cmd
	if o.url == "" {
		if o.bot == "" {
			return errors.New("give -bot (a bot binary to start) or -url")
		}
		if bot, err = startBot(&o); err != nil {
			return err
		}
		defer bot.Process.Kill()
	}
	res := send(o, payload)
	res.print(os.Stdout)
	drain, err := waitDrained(o.db, 2*time.Minute)
	if err != nil {
		return err
	}
	fmt.Printf("drained:     all deliveries processed %.2fs after the last was sent\n", drain.Seconds())
	if bot != nil {
		bot.Process.Signal(syscall.SIGTERM)
		bot.Wait()
		// CPU time does not depend on what else the machine runs, unlike
		// the wall-clock figures above.
		cpu := bot.ProcessState.UserTime() + bot.ProcessState.SystemTime()
		per := cpu / time.Duration(max(res.sent, 1))
		fmt.Printf("bot cpu:     %.2fs user+sys, %s per request: %.0f requests/s per core of CPU\n",
			cpu.Seconds(), ms(per), float64(time.Second)/float64(per))
	}
	return check(o.db, res)
}

// startBot runs `bot serve` on a loopback port with a fresh key, secret and database.
func startBot(o *options) (*exec.Cmd, error) {
	dir, err := os.MkdirTemp("", "modelgate-loadgen-")
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "app.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	o.secret, o.db = hex.EncodeToString(secret), filepath.Join(dir, "bot.db")
	cmd := exec.Command(o.bot, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+o.gomaxprocs, "MODELGATE_APP_ID=1", "MODELGATE_PRIVATE_KEY="+keyFile,
		"MODELGATE_WEBHOOK_SECRET="+o.secret, "MODELGATE_DB="+o.db,
		"MODELGATE_GITHUB_URL=http://127.0.0.1:9/") // nothing listens: the load makes no API calls
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.bot, err)
	}
	addr, err := listenAddr(stderr)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	o.url = "http://" + addr + "/webhook"
	fmt.Printf("bot:         %s serve on %s, GOMAXPROCS=%s, db %s\n", o.bot, addr, o.gomaxprocs, o.db)
	return cmd, nil
}

// listenAddr reads the bot's log until it says where it listens, then
// keeps draining the log so the bot never blocks on it.
func listenAddr(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go io.Copy(io.Discard, r)
			return line.Addr, nil
		}
		fmt.Fprintln(os.Stderr, "bot:", sc.Text())
	}
	return "", errors.New("the bot exited before listening")
}

type result struct {
	sent, accepted, duplicate, other int
	errors                           int
	elapsed                          time.Duration
	latencies                        []time.Duration
	acceptedIDs                      []string
	firstErr                         string
}

// send delivers o.n distinct payloads (and o.dup of them again) with o.conc connections.
func send(o options, payload []byte) *result {
	total := o.n + int(float64(o.n)*o.dup)
	ids := make([]string, total)
	for i := range o.n {
		ids[i] = fmt.Sprintf("load-%d-%08d", time.Now().Unix(), i)
	}
	for i := o.n; i < total; i++ { // redeliveries, sent after all originals
		ids[i] = ids[(i-o.n)*o.n/max(total-o.n, 1)]
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conc, MaxConnsPerHost: o.conc}, Timeout: 10 * time.Second}
	sig := githubapp.Sign([]byte(o.secret), payload)
	var next atomic.Int64
	var mu sync.Mutex
	res := &result{}
	start := time.Now()
	deadline := start.Add(o.duration)
	var wg sync.WaitGroup
	for range o.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total || time.Now().After(deadline) {
					return
				}
				at := time.Now()
				if o.rate > 0 {
					at = start.Add(time.Duration(i) * time.Second / time.Duration(o.rate))
					time.Sleep(time.Until(at))
				}
				code, err := post(client, o.url, ids[i], sig, payload)
				lat := time.Since(at)
				mu.Lock()
				res.record(ids[i], code, err, lat)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func post(client *http.Client, url, id, sig string, payload []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (r *result) record(id string, code int, err error, lat time.Duration) {
	r.sent++
	switch {
	case err != nil:
		r.errors++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
		return
	case code == http.StatusAccepted:
		r.accepted++
		r.acceptedIDs = append(r.acceptedIDs, id)
	case code == http.StatusOK:
		r.duplicate++
	default:
		r.other++
		if r.firstErr == "" {
			r.firstErr = fmt.Sprintf("HTTP %d", code)
		}
	}
	r.latencies = append(r.latencies, lat)
}

func (r *result) print(w io.Writer) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(int(p*float64(len(r.latencies))), len(r.latencies)-1)]
	}
	fmt.Fprintf(w, "sent:        %d requests in %.2fs (%d accepted, %d redeliveries answered as duplicates, %d other, %d errors)\n",
		r.sent, r.elapsed.Seconds(), r.accepted, r.duplicate, r.other, r.errors)
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstErr)
	}
	fmt.Fprintf(w, "throughput:  %.0f accepted deliveries/s (%.0f requests/s)\n",
		float64(r.accepted)/r.elapsed.Seconds(), float64(r.sent)/r.elapsed.Seconds())
	fmt.Fprintf(w, "ack latency: p50 %s  p90 %s  p99 %s  max %s\n", ms(pct(.50)), ms(pct(.90)), ms(pct(.99)), ms(pct(1)))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// waitDrained polls the store until no delivery is pending or in progress.
func waitDrained(db string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	st, err := store.OpenSQLite(context.Background(), db, store.SQLiteOptions{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for time.Since(start) < limit {
		s, err := st.Queue().Stats(context.Background(), githubapp.DeliveryQueue)
		if err != nil {
			return 0, err
		}
		if s.ByState[queue.Pending]+s.ByState[queue.Running] == 0 {
			return time.Since(start), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("deliveries still queued after %s", limit)
}

// check compares what the bot acknowledged with what its store holds.
func check(db string, r *result) error {
	st, err := store.OpenSQLite(context.Background(), db, store.SQLiteOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	q := st.Queue()
	s, err := q.Stats(context.Background(), githubapp.DeliveryQueue)
	if err != nil {
		return err
	}
	lost := 0
	for _, id := range r.acceptedIDs {
		d, err := q.Get(context.Background(), githubapp.DeliveryQueue, id)
		if err != nil || d.State != queue.Done || d.Completions != 1 {
			lost++
		}
	}
	fmt.Printf("store:       %d deliveries, %d done, %d failed, %d processed more than once; %d accepted deliveries lost or unfinished\n",
		s.Total, s.ByState[queue.Done], s.ByState[queue.Failed], s.CompletedTwice, lost)
	if lost > 0 || s.CompletedTwice > 0 || s.Total != r.accepted {
		return fmt.Errorf("check failed: %d stored for %d accepted, %d lost, %d processed twice", s.Total, r.accepted, lost, s.CompletedTwice)
	}
	fmt.Println("check:       ok — every accepted delivery stored once and processed exactly once")
	return nil
}
