package db

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
)

// Readiness is the outcome of the readiness check, one entry per part:
// "ok", or a short reason safe to show to anyone.
type Readiness struct {
	Read       string `json:"read"`
	Write      string `json:"write"`
	Migrations string `json:"migrations"`
}

// OK reports whether every part passed.
func (r Readiness) OK() bool { return r.Read == "ok" && r.Write == "ok" && r.Migrations == "ok" }

// Ready checks that the database can be read and written and that its
// schema is the one this binary expects. The write is real and tiny: the
// heartbeat row is rewritten, so a read-only file or a full disk shows.
// Details of failures go to the returned errors, for the log.
func (d *DB) Ready(ctx context.Context) (Readiness, []error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	r := Readiness{Read: "ok", Write: "ok", Migrations: "ok"}
	var errs []error
	if err := d.Ping(ctx); err != nil {
		r.Read = reason(err)
		errs = append(errs, err)
	}
	if _, err := d.w.ExecContext(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, d.stamp()); err != nil {
		r.Write = d.writeFailure(err)
		errs = append(errs, err)
	}
	if err := d.SchemaCurrent(ctx); err != nil {
		var tooNew *SchemaTooNewError
		switch {
		case errors.As(err, &tooNew):
			r.Migrations = "the database has a newer schema than this binary"
		case ErrorCode(err) == "" && r.Read != "ok":
			r.Migrations = "unknown (the database cannot be read)"
		default:
			r.Migrations = "migrations are not applied"
		}
		errs = append(errs, err)
	}
	return r, errs
}

// writeFailure names why a write failed. A file made read-only under the
// running server (chmod, chattr +i, a file system remounted read-only)
// shows as a write I/O error, so the files are looked at too.
func (d *DB) writeFailure(err error) string {
	if d.Store() != "sqlite" {
		return reason(err)
	}
	for _, f := range []string{d.path, d.path + "-wal"} {
		fh, e := os.OpenFile(f, os.O_WRONLY, 0)
		if e == nil {
			fh.Close()
			continue
		}
		if !errors.Is(e, fs.ErrNotExist) {
			return "the database is read-only"
		}
	}
	if free, ok := freeBytes(filepath.Dir(d.path)); ok && free < minFree {
		return "the disk is full"
	}
	return reason(err)
}

// reason names a database failure in a few words.
func reason(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 8:
			return "the database is read-only"
		case 13:
			return "the disk is full"
		case 5, 6:
			return "the database is busy"
		case 10:
			return "disk I/O error"
		case 11, 26:
			return "the database file is damaged"
		}
	}
	if r := pgReason(err); r != "" {
		return r
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within 3 s"
	}
	return "failed"
}
