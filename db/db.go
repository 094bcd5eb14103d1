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

// DB holds the two connection pools of one database: a SQLite file, or a
// PostgreSQL database (postgres.go).
type DB struct {
	w    *sql.DB // exactly one connection: SQLite has one writer at a time
	r    *sql.DB // readers; WAL lets them run beside the writer
	path string  // the file, or the PostgreSQL address without its password
	opt  Options
	dia  dialect // what the store does its own way (dialect.go)
	Now  func() time.Time

	stmts stmtCache // prepared statements of r (stmts.go)

	// exactOnly, set by tests only, makes the dashboard read every total
	// from the trips (the exact path), never from the monthly roll-ups.
	exactOnly bool

	// beforeWrite, set by tests only (BeforeNextWriteForTest), runs once
	// just before the next write transaction opens: another writer's
	// change lands exactly there.
	beforeWrite atomic.Pointer[func()]

	// mailPending is set when the open write transaction queued an e-mail;
	// mailNudge wakes the sender once it commits (see MailQueued).
	mailPending atomic.Bool
	mailNudge   chan struct{}
	// uses are the permission uses noted in memory (permission_uses.go).
	uses useRecorder
	// linkBase is the console's public address for links in e-mails
	// (SetLinkBase).
	linkBase atomic.Value
	// unsubKey caches the key of the one-click unsubscribe links.
	unsubKey atomic.Value
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

// Open opens (creating if needed) the database at path and migrates it.
// A path of the form postgres://… (or postgresql://…) is a PostgreSQL
// database; anything else is a SQLite file.
func Open(ctx context.Context, path string) (*DB, error) { return OpenWith(ctx, path, Options{}) }

// OpenWith is Open with options. Errors name the cause in words an
// operator can act on (a missing directory, a read-only file, a full disk).
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	switch o.Durability {
	case "", "normal", "full":
	default:
		return nil, fmt.Errorf("durability %q: choose normal or full", o.Durability)
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, o)
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
	d := &DB{w: w, path: path, opt: o, dia: sqliteDialect{}, Now: func() time.Time { return time.Now().UTC() }, mailNudge: make(chan struct{}, 1)}
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

// Close writes the permission uses still noted in memory, checkpoints
// the write-ahead log into the database file (so that
// the file alone is the whole database) and closes both pools. A database
// opened with NoMigrate (e.g. to back it up beside a running server) is
// closed without a checkpoint, which would wait for the server's writes.
func (d *DB) Close() error {
	if !d.opt.NoMigrate {
		// The permission uses still in memory (a shutdown's last flush).
		_ = d.FlushUses(context.Background())
	}
	d.stmts.close()
	err1 := d.r.Close()
	if !d.opt.NoMigrate && d.dia.name() == "sqlite" {
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
	if err := d.dia.beginWrite(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		d.nudgeMail(false)
		return err
	}
	err = tx.Commit()
	d.nudgeMail(err == nil)
	return err
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

// insertID runs an INSERT and returns the id of the row it added, read
// through RETURNING id (PostgreSQL has no last insert id). An
// INSERT … SELECT that added no row answers sql.ErrNoRows.
func insertID(ctx context.Context, q queryer, query string, args ...any) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
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
