package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// Migration is one numbered file of migrations/<store>/.
type Migration struct {
	Version int
	Name    string // the file name, e.g. 0004_invitations.sql
	body    string
}

// known lists the migrations built into this binary for a store
// ("sqlite" or "postgres"), in order.
func known(store string) ([]Migration, error) {
	files, err := migrations.ReadDir("migrations/" + store)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", f.Name())
		}
		body, err := migrations.ReadFile("migrations/" + store + "/" + f.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: n, Name: f.Name(), body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// KnownVersion is the highest schema version this binary knows.
func KnownVersion() int {
	ms, _ := known("sqlite")
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Schema is where a database stands against this binary's migrations.
type Schema struct {
	Version int         // the highest applied migration (0: none)
	Pending []Migration // known here, not applied yet, in order
	Unknown []int       // applied, but unknown to this binary (a newer one)
}

// SchemaTooNewError refuses a database that a newer binary migrated.
type SchemaTooNewError struct {
	Path    string
	Found   int   // the database's highest version
	Known   int   // this binary's highest version
	Unknown []int // the versions this binary does not know
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database %s has schema version %d, but this fleetgate knows versions up to %d "+
		"(unknown migrations: %s): run the newer fleetgate that migrated it, or restore a backup taken before the upgrade",
		e.Path, e.Found, e.Known, joinInts(e.Unknown))
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// readSchema compares the applied migrations with the known ones. A
// database without the schema_version table is at version 0.
func readSchema(ctx context.Context, dia dialect, q queryer) (Schema, error) {
	var s Schema
	ms, err := known(dia.name())
	if err != nil {
		return s, err
	}
	exists, err := dia.tableExists(ctx, q, "schema_version")
	if err != nil {
		return s, err
	}
	applied := map[int]bool{}
	if exists {
		rows, err := q.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
		if err != nil {
			return s, err
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return s, err
			}
			applied[v] = true
			s.Version = max(s.Version, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, err
		}
	}
	isKnown := map[int]bool{}
	for _, m := range ms {
		isKnown[m.Version] = true
		if !applied[m.Version] {
			s.Pending = append(s.Pending, m)
		}
	}
	for v := range applied {
		if !isKnown[v] {
			s.Unknown = append(s.Unknown, v)
		}
	}
	sort.Ints(s.Unknown)
	return s, nil
}

func (d *DB) tooNew(s Schema) error {
	if len(s.Unknown) == 0 {
		return nil
	}
	return &SchemaTooNewError{Path: d.path, Found: s.Version, Known: KnownVersion(), Unknown: s.Unknown}
}

// checkSchema is what an open without migrating verifies: the file is a
// database this binary can read.
func (d *DB) checkSchema(ctx context.Context) error {
	_, err := readSchema(ctx, d.dia, d.w)
	return err
}

// migrate applies, in order and one transaction each, every numbered file in
// migrations/ that is not yet recorded in schema_version. Files are never
// edited once released; a change is a new file. A database that a newer
// binary migrated is refused. Before migrations run on a database that
// holds a schema already, a backup is written to backupDir (empty: beside
// the database), named with the schema version and the time.
func (d *DB) migrate(ctx context.Context, backupDir string) error {
	s, err := readSchema(ctx, d.dia, d.w)
	if err != nil {
		return err
	}
	if err := d.tooNew(s); err != nil {
		return err
	}
	if len(s.Pending) == 0 {
		return nil
	}
	// PostgreSQL is backed up by its own tools (pg_dump; README).
	if s.Version > 0 && d.dia.name() == "sqlite" {
		if backupDir == "" {
			backupDir = filepath.Dir(d.path)
		}
		file := filepath.Join(backupDir, fmt.Sprintf("%s.schema%d-%s.bak", filepath.Base(d.path), s.Version, d.Now().Format("20060102T150405Z")))
		if err := d.Backup(ctx, file); err != nil {
			return fmt.Errorf("backup before migrating: %w", err)
		}
		if d.opt.BackedUp != nil {
			d.opt.BackedUp(file)
		}
	}
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	for _, m := range s.Pending {
		err = d.update(ctx, func(tx *sql.Tx) error {
			// Another instance starting at the same time may have
			// applied it while this one waited for the write lock.
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_version WHERE version = ?`, m.Version).Scan(&done); err != nil || done > 0 {
				return err
			}
			body := m.body
			if d.dia.name() == "postgres" {
				body = rawSQL + body
			}
			if _, err := tx.ExecContext(ctx, body); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, m.Version)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Schema reports where the database stands against this binary.
func (d *DB) Schema(ctx context.Context) (Schema, error) {
	q := queryer(d.w)
	if d.r != nil {
		q = d.r
	}
	return readSchema(ctx, d.dia, q)
}

// SchemaVersion returns the number of the last applied migration.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	s, err := d.Schema(ctx)
	return s.Version, err
}

// SchemaCurrent is nil when every known migration is applied and none is
// unknown.
func (d *DB) SchemaCurrent(ctx context.Context) error {
	s, err := d.Schema(ctx)
	if err != nil {
		return err
	}
	if err := d.tooNew(s); err != nil {
		return err
	}
	if len(s.Pending) > 0 {
		return fmt.Errorf("%d migrations not applied (from %s)", len(s.Pending), s.Pending[0].Name)
	}
	return nil
}

var errNoSchema = errors.New("not a Fleetgate database (it has no schema_version table)")

// Migrations lists the migrations built into this binary, in order.
func Migrations() []Migration { return MigrationsOf("sqlite") }

// MigrationsOf lists a store's migrations ("sqlite" or "postgres").
func MigrationsOf(store string) []Migration {
	ms, _ := known(store)
	return ms
}
