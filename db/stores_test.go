package db_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/pgtest"
)

// The two stores' migrations are one list: the same numbered files.
func TestMigrationsAreOneListForBothStores(t *testing.T) {
	names := func(store string) []string {
		var out []string
		for _, m := range db.MigrationsOf(store) {
			out = append(out, m.Name)
		}
		return out
	}
	sq, pg := names("sqlite"), names("postgres")
	if len(sq) == 0 || !slices.Equal(sq, pg) {
		t.Fatalf("migrations differ between the stores:\nsqlite:   %v\npostgres: %v", sq, pg)
	}
}

// Both stores' schemas have the same tables with the same columns, so
// that every query reads the same thing on either.
func TestSchemasMatchAcrossStores(t *testing.T) {
	if pgtest.Server() == "" {
		t.Skip("needs PostgreSQL (make test-postgres)")
	}
	ctx := context.Background()
	sq, err := db.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	pg, err := db.Open(ctx, pgtest.Database(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	columns := func(d *db.DB, q string) []string {
		rows, err := d.QueryForTest(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out = append(out, table+"."+strings.ToLower(col))
		}
		slices.Sort(out)
		return out
	}
	// SQLite's FTS5 index (vehicles_search and its shadow tables) is a
	// pg_trgm index on PostgreSQL.
	s := columns(sq, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'vehicles_search%'`)
	p := columns(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	for _, c := range s {
		if !slices.Contains(p, c) {
			t.Errorf("PostgreSQL lacks %s", c)
		}
	}
	for _, c := range p {
		if !slices.Contains(s, c) {
			t.Errorf("SQLite lacks %s", c)
		}
	}
}
