package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/modelgate/modelgate/pkg/inventory"
	"github.com/modelgate/modelgate/pkg/live"
	"github.com/modelgate/modelgate/pkg/store"
)

// liveTimeout bounds the whole lookup: opening the store or the GitHub
// calls. A CLI that hangs on an unreachable host helps nobody.
const liveTimeout = 30 * time.Second

// liveFlags say where "inventory --live" looks up what serves now.
type liveFlags struct {
	on   bool
	db   string
	repo string
}

func (l *liveFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.on, "live", false, "add where each version serves now: from the bot's store (--live-db), "+
		"else from the repository's GitHub Deployments (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL)")
	fs.StringVar(&l.db, "live-db", "", "the bot's store for --live: a SQLite file or a postgres:// URL")
	fs.StringVar(&l.repo, "repo", "", "the repository (owner/name) to look up with --live; required with --live-db, GITHUB_REPOSITORY by default for GitHub")
}

// check refuses the live flags without --live.
func (l *liveFlags) check() error {
	if !l.on && (l.db != "" || l.repo != "") {
		return errors.New("--live-db and --repo need --live")
	}
	return nil
}

// lookup asks the store, then GitHub, which versions serve, and reports on
// stderr where the answer came from and what it lacks.
func (l *liveFlags) lookup(ctx context.Context, stderr io.Writer) (live.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	var sources []live.Source
	if l.db != "" {
		src, closeStore := l.storeSource(ctx)
		defer closeStore()
		sources = append(sources, src)
	}
	if l.db == "" || os.Getenv("GITHUB_TOKEN") != "" {
		sources = append(sources, l.gitHubSource())
	}
	snap, err := live.First(ctx, sources)
	if err != nil {
		return snap, err
	}
	for _, e := range snap.Skipped {
		fmt.Fprintf(stderr, "action inventory: live: %v (used %s instead)\n", e, snap.Source)
	}
	fmt.Fprintf(stderr, "action inventory: live from %s (%d %s)\n", snap.Source, snap.Calls, map[string]string{"store": "queries", "github": "API calls"}[snap.Source])
	if snap.Truncated {
		fmt.Fprintf(stderr, "action inventory: live: only the newest history was read; a version promoted long ago may be missing\n")
	}
	return snap, nil
}

// storeSource opens the bot's store; the source fails with the reason when
// it cannot be opened.
func (l *liveFlags) storeSource(ctx context.Context) (live.Source, func()) {
	if l.repo == "" {
		return live.Unavailable("store", errors.New("--live-db needs --repo owner/name: the store holds the rollouts of every repository")), func() {}
	}
	st, err := openLiveStore(ctx, l.db)
	if err != nil {
		return live.Unavailable("store", err), func() {}
	}
	return live.Store{Rollouts: st, Repo: l.repo}, func() { st.Close() }
}

// openLiveStore opens an existing store. A SQLite file that is not there
// is an error here, not a new empty store; a PostgreSQL password never
// reaches a message.
func openLiveStore(ctx context.Context, dsn string) (store.Store, error) {
	if !store.IsPostgresURL(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no store file %s", dsn)
		} else if err != nil {
			return nil, err
		}
	}
	st, err := store.OpenReader(ctx, dsn) // never migrates the bot's schema
	if err != nil && store.IsPostgresURL(dsn) {
		redacted := redactDSN(dsn)
		return nil, fmt.Errorf("open %s: %s", redacted, strings.ReplaceAll(err.Error(), dsn, redacted))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	return st, nil
}

// redactDSN hides the password of a database URL.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// gitHubSource reads the Deployments of the repository as GitHub Actions
// names it; the source fails with the reason when that is not configured.
func (l *liveFlags) gitHubSource() live.Source {
	token := os.Getenv("GITHUB_TOKEN")
	repo := l.repo
	if repo == "" {
		repo = os.Getenv("GITHUB_REPOSITORY")
	}
	switch {
	case token == "":
		return live.Unavailable("github", errors.New("GITHUB_TOKEN is not set"))
	case repo == "":
		return live.Unavailable("github", errors.New("GITHUB_REPOSITORY is not set (or give --repo owner/name)"))
	}
	client, err := live.NewGitHubClient(token, os.Getenv("GITHUB_API_URL"), &http.Client{Timeout: liveTimeout})
	if err != nil {
		return live.Unavailable("github", err)
	}
	return live.GitHub{API: client.Repositories, Repo: repo}
}

// attachLive fills in where each row's version serves, and warns of
// versions that serve but that no manifest here declares.
func attachLive(rows []inventory.Row, snap live.Snapshot, stderr io.Writer) {
	known := map[[2]string]bool{}
	for i, r := range rows {
		known[[2]string{r.Model, r.Version}] = true
		rows[i].Live = []inventory.Live{}
		for _, s := range snap.Of(r.Model, r.Version) {
			l := inventory.Live{Environment: s.Environment, TrafficPercent: s.TrafficPercent, Canary: s.Canary, Source: snap.Source}
			if !s.Since.IsZero() {
				since := s.Since
				l.Since = &since
			}
			rows[i].Live = append(rows[i].Live, l)
		}
	}
	for _, s := range snap.Serving {
		if !known[[2]string{s.Model, s.Version}] {
			// Quoted: a payload is anyone's text, and a line break in it
			// could start a workflow command in the Actions log.
			fmt.Fprintf(stderr, "action inventory: live: %q serves %q but no manifest here declares it\n", s.Model+"@"+s.Version, s.Environment)
		}
	}
}
