package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"
)

// OpenError says why a database cannot be opened, in words an operator can
// act on, instead of SQLite's "unable to open database file (14)".
type OpenError struct {
	Path   string
	Reason string // what is wrong and what to do
	Err    error  // the underlying error, if any
}

func (e *OpenError) Error() string {
	return "cannot open database " + e.Path + ": " + e.Reason
}

func (e *OpenError) Unwrap() error { return e.Err }

// minFree is the free space below which the disk counts as full.
const minFree = 1 << 20

// checkPath looks at the file system before SQLite does, so that the
// common mistakes are named: a missing or read-only directory, a
// read-only file, a full disk. write is false for opening an existing
// database only to read it (a backup).
func checkPath(path string, write bool) error {
	if path == "" {
		return &OpenError{Path: `""`, Reason: "no file given (choose one with --db)"}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &OpenError{Path: path, Reason: fmt.Sprintf("directory %s does not exist (create it or choose another --db)", dir), Err: err}
	case err != nil:
		return &OpenError{Path: path, Reason: fmt.Sprintf("directory %s cannot be read: %v", dir, err), Err: err}
	case !st.IsDir():
		return &OpenError{Path: path, Reason: fmt.Sprintf("%s is not a directory (choose another --db)", dir)}
	}
	st, err = os.Stat(path)
	exists := err == nil
	if exists && st.IsDir() {
		return &OpenError{Path: path, Reason: "it is a directory, not a database file (choose a file name with --db)"}
	}
	if !write {
		if !exists {
			return &OpenError{Path: path, Reason: "the file does not exist (check --db)", Err: err}
		}
		return nil
	}
	if exists {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return &OpenError{Path: path, Reason: readOnlyReason("the file", path, err), Err: err}
		}
		f.Close()
	}
	// SQLite keeps its -wal and -shm files beside the database: the
	// directory must be writable too, and have room.
	probe, err := os.CreateTemp(dir, ".fleetgate-probe-*")
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return &OpenError{Path: path, Reason: fullReason(dir), Err: err}
		}
		return &OpenError{Path: path, Reason: readOnlyReason("directory "+dir, dir, err), Err: err}
	}
	probe.Close()
	os.Remove(probe.Name())
	if free, ok := freeBytes(dir); ok && free < minFree {
		return &OpenError{Path: path, Reason: fullReason(dir)}
	}
	return nil
}

func readOnlyReason(what, path string, err error) string {
	if errors.Is(err, syscall.EROFS) {
		return fmt.Sprintf("%s is on a read-only file system (mount it read-write, or choose another --db)", what)
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EPERM) {
		return fmt.Sprintf("%s is read-only for this user (make %s writable by the user running fleetgate, or choose another --db)", what, path)
	}
	return fmt.Sprintf("%s cannot be written: %v", what, err)
}

func fullReason(dir string) string {
	if free, ok := freeBytes(dir); ok {
		return fmt.Sprintf("the disk holding %s is full (%d KiB free): free some space", dir, free>>10)
	}
	return fmt.Sprintf("the disk holding %s is full: free some space", dir)
}

// explainOpen turns SQLite's result codes at start-up into an OpenError.
func explainOpen(path string, err error) error {
	var oe *OpenError
	if err == nil || errors.As(err, &oe) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("open %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	reason := ""
	switch se.Code() & 0xff {
	case 13: // SQLITE_FULL
		reason = fullReason(dir)
	case 8: // SQLITE_READONLY
		reason = fmt.Sprintf("the file or directory %s is read-only (make it writable by the user running fleetgate, or choose another --db)", dir)
	case 14: // SQLITE_CANTOPEN
		reason = fmt.Sprintf("SQLite cannot open or create the file or its -wal/-shm files in %s (check that the directory exists and is writable)", dir)
	case 10: // SQLITE_IOERR
		if free, ok := freeBytes(dir); ok && free < minFree {
			reason = fullReason(dir)
		} else {
			reason = "the disk reported an I/O error (check the disk and the system log)"
		}
	case 26: // SQLITE_NOTADB
		reason = "the file is not a SQLite database (check --db)"
	case 11: // SQLITE_CORRUPT
		reason = "the database file is damaged (restore a backup: fleetgate restore FILE)"
	default:
		return fmt.Errorf("open %s: %w", path, err)
	}
	return &OpenError{Path: path, Reason: reason + " [" + se.Error() + "]", Err: err}
}
