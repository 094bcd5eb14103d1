package db

import (
	"context"
	"database/sql"
	"strings"
)

// Two stores share one query layer. The queries are written once, in SQL
// both stores run: `?` placeholders, LIKE meaning SQLite's ASCII
// case-insensitive LIKE, ON CONFLICT upserts, RETURNING, window functions.
// What cannot be written once lives in a dialect, one value per store,
// whose methods are the few named places that differ:
//
//   - sqlite.go: the file's connection settings, SQLite's error codes, the
//     FTS5 vehicle search, the file backup (backup.go).
//   - postgres.go: the pgx pools and the driver that turns `?` into `$n`
//     and LIKE into ILIKE, PostgreSQL's error codes (SQLSTATE), the
//     pg_trgm vehicle search, and the advisory lock that serializes write
//     transactions across instances as SQLite's single writer does.
//
// The schema is written once per store: migrations/sqlite and
// migrations/postgres hold the same numbered files (one list of versions),
// each enforcing the same invariants in its store's terms (triggers in
// SQLite's language or in PL/pgSQL).

// A dialect is what one store does its own way.
type dialect interface {
	// name is "sqlite" or "postgres", the folder of its migrations.
	name() string
	// tableExists reports whether the table is in the database.
	tableExists(ctx context.Context, q queryer, table string) (bool, error)
	// beginWrite runs first in every write transaction.
	beginWrite(ctx context.Context, tx *sql.Tx) error
	// nextID takes the id the next row of table (with an id primary key)
	// will have, for a row inserted with its id given (the Owner's member
	// row, named by its account before it exists).
	nextID(ctx context.Context, tx *sql.Tx, table string) (int64, error)
	// jsonEach is a subquery of one column named value: the values of
	// the JSON array in the argument arg ("?" or ":name"), integers when
	// ints is true, text otherwise.
	jsonEach(arg string, ints bool) string
	// vehicleSearch is the condition and its arguments that keep the
	// vehicles (alias v) whose name, plate or VIN hold every word (each of
	// three characters or more) of words.
	vehicleSearch(words []string) (cond string, args []any)
}

// IsPostgres reports whether addr names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgres(addr string) bool {
	return strings.HasPrefix(addr, "postgres://") || strings.HasPrefix(addr, "postgresql://")
}

// Store names the store of the open database: "sqlite" or "postgres".
func (d *DB) Store() string { return d.dia.name() }

// vehicleSearch is the dialect's vehicle search condition.
func (d *DB) vehicleSearch(words []string) (string, []any) { return d.dia.vehicleSearch(words) }

// isUnique reports whether err is a uniqueness violation (a UNIQUE index
// or a primary key) in either store.
func isUnique(err error) bool { return sqliteIsUnique(err) || pgIsUnique(err) }

// isTriggerAbort reports whether err is a schema trigger's refusal
// (SQLite's RAISE(ABORT, …), PostgreSQL's RAISE EXCEPTION).
func isTriggerAbort(err error) bool { return sqliteIsTriggerAbort(err) || pgIsRaise(err) }

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool { return sqliteIsForeignKey(err) || pgIsForeignKey(err) }

// triggerMessage is the text a schema trigger refused with ("" when err
// is no trigger's refusal).
func triggerMessage(err error) string {
	if m := sqliteTriggerMessage(err); m != "" {
		return m
	}
	return pgRaiseMessage(err)
}
