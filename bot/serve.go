package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelgate/modelgate/bot/handler"
	"github.com/modelgate/modelgate/pkg/canary"
	"github.com/modelgate/modelgate/pkg/canary/command"
	"github.com/modelgate/modelgate/pkg/canary/effect"
	canaryengine "github.com/modelgate/modelgate/pkg/canary/engine"
	"github.com/modelgate/modelgate/pkg/canary/schedule"
	"github.com/modelgate/modelgate/pkg/chatops"
	"github.com/modelgate/modelgate/pkg/gh"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/modelgate/modelgate/pkg/governance"
	"github.com/modelgate/modelgate/pkg/instrument"
	"github.com/modelgate/modelgate/pkg/judge"
	"github.com/modelgate/modelgate/pkg/metrics"
	"github.com/modelgate/modelgate/pkg/queue"
	"github.com/modelgate/modelgate/pkg/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveConfig is everything `bot serve` is told, by flags or MODELGATE_* variables.
type serveConfig struct {
	AppID         int64
	PrivateKey    string // PEM text or a file path
	WebhookSecret string
	GitHubURL     string
	Listen        string
	DB            string
	PrometheusURL string
	BotLogin      string
	Workers       int
	MaxBody       int64
	LogLevel      string
	LogFormat     string
	// Poll is how often the rollout scheduler looks for due work.
	Poll time.Duration
	// Checks names the check runs that must pass before /canary.
	Checks string
	// WebURL is GitHub's web address, for links in comments.
	WebURL string
	// retry tunes the GitHub retry middleware; tests shorten its waits.
	retry githubapp.RetryTransport
	// now replaces the rollout engine's clock in tests.
	now func() time.Time
}

func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("bot serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	appID := fs.String("app-id", os.Getenv("MODELGATE_APP_ID"), "GitHub App id (MODELGATE_APP_ID)")
	fs.StringVar(&c.PrivateKey, "private-key", os.Getenv("MODELGATE_PRIVATE_KEY"), "App private key, PEM text or file path (MODELGATE_PRIVATE_KEY)")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", os.Getenv("MODELGATE_WEBHOOK_SECRET"), "webhook secret (MODELGATE_WEBHOOK_SECRET)")
	fs.StringVar(&c.GitHubURL, "github-url", envOr("MODELGATE_GITHUB_URL", githubapp.DefaultBaseURL), "GitHub REST API base URL (MODELGATE_GITHUB_URL)")
	fs.StringVar(&c.Listen, "listen", envOr("MODELGATE_LISTEN", ":8080"), "listen address (MODELGATE_LISTEN)")
	fs.StringVar(&c.DB, "db", envOr("MODELGATE_DB", "modelgate.db"), "SQLite file, or a postgres:// URL (MODELGATE_DB)")
	fs.StringVar(&c.PrometheusURL, "prometheus-url", os.Getenv("MODELGATE_PROMETHEUS_URL"), "default Prometheus provider (MODELGATE_PROMETHEUS_URL)")
	fs.StringVar(&c.BotLogin, "bot-login", "modelgate[bot]", "the App's own login, whose comments are ignored")
	fs.IntVar(&c.Workers, "workers", 4, "delivery workers")
	fs.Int64Var(&c.MaxBody, "max-body", githubapp.DefaultMaxBody, "largest webhook body accepted, in bytes")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "json or text")
	fs.DurationVar(&c.Poll, "poll", schedule.DefaultPoll, "how often the rollout scheduler looks for due analyses and effects")
	fs.StringVar(&c.Checks, "checks", command.DefaultChecksPattern, `check runs that must pass on the head commit before /canary (substring of the name; "-" for none)`)
	fs.StringVar(&c.WebURL, "web-url", "https://github.com", "GitHub's web address, for links (GitHub Enterprise Server: https://HOST)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var missing []string
	if *appID == "" {
		missing = append(missing, "--app-id/MODELGATE_APP_ID")
	} else if id, err := strconv.ParseInt(*appID, 10, 64); err != nil || id <= 0 {
		return c, fmt.Errorf("app id %q: want a positive number", *appID)
	} else {
		c.AppID = id
	}
	if c.PrivateKey == "" {
		missing = append(missing, "--private-key/MODELGATE_PRIVATE_KEY")
	}
	if c.WebhookSecret == "" {
		missing = append(missing, "--webhook-secret/MODELGATE_WEBHOOK_SECRET")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseServeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bot serve: %v\n", err)
		return 2
	}
	logger, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bot serve: %v\n", err)
		return 2
	}
	if os.Getenv("GOGC") == "" {
		// Each webhook allocates its body and a parse of it, and little of
		// that lives on: collecting a quarter as often cost 8% less CPU per
		// delivery under load (bot/loadgen) for a heap that stays small.
		debug.SetGCPercent(400)
	}
	srv, err := newServer(ctx, cfg, logger, prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintf(stderr, "bot serve: %v\n", err)
		return 2
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "bot serve: listen: %v\n", err)
		return 2
	}
	if err := srv.Serve(ctx, ln); err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg serveConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", cfg.LogFormat)
}

// server is the wired bot: store, GitHub clients, webhook intake, workers.
type server struct {
	cfg       serveConfig
	log       *slog.Logger
	store     store.Store
	clients   *githubapp.ClientCreator
	commands  *chatops.Service
	engine    *schedule.Scheduler
	events    *githubapp.Dispatcher
	worker    *queue.Worker
	webhook   *githubapp.WebhookHandler
	registry  *prometheus.Registry
	readiness *readiness
	mu        sync.Mutex
	draining  bool
}

// newServer wires the bot; the caller closes it.
func newServer(ctx context.Context, cfg serveConfig, log *slog.Logger, reg *prometheus.Registry) (*server, error) {
	key, err := githubapp.ReadPrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	apiMetrics := githubapp.NewAPIMetrics(reg)
	clients, err := githubapp.NewClientCreator(githubapp.ClientConfig{
		AppID: cfg.AppID, PrivateKey: key, BaseURL: cfg.GitHubURL, UserAgent: "modelgate/" + version, Metrics: apiMetrics,
		Retry: cfg.retry,
	})
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	instrument.NewGauges(reg, gauges{st})
	queues := instrument.NewQueues(reg)
	// The authorization rules are the bot's own (the embedded bundle), not
	// anything a pull request could change.
	policy, err := governance.Load(ctx, governance.Options{DefaultBundle: true})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("load the authorization policies: %w", err)
	}
	providers, err := metricProviders(cfg.PrometheusURL)
	if err != nil {
		st.Close()
		return nil, err
	}
	judgement, err := judge.New(judge.DefaultConfig())
	if err != nil {
		st.Close()
		return nil, err
	}
	installs := gh.Installations{Apps: clients}
	rollouts := canaryengine.New(canaryengine.Config{Store: st, Jobs: st.Queue(), Providers: providers, Judge: judgement,
		Clients:  effect.ClientsFunc(func(id int64) (effect.GitHub, error) { return installs.ForInstallation(id) }),
		BotLogin: cfg.BotLogin, WebURL: cfg.WebURL, ChecksPattern: cfg.Checks, Poll: cfg.Poll,
		Worker: workerName(), Logger: log, Now: cfg.now,
		Observer: instrument.NewEngine(reg), JobObserver: queues.For(canary.JobQueue, nil)})
	commands := &chatops.Service{
		Store: st, Policy: policy, Rollouts: rollouts.Commands, BotLogin: cfg.BotLogin, WebURL: cfg.WebURL,
		Calls: githubapp.CallsFrom, Logger: log,
	}
	dispatcher, err := githubapp.NewDispatcher(
		&handler.IssueComment{Clients: installs, Commands: commands},
		handler.DeploymentStatus{Rollouts: rollouts.Events},
		handler.PullRequest{Rollouts: rollouts.Events},
		handler.Installation{Clients: clients, Logger: log},
	)
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &server{cfg: cfg, log: log, store: st, clients: clients, commands: commands, engine: rollouts.Scheduler,
		events: dispatcher, registry: reg,
		readiness: &readiness{store: st, token: clients.CheckToken, worker: workerName(), every: readyEvery, now: time.Now}}
	s.worker = githubapp.NewWorker(st.Queue(), dispatcher)
	s.worker.Concurrency, s.worker.Logger = cfg.Workers, log
	s.worker.Observer = queues.For(githubapp.DeliveryQueue, githubapp.NewWorkerMetrics(reg))
	s.webhook = &githubapp.WebhookHandler{Secret: []byte(cfg.WebhookSecret), MaxBody: cfg.MaxBody, Queue: s.worker,
		Handles: dispatcher.Handles, Logger: log, Metrics: githubapp.NewWebhookMetrics(reg)}
	return s, nil
}

// gauges are what the rollout and queue gauges read at each scrape.
type gauges struct{ store.Store }

func (g gauges) Backlogs(ctx context.Context) ([]queue.Backlog, error) {
	return g.Queue().Backlogs(ctx)
}

// metricProviders configures the default Prometheus provider; without a
// URL, plans that ask for analysis are refused at /canary with the reason.
func metricProviders(prometheusURL string) (*metrics.Registry, error) {
	var configs []metrics.ProviderConfig
	if prometheusURL != "" {
		configs = append(configs, metrics.ProviderConfig{Name: metrics.DefaultProvider, Type: "prometheus", URL: prometheusURL})
	}
	reg, err := metrics.NewRegistry(configs)
	if err != nil {
		return nil, fmt.Errorf("metrics providers: %w", err)
	}
	return reg, nil
}

// workerName tells replicas apart in job leases.
func workerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// openStore opens the SQLite file or the PostgreSQL database cfg.DB names;
// a URL's credentials stay out of the error.
func openStore(ctx context.Context, db string) (store.Store, error) {
	return openWith(ctx, db, store.Open)
}

// openWith opens db with open, keeping a URL's credentials out of errors.
func openWith(ctx context.Context, db string, open func(context.Context, string) (store.Store, error)) (store.Store, error) {
	st, err := open(ctx, db)
	if err != nil && store.IsPostgresURL(db) {
		return nil, fmt.Errorf("store %s: %w", redactURL(db), redactErr(err, db))
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// redactErr drops the URL from err's text should a driver quote it.
func redactErr(err error, db string) error {
	if !strings.Contains(err.Error(), db) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), db, redactURL(db)))
}

func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		return "postgres://…" + u[at:]
	}
	return u
}

// Handler routes the four endpoints.
func (s *server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", s.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	return mux
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if draining {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.readiness.check(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// Serve answers on ln and runs the workers until ctx ends, then drains:
// stops taking deliveries, lets in-flight requests and work finish.
func (s *server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workersDone := make(chan struct{})
	engineDone := make(chan struct{})
	go func() { s.worker.Run(workCtx); close(workersDone) }()
	go func() { s.engine.Run(workCtx); close(engineDone) }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "github", s.cfg.GitHubURL, "db", s.cfg.DB)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutCtx); serr != nil && err == nil {
		err = serr
	}
	stopWork()
	<-workersDone
	<-engineDone
	s.log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close releases the store.
func (s *server) Close() error { return s.store.Close() }
