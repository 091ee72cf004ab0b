// Package pgtest starts a throwaway PostgreSQL server for tests and hands
// each test a database of its own.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modelgate/modelgate/internal/needs"
)

// ErrMissing is returned when no PostgreSQL installation is found.
var ErrMissing = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// Server is one PostgreSQL server shared by the tests of a package. The zero
// value is ready: the server starts on the first DSN call. Call Stop from
// TestMain after m.Run.
type Server struct {
	once   sync.Once
	inst   *instance
	err    error
	serial atomic.Int64
}

// DSN creates an empty database for t, dropped when t ends, and returns its
// postgres:// URL. Without PostgreSQL it skips t loudly, or fails it when
// CI=true.
func (s *Server) DSN(t testing.TB) string {
	t.Helper()
	s.once.Do(func() { s.inst, s.err = start(context.Background(), Options{}) })
	if errors.Is(s.err, ErrMissing) {
		needs.Missing(t, "PostgreSQL", "install it (apt-get install -y --no-install-recommends postgresql) or set PGTEST_BIN", s.err)
	}
	if s.err != nil {
		t.Fatalf("pgtest: %v", s.err)
	}
	name := fmt.Sprintf("t%d_%s", s.serial.Add(1), sanitize(t.Name()))
	dsn, err := s.inst.createDatabase(context.Background(), name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.inst.dropDatabase(context.Background(), name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dsn
}

// Run runs a package's tests, then stops the server; from TestMain:
// os.Exit(pg.Run(m)).
func (s *Server) Run(m *testing.M) int {
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop postgres:", err)
		code = 1
	}
	return code
}

// Race runs fn for each of replicas, all released at the same moment, as
// replicas racing for the same rows would, and waits for them.
func Race[T any](replicas []T, fn func(i int, r T)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, r := range replicas {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i, r)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// Stop shuts the server down and removes its files; safe to call when it
// never started.
func (s *Server) Stop() error {
	s.once.Do(func() { s.err = errors.New("stopped") })
	if s.inst == nil {
		return nil
	}
	return s.inst.stop()
}

// Options tune a server; the zero value finds the binaries on its own.
type Options struct {
	// BinDir holds initdb and postgres; found from PGTEST_BIN, PATH or
	// /usr/lib/postgresql/*/bin when empty.
	BinDir string
	// StartTimeout bounds the wait for the server to accept connections.
	StartTimeout time.Duration
}

// instance is a running server.
type instance struct {
	dir   string // removed at stop
	port  int
	cmd   *exec.Cmd
	exit  chan error // receives the server's exit
	admin string     // DSN of the postgres database
}

// FindBinDir returns the directory holding initdb and postgres.
func FindBinDir() (string, error) {
	if dir := os.Getenv("PGTEST_BIN"); dir != "" {
		return checkBinDir(dir)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir, err := checkBinDir(filepath.Dir(p)); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if dir, err := checkBinDir(dir); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w on PGTEST_BIN, PATH or /usr/lib/postgresql/*/bin", ErrMissing)
}

func checkBinDir(dir string) (string, error) {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%w: %v", ErrMissing, err)
		}
	}
	return dir, nil
}

// version reads 15 out of /usr/lib/postgresql/15/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// start initialises a data directory and runs a server on a free port.
func start(ctx context.Context, opts Options) (*instance, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	find := FindBinDir
	if opts.BinDir != "" {
		find = func() (string, error) { return checkBinDir(opts.BinDir) }
	}
	bin, err := find()
	if err != nil {
		return nil, err
	}
	owner, err := findServerUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if err := owner.chown(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	in := &instance{dir: dir}
	if err := in.initdb(ctx, bin, owner); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The free port may be taken before postgres binds it: try another.
	for attempt := 1; ; attempt++ {
		err := in.run(ctx, bin, owner, opts.StartTimeout)
		if err == nil {
			return in, nil
		}
		if attempt == 3 || !in.exited() {
			in.stop()
			return nil, err
		}
		in.cmd = nil
	}
}

// exited reports whether the server process has ended (and lets stop
// see it again).
func (in *instance) exited() bool {
	select {
	case err := <-in.exit:
		in.exit <- err
		return true
	default:
		return false
	}
}

func (in *instance) initdb(ctx context.Context, bin string, owner serverUser) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "--pgdata", filepath.Join(in.dir, "data"),
		"--username", "postgres", "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	owner.apply(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(string(out)))
	}
	return nil
}

// run starts postgres and waits until it accepts connections.
func (in *instance) run(ctx context.Context, bin string, owner serverUser, timeout time.Duration) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	in.port = port
	logPath := filepath.Join(in.dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	in.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(in.dir, "data"),
		"-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+in.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	in.cmd.Stdout, in.cmd.Stderr = logFile, logFile
	owner.apply(in.cmd)
	if err := in.cmd.Start(); err != nil {
		in.cmd = nil
		return fmt.Errorf("start postgres: %w", err)
	}
	in.exit = make(chan error, 1)
	go func() { in.exit <- in.cmd.Wait() }()
	in.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := in.waitReady(ctx, timeout); err != nil {
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres on port %d: %w; server log: %s", port, err, tail(string(log)))
	}
	return nil
}

func (in *instance) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, in.admin)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case werr := <-in.exit:
			in.exit <- werr // stop reads it again
			return fmt.Errorf("exited before accepting connections: %v", werr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (in *instance) createDatabase(ctx context.Context, name string) (string, error) {
	if err := in.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: fmt.Sprintf("127.0.0.1:%d", in.port),
		Path: "/" + name, RawQuery: "sslmode=disable"}
	return u.String(), nil
}

func (in *instance) dropDatabase(ctx context.Context, name string) error {
	if err := in.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func (in *instance) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, in.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// stop asks for a fast shutdown, waits for it, and removes the files.
func (in *instance) stop() error {
	var err error
	if in.cmd != nil {
		in.cmd.Process.Signal(os.Interrupt) // SIGINT: fast shutdown
		select {
		case <-in.exit:
		case <-time.After(20 * time.Second):
			in.cmd.Process.Kill()
			<-in.exit
			err = errors.New("postgres did not shut down in 20s; killed")
		}
	}
	return errors.Join(err, os.RemoveAll(in.dir))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sanitize turns a test name into the tail of a database name.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

func tail(s string) string {
	const max = 2000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return strings.TrimSpace(s)
}
