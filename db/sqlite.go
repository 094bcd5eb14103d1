package db

// SQLite specifics live in this file: the connection settings, how SQLite
// errors are classified (by their result code, never their text), the
// text of the schema triggers' RAISE(ABORT, …), and the FTS5 query syntax.
// PostgreSQL's side of the same (postgres.go) replaces this file, not the
// queries around it: every query outside these two files runs on both.
//
// Other SQLite-only SQL, each in one named place: the FTS5 trigram index
// vehicles_search (migrations; vehicleSearch below), the file backup
// (backup.go), and the migrations themselves.

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dsn is the address of the database file with the pragmas every pooled
// connection gets; Options.Durability chooses synchronous NORMAL or FULL.
//
// Cache settings, chosen by measurement on a 100,000-vehicle account
// (README, Performance): the default page cache (2 MiB per connection)
// sent 15-21% of a list's CPU into re-reading pages; each connection now
// keeps up to 16 MiB of pages (cache_size) and reads the file through a
// shared memory map of up to 256 MiB (mmap_size: the OS page cache serves
// every connection once, instead of a copy per connection), and sorts and
// temporary indexes stay in memory (temp_store).
func dsn(path string, readOnly bool, o Options) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "cache_size(-16384)")
	q.Add("_pragma", "mmap_size(268435456)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if o.Durability == "full" {
		q.Add("_pragma", "synchronous(FULL)")
	} else {
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// sqliteCode is the extended result code of a SQLite error in err's chain
// (0 when there is none).
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// sqliteIsUnique reports whether err is SQLite's uniqueness violation (a
// UNIQUE index or a primary key).
func sqliteIsUnique(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// sqliteIsTriggerAbort reports whether err is a RAISE(ABORT, …) of a schema trigger.
func sqliteIsTriggerAbort(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_TRIGGER
}

// sqliteIsForeignKey reports whether err is SQLite's foreign key violation.
func sqliteIsForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// sqliteTriggerMessage is the text of a RAISE(ABORT, 'text') ("" for
// other errors); SQLite's error text adds the result code after it.
func sqliteTriggerMessage(err error) string {
	if !sqliteIsTriggerAbort(err) {
		return ""
	}
	var e *sqlite.Error
	errors.As(err, &e)
	msg := e.Error()
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// ruleViolation turns a schema trigger's refusal '<rule>: <text>' into a
// safe forbidden error; the rules whose text may be shown are "owner" and
// "builtin". Other errors pass through.
func ruleViolation(err error) error {
	msg := triggerMessage(err)
	if msg == "" {
		return err
	}
	for _, prefix := range []string{"owner: ", "builtin: "} {
		if i := strings.Index(msg, prefix); i >= 0 {
			text := msg[i+len(prefix):]
			return Errorf(EForbidden, "%s.", strings.ToUpper(text[:1])+text[1:])
		}
	}
	return err
}

// sqliteDialect is SQLite's way with what differs between the stores.
type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) tableExists(ctx context.Context, q queryer, table string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n)
	return n > 0, err
}

// beginWrite has nothing to do: the transaction took SQLite's one write
// lock as it began (_txlock=immediate).
func (sqliteDialect) beginWrite(context.Context, *sql.Tx) error { return nil }

// nextID is one past the table's highest id, as SQLite itself would
// choose it: the write transaction holds SQLite's one write lock.
func (sqliteDialect) nextID(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM `+table).Scan(&id)
	return id, err
}

func (sqliteDialect) jsonEach(arg string, _ bool) string {
	return `SELECT value FROM json_each(` + arg + `)`
}

// vehicleSearch goes through the FTS5 trigram index vehicles_search: each
// word is a quoted phrase, all of them ANDed.
func (sqliteDialect) vehicleSearch(words []string) (cond string, args []any) {
	phrases := make([]string, len(words))
	for i, w := range words {
		phrases[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return `v.id IN (SELECT rowid FROM vehicles_search WHERE vehicles_search MATCH ?)`, []any{strings.Join(phrases, " AND ")}
}
