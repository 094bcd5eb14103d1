package main

import (
	"context"
	"fmt"

	"fleetgate/db"
)

type migrateOptions struct {
	dbPath string
}

func migrateFlags(f *flags) runner {
	var o migrateOptions
	dbFlag(f, &o.dbPath)
	return func(ctx context.Context, c *cli) error {
		d, err := db.Open(ctx, o.dbPath)
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

// dbFlag binds --db, the database every command that opens one shares.
func dbFlag(f *flags, p *string) {
	f.String(p, "db", "FLEETGATE_DB", "fleetgate.db", "FILE", "the SQLite database file (created when missing)", checkDBPath)
}
