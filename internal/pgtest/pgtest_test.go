package pgtest

import (
	"context"
	"os"
	"path/filepath"
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
