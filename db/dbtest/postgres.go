package dbtest

import (
	"context"
	"testing"

	"fleetgate/db/internal/pgtest"
)

// Postgres is the PostgreSQL server the tests run on ("" for SQLite).
func Postgres() string { return pgtest.Server() }

// Fresh is the address of an empty database of t's own, not migrated: a
// file in a temp dir, or a new PostgreSQL database dropped when t ends.
// name is the file's name on SQLite.
func Fresh(t testing.TB, name string) string {
	t.Helper()
	return pgtest.Fresh(t, name)
}

// SQLiteOnly skips t on PostgreSQL: the test is about SQLite's own
// files, pragmas or backups, as why says (shown in the skip message).
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	pgtest.SQLiteOnly(t, why)
}

func createDatabase(ctx context.Context, prefix, template string) (string, error) {
	return pgtest.CreateDatabase(ctx, prefix, template)
}

func dropDatabase(ctx context.Context, addr string) { pgtest.DropDatabase(ctx, addr) }

func databaseFor(t testing.TB, template string) string {
	t.Helper()
	return pgtest.DatabaseFor(t, template)
}
