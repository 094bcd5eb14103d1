package dbtest

import (
	"path/filepath"
	"testing"

	"fleetgate/db/pgtest"
)

// Postgres is the PostgreSQL server the tests run on ("" for SQLite).
func Postgres() string { return pgtest.Server() }

// Fresh is the address of an empty database of t's own, not migrated: a
// file in a temp dir, or a new PostgreSQL database dropped when t ends.
// name is the file's name on SQLite.
func Fresh(t testing.TB, name string) string {
	t.Helper()
	if Postgres() == "" {
		return filepath.Join(t.TempDir(), name)
	}
	return pgtest.Database(t, "")
}

// SQLiteOnly skips t when the tests run on PostgreSQL: the test is about
// the SQLite file itself (why says what).
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Postgres() != "" {
		t.Skip("SQLite only: " + why)
	}
}
