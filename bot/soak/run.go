package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/internal/failpoint"
	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/internal/pgtest"
	"github.com/modelgate/modelgate/internal/promtest"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/store"
)

// soak is one run: the world, the replicas and what happened.
type soak struct {
	t        testing.TB
	c        Config
	start    time.Time
	gh       *fakegithub.Server
	github   *github
	traffic  *traffic
	prom     *promtest.Restartable
	db       string
	disk     string // the tmpfs holding the SQLite file, "" when none
	st       store.Store
	replicas []*replica
	deaths   chan death
	killLog  string
	// rng draws the chaos's kills, pauses the restarts' delays: one source
	// per goroutine, since a rand.Rand is not safe for concurrent use.
	rng, pauses *rand.Rand
	launches    []*launch

	mu       sync.Mutex
	res      Result
	quiet    bool // chaos is over: replicas start without failpoints
	takeOver sync.WaitGroup
}

// Run runs one soak and returns what it found; the world it builds is
// torn down when t ends.
func Run(t testing.TB, c Config) Result {
	t.Helper()
	s := &soak{t: t, c: c, start: time.Now(), deaths: make(chan death, 16), rng: rand.New(rand.NewPCG(c.Seed, 7)),
		pauses: rand.New(rand.NewPCG(c.Seed, 8)),
		res:    Result{Name: c.Name, Faults: map[string]int{}}}
	s.world()
	s.run()
	s.res.Took = time.Since(s.start)
	return s.res
}

func (s *soak) logf(format string, args ...any) {
	if s.c.Log != nil {
		fmt.Fprintf(s.c.Log, "[%s %6.1fs] %s\n", s.c.Name, time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

func (s *soak) violate(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := fmt.Sprintf(format, args...)
	s.res.Violations = append(s.res.Violations, v)
	s.logf("violation: %s", v)
}

func (s *soak) fault(kind string) {
	s.mu.Lock()
	s.res.Faults[kind]++
	s.mu.Unlock()
}

// world starts the fakes, Prometheus, the database and the replicas.
func (s *soak) world() {
	t := s.t
	s.gh = fakegithub.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.traffic = newTraffic(ctx, max(s.c.Rollouts, 1))
	target := httptest.NewServer(s.traffic)
	t.Cleanup(target.Close)
	s.prom = promtest.StartRestartable(t, strings.TrimPrefix(target.URL, "http://"), 250*time.Millisecond)
	s.db = s.database()
	st, err := store.Open(context.Background(), s.db)
	if err != nil {
		t.Fatalf("soak: open the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	s.st = st
	dir := t.TempDir()
	s.killLog = filepath.Join(dir, "failpoint-kills")
	env := []string{"GOMAXPROCS=2", "GOGC=400",
		"MODELGATE_APP_ID=" + strconv.FormatInt(fakegithub.AppID, 10), "MODELGATE_PRIVATE_KEY=" + string(s.gh.AppPrivateKeyPEM()),
		"MODELGATE_WEBHOOK_SECRET=" + secret, "MODELGATE_DB=" + s.db, "MODELGATE_GITHUB_URL=" + s.gh.URL(),
		"MODELGATE_PROMETHEUS_URL=" + s.prom.URL, "MODELGATE_FAILPOINT_LOG=" + s.killLog}
	for i := range max(s.c.Replicas, 1) {
		r, err := newReplica(i, dir, env, s.c.Bot)
		if err != nil {
			t.Fatalf("soak: %v", err)
		}
		s.replicas = append(s.replicas, r)
	}
	t.Cleanup(func() {
		for _, r := range s.replicas {
			r.stop()
		}
	})
	s.github = newGitHub(s.gh, t, s.c.Seed, s.targets)
	s.github.shift = s.shift
	for _, r := range s.replicas {
		if err := r.start(s.failpointEnv(), s.deaths); err != nil {
			t.Fatalf("soak: %v", err)
		}
	}
}

// database is a PostgreSQL database, or a SQLite file: on a small tmpfs
// of its own when the disk is to fill up.
func (s *soak) database() string {
	if s.c.Postgres {
		var pg pgtest.Server
		s.t.Cleanup(func() { _ = pg.Stop() })
		return pg.DSN(s.t)
	}
	dir := s.t.TempDir()
	if s.c.DiskFull.For > 0 {
		if err := mountTmpfs(dir); err != nil {
			s.t.Logf("soak: no tmpfs for the database (%v): the disk will not fill up", err)
		} else {
			s.disk = dir
			s.t.Cleanup(func() { unmount(dir) })
		}
	}
	return filepath.Join(dir, "modelgate.db")
}

func (s *soak) failpointEnv() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quiet || len(s.c.Failpoints) == 0 {
		return nil
	}
	return []string{"MODELGATE_FAILPOINTS=" + failpoint.Arm(s.c.Failpoints)}
}

// targets are the addresses of the live replicas.
func (s *soak) targets() []string {
	var out []string
	for _, r := range s.replicas {
		if _, ok := r.alive(); ok {
			out = append(out, r.addr)
		}
	}
	return out
}

// run launches the rollouts over the chaos, injects the faults, restarts
// what dies, and checks what became of it all.
func (s *soak) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.chaos(ctx) })
	wg.Go(func() { s.restarts(ctx) })
	s.drive()
	cancel()
	wg.Wait()
	s.takeOver.Wait()
	for _, r := range s.replicas {
		r.stop()
	}
	s.check()
}

// drive starts the rollouts, plays GitHub until every rollout has ended
// and every delivery was taken, or the time is up.
func (s *soak) drive() {
	n := max(s.c.Rollouts, 1)
	every := s.c.Chaos / time.Duration(n+1)
	deadline := s.start.Add(s.c.Chaos + s.c.Drain)
	for i := range n {
		regressed := s.c.RegressedEvery > 0 && (i+1)%s.c.RegressedEvery == 0
		s.launches = append(s.launches, &launch{pr: i + 1, model: modelName(i), regressed: regressed})
	}
	next := 0
	for time.Now().Before(deadline) {
		for next < n && time.Since(s.start) >= time.Duration(next)*every {
			l := s.launches[next]
			s.github.open(l)
			s.logf("opened #%d (%s, %s)", l.pr, l.model, map[bool]string{true: "regressed", false: "healthy"}[l.regressed])
			next++
		}
		waiting := s.github.step()
		if next == n && waiting == 0 && time.Since(s.start) > s.c.Chaos && s.ended() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.logf("time is up: %d deliveries not taken, rollouts not ended: %v", s.github.step(), s.unended())
}

// shift is the deploy workflow moving a deployment's traffic.
func (s *soak) shift(dep fakegithub.Deployment) {
	p := payloadOf(dep)
	for _, l := range s.launches {
		if l.model == p.Model {
			s.traffic.shift(l, p.TrafficPercent)
		}
	}
}

// ended says every rollout has a row that ended with its effects done.
func (s *soak) ended() bool { return len(s.unended()) == 0 }

// unended are the rollouts that have not ended with their effects done,
// each with where it stands.
func (s *soak) unended() []string {
	rows, err := s.st.ListRollouts(context.Background(), store.RolloutFilter{Repo: repo, Limit: 1000})
	if err != nil {
		return []string{fmt.Sprintf("list rollouts: %v", err)}
	}
	latest := map[int]store.Rollout{} // rows come newest first
	for _, ro := range rows {
		if _, ok := latest[ro.PR]; !ok {
			latest[ro.PR] = ro
		}
	}
	var out []string
	for _, l := range s.launches {
		ro, ok := latest[l.pr]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("#%d not started", l.pr))
		case ro.Active():
			out = append(out, fmt.Sprintf("#%d %s at stage %d (%s)", l.pr, ro.State, ro.Stage, reason(ro)))
		case strings.Contains(string(ro.Record), `"outbox"`):
			out = append(out, fmt.Sprintf("#%d %s with effects undone", l.pr, ro.State))
		}
	}
	return out
}

// reason is why a rollout stands where it does, as its record says.
func reason(ro store.Rollout) string {
	d, err := canary.Decode(ro)
	if err != nil {
		return err.Error()
	}
	return d.Record.State.Reason
}

// restarts starts a process again in each slot whose process died, and
// times the take-over of the jobs it held.
func (s *soak) restarts(ctx context.Context) {
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-s.deaths:
			cause := "kill -9 (timer)"
			if !d.byUs {
				kills := failpoint.ReadLog(readFile(s.killLog))
				switch {
				case len(kills) > seen && d.signaled:
					k := kills[len(kills)-1]
					seen = len(kills)
					cause, d.at = "kill -9 at "+k.Point, k.At
				default:
					s.violate("bot %d (pid %d) exited by itself: %v; its log ends:\n%s", d.slot, d.pid, d.err, tail(d.log, 20))
					cause = "exit"
				}
			} else if s.isQuiet() {
				continue // stopped at the end of the chaos, to restart without failpoints
			}
			s.fault(cause)
			s.logf("bot %d (pid %d): %s", d.slot, d.pid, cause)
			s.takeOver.Go(func() { s.timeTakeOver(d) })
			time.Sleep(time.Duration(200+s.pauses.IntN(1500)) * time.Millisecond)
			if err := s.replicas[d.slot].start(s.failpointEnv(), s.deaths); errors.Is(err, errExited) {
				continue // killed at a failpoint while starting: its death restarts it
			} else if errors.Is(err, errRunning) {
				continue // the end of the chaos restarted it
			} else if err != nil {
				s.violate("restart bot %d: %v", d.slot, err)
				continue
			}
			s.mu.Lock()
			s.res.Restarts++
			s.mu.Unlock()
		}
	}
}

func (s *soak) isQuiet() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quiet
}

// timeTakeOver waits until no job is held by the dead process any more.
func (s *soak) timeTakeOver(d death) {
	q := s.st.Queue()
	deadline := d.at.Add(2 * time.Minute)
	first := true
	for time.Now().Before(deadline) {
		held, err := q.Holders(context.Background())
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		n := 0
		for owner, k := range held {
			if ownedBy(owner, d.pid) {
				n += k
			}
		}
		switch {
		case n == 0 && first:
			return // it held nothing
		case n == 0:
			s.mu.Lock()
			s.res.TakeOvers = append(s.res.TakeOvers, time.Since(d.at))
			s.mu.Unlock()
			return
		}
		first = false
		time.Sleep(100 * time.Millisecond)
	}
	s.violate("the jobs of bot %d (pid %d) were still held 2 minutes after it died", d.slot, d.pid)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// sorted returns a sorted copy.
func sorted(ds []time.Duration) []time.Duration {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}
