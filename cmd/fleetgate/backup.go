package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"fleetgate/db"
)

// backup: fleetgate backup FILE [--db FILE]. It runs beside a running
// server (it takes no lock and changes nothing in the database).
func backupFlags(f *flags) runner {
	var dbPath, file string
	f.Arg(&file, "FILE", checkNewFile)
	dbFlag(f, &dbPath)
	f.check(func() error {
		if db.IsPostgres(dbPath) {
			return errors.New("backs up a SQLite file: back up a PostgreSQL database with its own tools, e.g. pg_dump --format=custom --file=fleet.dump (README: Running on PostgreSQL)")
		}
		return nil
	})
	return func(ctx context.Context, c *cli) error {
		d, err := db.OpenWith(ctx, dbPath, db.Options{NoMigrate: true})
		if err != nil {
			return err
		}
		defer d.Close()
		if err := d.Backup(ctx, file); err != nil {
			return err
		}
		v, err := db.CheckBackup(ctx, file)
		if err != nil {
			return fmt.Errorf("the backup was written but does not pass its check: %w", err)
		}
		st, _ := os.Stat(file)
		_, err = fmt.Fprintf(c.out, "Backed up %s to %s (schema version %d, %d bytes, integrity_check ok).\n", dbPath, file, v, st.Size())
		return err
	}
}

// restore: fleetgate restore FILE [--db FILE]. The server must be stopped.
func restoreFlags(f *flags) runner {
	var dbPath, file string
	f.Arg(&file, "FILE", checkExistingFile)
	dbFlag(f, &dbPath)
	f.check(func() error {
		if db.IsPostgres(dbPath) {
			return errors.New("restores a SQLite file: restore a PostgreSQL database with pg_restore from a pg_dump (README: Running on PostgreSQL)")
		}
		return nil
	})
	return func(ctx context.Context, c *cli) error {
		r, err := db.Restore(ctx, file, dbPath)
		if err != nil {
			return err
		}
		if r.Aside != "" {
			fmt.Fprintf(c.out, "The database it replaced is kept as %s.\n", r.Aside)
		}
		_, err = fmt.Fprintf(c.out, "Restored %s from %s (schema version %d, integrity_check ok).\n", dbPath, file, r.Version)
		return err
	}
}

func checkNewFile(v string) error {
	if v == "" {
		return errors.New("is empty: name the backup file to write")
	}
	if _, err := os.Lstat(v); err == nil {
		return errors.New("exists already: a backup never overwrites a file (choose another name)")
	}
	return nil
}

func checkExistingFile(v string) error {
	st, err := os.Stat(v)
	if err != nil {
		return errors.New("cannot be read (does it exist?)")
	}
	if !st.Mode().IsRegular() {
		return errors.New("is not a file")
	}
	return nil
}
