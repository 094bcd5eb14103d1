package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"fleetgate/db"
)

type migrateOptions struct {
	dbPath string
	dryRun bool
}

func migrateFlags(f *flags) runner {
	var o migrateOptions
	dbFlag(f, &o.dbPath)
	f.Bool(&o.dryRun, "dry-run", "FLEETGATE_DRY_RUN", false, "only list the migrations that would run")
	return func(ctx context.Context, c *cli) error {
		if o.dryRun {
			return o.plan(ctx, c)
		}
		lock, err := db.TryLock(o.dbPath, "fleetgate migrate")
		if err != nil {
			return err
		}
		defer lock.Release()
		d, err := db.OpenWith(ctx, o.dbPath, db.Options{BackedUp: func(file string) {
			fmt.Fprintf(c.out, "Backed up the database before migrating: %s\n", file)
		}})
		if err != nil {
			return err
		}
		defer d.Close()
		v, err := d.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "%s is at schema version %d\n", o.dbPath, v)
		return err
	}
}

// plan lists the migrations that would run, changing nothing.
func (o *migrateOptions) plan(ctx context.Context, c *cli) error {
	var s db.Schema
	if _, err := os.Stat(o.dbPath); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.out, "%s does not exist: it would be created.\n", o.dbPath)
		s = db.Schema{Pending: db.Migrations()}
	} else {
		d, err := db.OpenWith(ctx, o.dbPath, db.Options{NoMigrate: true})
		if err != nil {
			return err
		}
		s, err = d.Schema(ctx)
		d.Close()
		if err != nil {
			return err
		}
		if len(s.Unknown) > 0 {
			return &db.SchemaTooNewError{Path: o.dbPath, Found: s.Version, Known: db.KnownVersion(), Unknown: s.Unknown}
		}
	}
	if len(s.Pending) == 0 {
		_, err := fmt.Fprintf(c.out, "%s is at schema version %d: nothing to migrate.\n", o.dbPath, s.Version)
		return err
	}
	fmt.Fprintf(c.out, "%s is at schema version %d; these migrations would run:\n", o.dbPath, s.Version)
	for _, m := range s.Pending {
		fmt.Fprintf(c.out, "  %s\n", m.Name)
	}
	if s.Version > 0 {
		fmt.Fprintf(c.out, "A backup would be written beside the database first.\n")
	}
	return nil
}

// dbFlag binds --db, the database every command that opens one shares.
func dbFlag(f *flags, p *string) {
	f.String(p, "db", "FLEETGATE_DB", "fleetgate.db", "FILE", "the SQLite database file (created when missing)", checkDBPath)
}
