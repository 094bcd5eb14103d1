package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB holds the two connection pools of one SQLite file.
type DB struct {
	w   *sql.DB // exactly one connection: SQLite has one writer at a time
	r   *sql.DB // readers; WAL lets them run beside the writer
	Now func() time.Time

	// beforeWrite, set by tests only (BeforeNextWriteForTest), runs once
	// just before the next write transaction opens: another writer's
	// change lands exactly there.
	beforeWrite atomic.Pointer[func()]
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	d := &DB{w: w, Now: func() time.Time { return time.Now().UTC() }}
	if err := d.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.r = r
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	err1 := d.r.Close()
	err2 := d.w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Ping checks that a reader answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// update runs fn in a write transaction and commits when it returns nil.
// Every check that guards a write runs inside fn, on tx: what it reads is
// what the write changes, since SQLite has one writer at a time and the
// transaction takes the write lock as it begins (_txlock=immediate).
// An internal error comes back wrapped with the name of the operation (the
// method that called update: "update member: …"); a *Error is returned as
// it is, its message being meant for the user.
func (d *DB) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := d.updateTx(ctx, fn)
	if err == nil || ErrorCode(err) != "" {
		return err
	}
	return fmt.Errorf("%s: %w", callerOp(2), err)
}

func (d *DB) updateTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if hook := d.beforeWrite.Swap(nil); hook != nil {
		(*hook)()
	}
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

// callerOp names the function skip frames up as an operation:
// "(*DB).UpdateMember" becomes "update member".
func callerOp(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return "db"
	}
	name := runtime.FuncForPC(pc).Name()
	name = name[strings.LastIndex(name, "/")+1:]
	name = strings.TrimPrefix(name, "db.")
	name = strings.TrimPrefix(name, "(*DB).")
	if i := strings.Index(name, "."); i >= 0 { // a closure: name its function
		name = name[:i]
	}
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
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
