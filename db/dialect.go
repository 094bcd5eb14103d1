package db

import (
	"context"
	"database/sql"
	"strings"
)

// Two stores share one query layer. The queries are written once, in SQL
// both stores run: `?` placeholders (or :name with sql.Named), LIKE
// meaning SQLite's ASCII case-insensitive LIKE, ON CONFLICT upserts,
// INSERT … RETURNING id (there is no last insert id), IS DISTINCT FROM,
// string_agg, window functions, CASE where SQLite has scalar max/min or
// sums of conditions, `flag = 1` for the integer flags, an alias on every
// subquery in FROM, lower() for a case-insensitive order or match of a
// column that is not NOCASE/CITEXT. CROSS JOIN … ON (SQLite's way of fixing
// the join order) is run as INNER JOIN on PostgreSQL.
// What cannot be written once lives in a dialect, one value per store,
// whose methods are the few named places that differ:
//
//   - sqlite.go: the file's connection settings, SQLite's error codes, the
//     FTS5 vehicle search, JSON arrays read by json_each, the file backup
//     (backup.go).
//   - postgres.go: the pgx pools and the driver that turns `?` into `$n`,
//     writes the arguments in as typed literals, and turns LIKE into ILIKE,
//     PostgreSQL's error codes (SQLSTATE), the pg_trgm vehicle search,
//     JSON arrays read by json_array_elements_text, identity sequences,
//     and the advisory lock that serializes write transactions across
//     instances as SQLite's single writer does.
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
	// tryJob holds the job's lock across instances for as long as conn
	// holds it, when no other instance holds it (ok false: another one is
	// running the job now); release gives it back. SQLite has nothing to
	// do: one server holds the file (serve's lock), so no other one runs.
	tryJob(ctx context.Context, conn *sql.Conn, job string) (ok bool, release func(), err error)
	// instant is an expression of the stored time expr (RFC 3339 text
	// of any precision) that compares in time order.
	instant(expr string) string
}

// IsPostgres reports whether addr names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgres(addr string) bool {
	return strings.HasPrefix(addr, "postgres://") || strings.HasPrefix(addr, "postgresql://")
}

// Redact is a database address fit for messages and logs: a PostgreSQL
// address without its password; a file path as it is.
func Redact(addr string) string {
	if IsPostgres(addr) {
		return redactAddr(addr)
	}
	return addr
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
