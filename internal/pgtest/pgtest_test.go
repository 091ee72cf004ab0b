package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var pg Server

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	var names []string
	for _, sub := range []string{"a", "b"} {
		t.Run(sub, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, pg.DSN(t))
			require.NoError(t, err)
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, `CREATE TABLE t (x int)`) // would clash in a shared database
			require.NoError(t, err)
			var name string
			require.NoError(t, conn.QueryRow(ctx, `SELECT current_database()`).Scan(&name))
			names = append(names, name)
		})
	}
	require.Len(t, names, 2)
	assert.NotEqual(t, names[0], names[1])
}

func TestStartFailsWithoutBinaries(t *testing.T) {
	_, err := start(context.Background(), Options{BinDir: filepath.Join(t.TempDir(), "nothing")})
	assert.ErrorIs(t, err, ErrMissing)
	t.Setenv("PGTEST_BIN", t.TempDir())
	_, err = FindBinDir()
	assert.ErrorIs(t, err, ErrMissing)
}

func TestSanitize(t *testing.T) {
	assert.Equal(t, "teststore_sqlite_x_1", sanitize("TestStore/sqlite/X#1"))
	assert.Len(t, sanitize(string(make([]byte, 100))), 40)
}

// fakeT records how DSN ends a test instead of ending this one.
type fakeT struct {
	testing.TB
	skipped, failed string
}

func (f *fakeT) Helper()      {}
func (f *fakeT) Name() string { return "TestFake" }
func (f *fakeT) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeT) Fatal(args ...any) {
	f.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingPostgresSkipsOrFailsInCI(t *testing.T) {
	t.Setenv("PGTEST_BIN", t.TempDir()) // no binaries there
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			var srv Server
			defer srv.Stop()
			f := &fakeT{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				srv.DSN(f)
			}()
			<-done
			if ci == "true" {
				assert.Empty(t, f.skipped)
				assert.Contains(t, f.failed, "not found")
				return
			}
			assert.Empty(t, f.failed)
			assert.Contains(t, f.skipped, "SKIPPED, NOT TESTED: needs PostgreSQL")
			assert.Contains(t, f.skipped, "apt-get install")
		})
	}
}

func TestRaceReleasesAllTogether(t *testing.T) {
	var waiting sync.WaitGroup
	waiting.Add(3)
	seen := make([]int, 3)
	Race([]string{"a", "b", "c"}, func(i int, r string) {
		waiting.Done()
		waiting.Wait() // returns only once every replica is running
		seen[i] = len(r)
	})
	assert.Equal(t, []int{1, 1, 1}, seen)
}
