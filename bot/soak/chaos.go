package soak

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/internal/fakegithub"
)

// githubFaults are the faults drawn for the share of GitHub calls that
// fail during the chaos.
var githubFaults = []fakegithub.Fault{fakegithub.ServerError, fakegithub.BadGateway, fakegithub.RateLimited,
	fakegithub.SecondaryRateLimited, fakegithub.LostAnswer}

// chaos injects the faults of the configuration on their schedule, then
// restarts the replicas without failpoints and lets the rollouts end.
func (s *soak) chaos(ctx context.Context) {
	s.gh.SetChaos(fakegithub.Chaos{Rate: s.c.GitHubFaults, Faults: githubFaults, Seed: s.c.Seed})
	outages := []struct {
		o          Outage
		name       string
		begin, end func()
	}{
		{s.c.GitHubDown, "GitHub down", func() { s.gh.SetDown(true); s.github.hold(true) },
			func() { s.gh.SetDown(false); s.github.hold(false) }},
		{s.c.PrometheusDown, "Prometheus stopped", s.prom.Stop, func() {
			if err := s.prom.Start(); err != nil {
				s.violate("%v", err)
			}
		}},
		{s.c.DiskFull, "disk full", s.fillDisk, s.emptyDisk},
	}
	kill := s.nextKill()
	for tick := time.NewTicker(50 * time.Millisecond); ; {
		select {
		case <-ctx.Done():
			tick.Stop()
			return
		case <-tick.C:
		}
		at := time.Since(s.start)
		for i := range outages {
			o := &outages[i]
			if o.o.For <= 0 || o.begin == nil || at < o.o.At {
				continue
			}
			if at < o.o.At+o.o.For {
				if o.name != "disk full" || s.disk != "" {
					s.logf("%s for %s", o.name, o.o.For)
					s.fault(o.name + " (" + o.o.For.String() + ")")
					o.begin()
				}
				o.begin = nil
			}
		}
		for i := range outages {
			o := &outages[i]
			if o.begin == nil && o.end != nil && at >= o.o.At+o.o.For {
				s.logf("%s: over", o.name)
				o.end()
				o.end = nil
			}
		}
		if kill > 0 && at >= kill && at < s.c.Chaos {
			s.killOne()
			kill = at + s.nextKill()
		}
		if at >= s.c.Chaos && !s.isQuiet() {
			s.calm()
		}
	}
}

func (s *soak) nextKill() time.Duration {
	if s.c.KillEvery <= 0 {
		return 0
	}
	return s.c.KillEvery/2 + time.Duration(s.rng.Int64N(int64(s.c.KillEvery)))
}

// killOne kills a random live replica with SIGKILL.
func (s *soak) killOne() {
	r := s.replicas[s.rng.IntN(len(s.replicas))]
	if pid, ok := r.kill(); ok {
		s.logf("killed bot %d (pid %d)", r.slot, pid)
	}
}

// calm ends the chaos: no more GitHub faults, and each replica restarted
// gently without failpoints, so that the rollouts can end.
func (s *soak) calm() {
	s.gh.SetChaos(fakegithub.Chaos{})
	s.mu.Lock()
	s.quiet = true
	s.mu.Unlock()
	for k, n := range s.gh.Injected() {
		s.mu.Lock()
		s.res.Faults["GitHub "+k.String()] += n
		s.mu.Unlock()
	}
	s.logf("chaos over: restarting the replicas without failpoints")
	for _, r := range s.replicas {
		r.stop()
		if err := r.start(nil, s.deaths); err != nil && !errors.Is(err, errRunning) {
			s.violate("restart bot %d after the chaos: %v", r.slot, err)
		}
	}
}

// fillDisk fills the database's tmpfs to the last byte.
func (s *soak) fillDisk() {
	f, err := os.Create(filepath.Join(s.disk, "filler"))
	if err != nil {
		s.violate("fill the disk: %v", err)
		return
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				s.violate("fill the disk: %v", err)
			}
			break
		}
	}
	for small := chunk[:4096]; ; {
		if _, err := f.Write(small); err != nil {
			return
		}
	}
}

func (s *soak) emptyDisk() {
	if s.disk == "" {
		return
	}
	if err := os.Remove(filepath.Join(s.disk, "filler")); err != nil {
		s.violate("empty the disk: %v", err)
	}
}

// mountTmpfs mounts a 64 MiB tmpfs on dir (root only).
func mountTmpfs(dir string) error {
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m,mode=0777", "tmpfs", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount tmpfs: %w: %s", err, out)
	}
	return nil
}

func unmount(dir string) { _ = exec.Command("umount", "-l", dir).Run() }
