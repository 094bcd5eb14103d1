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
		if !db.IsPostgres(o.dbPath) {
			lock, err := db.TryLock(o.dbPath, "fleetgate migrate")
			if err != nil {
				return err
			}
			defer lock.Release()
		}
		// On PostgreSQL instances may keep running: each migration is
		// applied once, in a write transaction (serialized with theirs).
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
		_, err = fmt.Fprintf(c.out, "%s is at schema version %d\n", db.Redact(o.dbPath), v)
		return err
	}
}

// plan lists the migrations that would run, changing nothing.
func (o *migrateOptions) plan(ctx context.Context, c *cli) error {
	var s db.Schema
	name := db.Redact(o.dbPath)
	if _, err := os.Stat(o.dbPath); !db.IsPostgres(o.dbPath) && errors.Is(err, fs.ErrNotExist) {
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
			return &db.SchemaTooNewError{Path: name, Found: s.Version, Known: db.KnownVersion(), Unknown: s.Unknown}
		}
	}
	if len(s.Pending) == 0 {
		_, err := fmt.Fprintf(c.out, "%s is at schema version %d: nothing to migrate.\n", name, s.Version)
		return err
	}
	fmt.Fprintf(c.out, "%s is at schema version %d; these migrations would run:\n", name, s.Version)
	for _, m := range s.Pending {
		fmt.Fprintf(c.out, "  %s\n", m.Name)
	}
	if s.Version > 0 && !db.IsPostgres(o.dbPath) {
		fmt.Fprintf(c.out, "A backup would be written beside the database first.\n")
	}
	return nil
}

// dbFlag binds --db, the database every command that opens one shares:
// a SQLite file, or a PostgreSQL database (postgres://…), whose password
// no message shows.
func dbFlag(f *flags, p *string) {
	f.bindShown("db", "FLEETGATE_DB", "fleetgate.db", "FILE|URL",
		"the SQLite database file (created when missing), or a PostgreSQL database: postgres://USER:PASSWORD@HOST/DATABASE",
		false, func(v string) error {
			if err := checkDBAddr(v); err != nil {
				return err
			}
			*p = v
			return nil
		}, db.Redact)
}
