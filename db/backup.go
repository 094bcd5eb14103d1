package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Backup writes a consistent copy of the whole database to file while the
// server keeps running: VACUUM INTO reads one snapshot, so the copy holds
// every write committed before it began and none half-done. The copy is
// written beside file under a temporary name, synced, and then linked to
// file, which must not exist: a backup never overwrites anything.
func (d *DB) Backup(ctx context.Context, file string) error {
	if d.dia.name() != "sqlite" {
		return errors.New("backup: a PostgreSQL database is backed up with pg_dump (README, Running on PostgreSQL)")
	}
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("backup %s: the file exists; a backup never overwrites one (choose another name)", file)
	}
	dir := filepath.Dir(file)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("backup %s: directory %s does not exist (create it first)", file, dir)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	tmp := file + ".partial-" + hex.EncodeToString(suffix)
	defer os.Remove(tmp)
	if err := d.vacuumInto(ctx, tmp); err != nil {
		return fmt.Errorf("backup %s: %w", file, err)
	}
	// A backup holds password hashes and session ids: for its owner only.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("backup %s: %w", file, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("backup %s: %w", file, err)
	}
	if err := os.Link(tmp, file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup %s: the file exists; a backup never overwrites one (choose another name)", file)
		}
		return fmt.Errorf("backup %s: %w", file, err)
	}
	return syncDir(dir)
}

// vacuumInto runs VACUUM INTO on a connection of its own: the readers are
// query-only (which refuses VACUUM INTO) and the writer must stay free for
// the server's writes. It reads one snapshot, like any reader under WAL.
func (d *DB) vacuumInto(ctx context.Context, file string) error {
	c, err := sql.Open("sqlite", "file:"+d.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	_, err = c.ExecContext(ctx, `VACUUM INTO ?`, file)
	return err
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	_ = f.Sync() // not every file system syncs directories
	return nil
}

// Scheduled backups are named fleetgate-<time>-schema<version>.db.
const scheduledPrefix = "fleetgate-"

// BackupTo writes a scheduled backup into dir and then deletes the oldest
// scheduled backups there beyond keep (0 keeps all). It returns the file
// written. Files of other names in dir are never touched.
func (d *DB) BackupTo(ctx context.Context, dir string, keep int) (string, error) {
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, fmt.Sprintf("%s%s-schema%d.db", scheduledPrefix, d.Now().Format("20060102T150405.000Z"), v))
	if err := d.Backup(ctx, file); err != nil {
		return "", err
	}
	if keep <= 0 {
		return file, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return file, err
	}
	var ours []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, scheduledPrefix) && strings.HasSuffix(n, ".db") && !strings.Contains(n, ".partial-") {
			ours = append(ours, n)
		}
	}
	sort.Strings(ours) // the time in the name sorts them oldest first
	for len(ours) > keep {
		if err := os.Remove(filepath.Join(dir, ours[0])); err != nil {
			return file, err
		}
		ours = ours[1:]
	}
	return file, nil
}

// CheckBackup opens file read-only and checks that it is a whole,
// undamaged Fleetgate database this binary can run: PRAGMA
// integrity_check answers "ok" and every migration it holds is known. It
// returns its schema version.
func CheckBackup(ctx context.Context, file string) (int, error) {
	st, err := os.Stat(file)
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", file, err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("backup %s is not a file", file)
	}
	c, err := sql.Open("sqlite", "file:"+file+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	rows, err := c.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, fmt.Errorf("backup %s cannot be read as a SQLite database: %w", file, err)
	}
	var problems []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, err
		}
		if p != "ok" {
			problems = append(problems, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("backup %s cannot be read as a SQLite database: %w", file, err)
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("backup %s is damaged (integrity_check: %s)", file, strings.Join(problems[:min(3, len(problems))], "; "))
	}
	s, err := readSchema(ctx, sqliteDialect{}, c)
	if err != nil {
		return 0, err
	}
	if s.Version == 0 {
		return 0, fmt.Errorf("backup %s: %w", file, errNoSchema)
	}
	if len(s.Unknown) > 0 {
		return 0, &SchemaTooNewError{Path: file, Found: s.Version, Known: KnownVersion(), Unknown: s.Unknown}
	}
	return s.Version, nil
}

// Restored says what Restore did.
type Restored struct {
	Version int    // the schema version of the restored backup
	Aside   string // where the database it replaced was moved ("" if none)
}

// Restore replaces the database at path with the backup file, after
// CheckBackup passed. It refuses while a server holds the database (see
// FileLock). The database it replaces is kept beside it, renamed
// <path>.before-restore-<time>, together with its write-ahead log.
func Restore(ctx context.Context, file, path string) (Restored, error) {
	var r Restored
	if err := checkPath(path, true); err != nil {
		return r, err
	}
	l, err := TryLock(path, "fleetgate restore")
	if err != nil {
		return r, err
	}
	defer l.Release()
	if r.Version, err = CheckBackup(ctx, file); err != nil {
		return r, err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".restoring-*")
	if err != nil {
		return r, err
	}
	defer os.Remove(tmp.Name())
	src, err := os.Open(file)
	if err != nil {
		tmp.Close()
		return r, err
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r, fmt.Errorf("copy %s: %w", file, err)
	}
	if st, err := os.Stat(path); err == nil {
		// The restored file gets the owner and mode of the one it replaces,
		// so that the server's user can open it after a restore run as root.
		_ = os.Chmod(tmp.Name(), st.Mode().Perm())
		sameOwner(tmp.Name(), st)
		r.Aside = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, r.Aside); err != nil {
			return r, err
		}
		// The log holds the last commits of the database set aside: it goes with it.
		if err := os.Rename(path+"-wal", r.Aside+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, err
		}
	}
	if err := os.Remove(path + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	if err := os.Remove(path + "-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return r, err
	}
	return r, syncDir(dir)
}

// FileLock is a process's claim on a database file: the server holds it while
// it runs, and restore and migrate refuse to work on a database whose lock
// another process holds. It is an advisory lock (flock) on <db>.lock; the
// operating system drops it when the process ends, even by kill -9.
type FileLock struct {
	f *os.File
}

// LockedError says that another process holds the database.
type LockedError struct {
	Path   string
	Holder string // what the holder wrote into the lock file
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h == "" {
		h = "another process"
	}
	return fmt.Sprintf("database %s is in use by %s: stop that server first", e.Path, h)
}

// TryLock takes the lock of the database at path without waiting; who
// describes the holder for the message another process would show.
func TryLock(path, who string) (*FileLock, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrPermission) {
		// Made by another user (say root running migrate): a lock needs
		// only a descriptor, not the right to write.
		f, err = os.Open(path + ".lock")
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	ok, err := flock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		b, _ := io.ReadAll(io.LimitReader(f, 200))
		f.Close()
		return nil, &LockedError{Path: path, Holder: strings.TrimSpace(string(b))}
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%s (pid %d, since %s)\n", who, os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0)
	return &FileLock{f: f}, nil
}

// Release drops the lock. The file stays: removing it could let two
// processes each lock a different file of the same name.
func (l *FileLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
