package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/history"
	"github.com/modelgate/modelgate/pkg/store"
)

const historyUsage = `usage: bot history [flags]

Prints which version of each model served which environment, from when to
when, and who decided: per repository, model and environment, the version
live now (serving all traffic), the rollouts newest first with their outcome,
the traffic they reached and the decision's reason, and the versions that
served before. Reads the bot's store (--db or MODELGATE_DB).

--format json writes one JSON document; its JSON Schema is
pkg/history/schema/history.schema.json.

Exit status: 0 printed (also when no rollout is recorded), 1 the store could
not be read, 2 bad flags or a store that cannot be opened.

flags:
`

// historyConfig is what `bot history` is told.
type historyConfig struct {
	DB          string
	Repo        string
	Model       string
	Environment string
	Format      string
	WebURL      string
	Limit       int
	Timeout     time.Duration
}

func parseHistoryFlags(args []string, stderr io.Writer) (historyConfig, error) {
	var c historyConfig
	flags := flag.NewFlagSet("bot history", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, historyUsage)
		flags.PrintDefaults()
	}
	flags.StringVar(&c.DB, "db", envOr("MODELGATE_DB", "modelgate.db"), "SQLite file, or a postgres:// URL (MODELGATE_DB)")
	flags.StringVar(&c.Repo, "repo", "", "only this repository (owner/name)")
	flags.StringVar(&c.Model, "model", "", "only this model")
	flags.StringVar(&c.Environment, "environment", "", "only this environment")
	flags.StringVar(&c.Format, "format", "markdown", "markdown or json")
	flags.StringVar(&c.WebURL, "web-url", history.DefaultWebURL, "GitHub's web address, for links (GitHub Enterprise Server)")
	flags.IntVar(&c.Limit, "limit", 20, "rollouts shown per model and environment; 0 for all")
	flags.DurationVar(&c.Timeout, "timeout", 30*time.Second, "how long to wait for the store")
	if err := flags.Parse(args); err != nil {
		return c, err
	}
	if flags.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	return c, c.check()
}

func (c historyConfig) check() error {
	if c.Format != "markdown" && c.Format != "json" {
		return fmt.Errorf("format %q: want markdown or json", c.Format)
	}
	if c.Limit < 0 {
		return fmt.Errorf("limit %d: want 0 (all) or more", c.Limit)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout %s: want a positive duration", c.Timeout)
	}
	if u, err := url.Parse(c.WebURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("web url %q: want an http(s) URL such as %s", c.WebURL, history.DefaultWebURL)
	}
	return nil
}

// runHistory implements `bot history`.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseHistoryFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bot history: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	st, err := openHistoryStore(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(stderr, "bot history: %v\n", err)
		return 2
	}
	defer st.Close()
	rec, err := history.Load(ctx, st, history.Query{Repo: cfg.Repo, Model: cfg.Model, Environment: cfg.Environment,
		Limit: cfg.Limit})
	if err != nil {
		fmt.Fprintf(stderr, "bot history: store %s: %v\n", storeName(cfg.DB), err)
		return 1
	}
	h := history.Build(rec, history.Options{Limit: cfg.Limit, WebURL: cfg.WebURL, Now: time.Now()})
	if err := printHistory(stdout, stderr, cfg, h); err != nil {
		fmt.Fprintf(stderr, "bot history: %v\n", err)
		return 1
	}
	return 0
}

func printHistory(stdout, stderr io.Writer, cfg historyConfig, h history.History) error {
	if len(h.Groups) == 0 {
		empty := "no rollouts recorded in " + storeName(cfg.DB) + selection(cfg)
		if cfg.Format == "json" {
			fmt.Fprintln(stderr, empty) // stdout stays one JSON document
		} else {
			_, err := fmt.Fprintln(stdout, empty)
			return err
		}
	}
	if cfg.Format == "json" {
		return history.WriteJSON(stdout, h)
	}
	_, err := io.WriteString(stdout, history.Markdown(h))
	return err
}

// selection says which rollouts were asked for, for the empty answer.
func selection(cfg historyConfig) string {
	var parts []string
	for _, p := range []struct{ what, value string }{
		{"repository", cfg.Repo}, {"model", cfg.Model}, {"environment", cfg.Environment},
	} {
		if p.value != "" {
			parts = append(parts, fmt.Sprintf("%s %q", p.what, p.value))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " for " + strings.Join(parts, ", ")
}

// openHistoryStore opens the store for reading. A SQLite file must exist:
// opening a mistyped path would create an empty database and report no
// history instead of the mistake.
func openHistoryStore(ctx context.Context, db string) (store.Store, error) {
	if !store.IsPostgresURL(db) {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store %s: no such file; point --db or MODELGATE_DB at the bot's database", db)
		} else if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// A reader: the bot's schema is never migrated by this command.
	return openWith(ctx, db, store.OpenReader)
}

// storeName names the store in messages, without a URL's credentials.
func storeName(db string) string {
	if store.IsPostgresURL(db) {
		return redactURL(db)
	}
	return db
}
