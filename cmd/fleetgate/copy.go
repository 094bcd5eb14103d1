package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"fleetgate/db"
)

// copy: fleetgate copy --from FILE --to postgres://…, moving a SQLite
// installation into an empty PostgreSQL database.
func copyFlags(f *flags) runner {
	var from, to string
	f.bindShown("from", "FLEETGATE_COPY_FROM", "", "FILE", "the SQLite database file to copy (stop its server first)", false, func(v string) error {
		if v != "" {
			if db.IsPostgres(v) {
				return errors.New("must be a SQLite file: the copy goes from SQLite to PostgreSQL")
			}
			if err := checkExistingFile(v); err != nil {
				return err
			}
		}
		from = v
		return nil
	}, db.Redact)
	f.bindShown("to", "FLEETGATE_COPY_TO", "", "URL", "the empty PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST/DATABASE", false, func(v string) error {
		if v != "" {
			if !db.IsPostgres(v) {
				return errors.New("must be a PostgreSQL database: postgres://USER:PASSWORD@HOST/DATABASE")
			}
			if err := checkDBAddr(v); err != nil {
				return err
			}
		}
		to = v
		return nil
	}, db.Redact)
	f.check(func() error {
		switch {
		case from == "":
			return errors.New("--from is required: the SQLite file, e.g. --from fleetgate.db")
		case to == "":
			return errors.New("--to is required: the PostgreSQL database, e.g. --to postgres://fleetgate@db.example.com/fleetgate")
		}
		return nil
	})
	return func(ctx context.Context, c *cli) error {
		fmt.Fprintf(c.out, "Copying %s into %s …\n", from, db.Redact(to))
		tables, err := db.CopyToPostgres(ctx, from, to)
		if err != nil {
			if db.IsCopyError(err) {
				return fmt.Errorf("copy refused: %w", err)
			}
			return fmt.Errorf("copy failed, nothing was copied: %w", err)
		}
		w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "table\tSQLite rows\tPostgreSQL rows\t\n")
		var rows int64
		for _, t := range tables {
			fmt.Fprintf(w, "%s\t%d\t%d\t\n", t.Name, t.Source, t.Target)
			rows += t.Target
		}
		if err := w.Flush(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "Copied %d rows in %d tables; every table's count matches. Start fleetgate serve --db with the PostgreSQL address.\n", rows, len(tables))
		return err
	}
}
