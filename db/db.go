// Package db is Fleetgate's storage: one SQLite file, one writer connection
// and a pool of readers, hand-written SQL, and every read of account data
// bound to the acting member's account (and vehicle scope) in its WHERE.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB holds the two connection pools of one SQLite file.
type DB struct {
	w    *sql.DB // exactly one connection: SQLite has one writer at a time
	r    *sql.DB // readers; WAL lets them run beside the writer
	path string
	opt  Options
	Now  func() time.Time
}

// Options tune how a database is opened.
type Options struct {
	// Durability is "normal" (the default: synchronous=NORMAL, the last
	// commits before a power loss may roll back, the file never corrupts)
	// or "full" (synchronous=FULL: every acknowledged commit survives a
	// power loss, each commit waits for the disk).
	Durability string
	// NoMigrate opens the database as it is, e.g. to back it up: the
	// schema is neither created nor changed.
	NoMigrate bool
	// BackupBeforeMigrate is where the copy taken before migrations run on
	// a non-empty database is written: a directory (empty: beside the
	// database file).
	BackupBeforeMigrate string
	// BackedUp, when set, is told the file of that backup.
	BackedUp func(file string)
}

func dsn(path string, readOnly bool, o Options) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
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

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) { return OpenWith(ctx, path, Options{}) }

// OpenWith is Open with options. Errors name the cause in words an
// operator can act on (a missing directory, a read-only file, a full disk).
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	switch o.Durability {
	case "", "normal", "full":
	default:
		return nil, fmt.Errorf("durability %q: choose normal or full", o.Durability)
	}
	if err := checkPath(path, !o.NoMigrate); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", dsn(path, false, o))
	if err != nil {
		return nil, explainOpen(path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	d := &DB{w: w, path: path, opt: o, Now: func() time.Time { return time.Now().UTC() }}
	if o.NoMigrate {
		err = d.checkSchema(ctx)
	} else {
		err = d.migrate(ctx, o.BackupBeforeMigrate)
	}
	if err != nil {
		w.Close()
		return nil, explainOpen(path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true, o))
	if err != nil {
		w.Close()
		return nil, explainOpen(path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.r = r
	return d, nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close checkpoints the write-ahead log into the database file (so that
// the file alone is the whole database) and closes both pools. A database
// opened with NoMigrate (e.g. to back it up beside a running server) is
// closed without a checkpoint, which would wait for the server's writes.
func (d *DB) Close() error {
	err1 := d.r.Close()
	if !d.opt.NoMigrate {
		_, _ = d.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	err2 := d.w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Stats are the connection pools' statistics (waits for a connection among
// them), for metrics.
func (d *DB) Stats() (writer, readers sql.DBStats) { return d.w.Stats(), d.r.Stats() }

// Ping checks that a reader answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// update runs fn in a write transaction and commits when it returns nil.
func (d *DB) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *DB) stamp() string { return d.Now().Format(time.RFC3339Nano) }

// queryer is what both *sql.DB and *sql.Tx offer, so finders can run
// inside a write transaction or on the reader pool.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Secret returns the named server secret, creating n random bytes once.
func (d *DB) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	var v []byte
	err := d.update(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM app_secrets WHERE name = ?`, name).Scan(&v)
		if err == nil {
			return nil
		}
		v = make([]byte, n)
		_, _ = rand.Read(v)
		_, err = tx.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES (?, ?)`, name, v)
		return err
	})
	return v, err
}
