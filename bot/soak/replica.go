package soak

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/internal/loopback"
)

// replica is one slot of a bot process: its address stays, its process
// is killed and started again.
type replica struct {
	slot int
	addr string
	env  []string
	bot  func(args ...string) *exec.Cmd
	logs string // the directory of the processes' logs

	mu      sync.Mutex
	cmd     *exec.Cmd
	pid     int
	started int
	killing bool // this controller is killing it
	// starting: a start is under way, so that two never run at once
	starting bool
	exited   chan struct{}
	status   error
}

// death is how a process ended.
type death struct {
	slot, pid int
	at        time.Time
	byUs      bool  // a kill of the controller's
	signaled  bool  // died of SIGKILL
	err       error // its exit
	log       string
}

func newReplica(slot int, dir string, env []string, bot func(args ...string) *exec.Cmd) (*replica, error) {
	// The slot's port outlives its processes: outside the ephemeral
	// range, no connection takes it while the slot's bot is dead.
	port, err := loopback.StablePort()
	if err != nil {
		return nil, fmt.Errorf("bot %d: %w", slot, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return &replica{slot: slot, addr: addr, env: env, bot: bot, logs: dir}, nil
}

// start runs a new process in the slot and waits until it answers
// /healthz; deaths hears of its end.
func (r *replica) start(extraEnv []string, deaths chan<- death) error {
	r.mu.Lock()
	if r.cmd != nil || r.starting {
		r.mu.Unlock()
		return fmt.Errorf("bot %d: %w", r.slot, errRunning)
	}
	r.starting = true
	defer func() {
		r.mu.Lock()
		r.starting = false
		r.mu.Unlock()
	}()
	r.started++
	n := r.started
	r.mu.Unlock()
	logPath := filepath.Join(r.logs, fmt.Sprintf("bot-%d-%d.log", r.slot, n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := r.bot("serve", "--listen", r.addr, "--poll", "100ms", "--workers", "4", "--log-level", "info")
	cmd.Env = append(append(cmd.Env, r.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start bot %d: %w", r.slot, err)
	}
	exited := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.pid, r.killing, r.exited = cmd, cmd.Process.Pid, false, exited
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logFile.Close()
		r.mu.Lock()
		d := death{slot: r.slot, pid: cmd.Process.Pid, at: time.Now(), byUs: r.killing, err: err, log: logPath}
		r.cmd = nil
		r.mu.Unlock()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				d.signaled = true
			}
		}
		close(exited)
		deaths <- d
	}()
	return r.waitHealthy(exited)
}

func (r *replica) waitHealthy(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + r.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("bot %d: %w", r.slot, errExited)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("bot %d did not answer /healthz within a minute", r.slot)
}

// errExited: the process ended before it answered.
var errExited = errors.New("exited before it answered")

// errRunning: the slot has a live process already (the end of the chaos
// restarted it while its death's restart waited): a second one would
// find the slot's address taken.
var errRunning = errors.New("a process of the slot runs already")

// alive says a process runs in the slot, and which.
func (r *replica) alive() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pid, r.cmd != nil
}

// kill sends SIGKILL, as kill -9, and waits for the process to be gone.
func (r *replica) kill() (pid int, ok bool) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	if cmd == nil {
		r.mu.Unlock()
		return 0, false
	}
	r.killing = true
	r.mu.Unlock()
	_ = cmd.Process.Kill()
	<-exited
	return cmd.Process.Pid, true
}

// stop ends the process gently (SIGTERM), as a deploy would.
func (r *replica) stop() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	if cmd != nil {
		r.killing = true
	}
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// ownedBy says a queue lease owner names process pid: the scheduler's
// "host-pid" or the delivery worker's "host/pid/random".
func ownedBy(owner string, pid int) bool {
	p := strconv.Itoa(pid)
	return strings.HasSuffix(owner, "-"+p) || strings.Contains(owner, "/"+p+"/")
}

// tail is the end of a log, for a violation's message.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
