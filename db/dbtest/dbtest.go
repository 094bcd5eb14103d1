// Package dbtest gives each test a migrated database of its own, fast: a
// template database is built once per test binary (migrations, and for
// example the demo account) and every test gets a copy of its file in the
// test's temp dir. Copying a file takes a millisecond; migrating and filling
// a database takes far longer, more so under the race detector.
//
// Only test code imports this package.
//
// With FLEETGATE_TEST_POSTGRES set to the address of a PostgreSQL server
// (its maintenance database, e.g. postgres://postgres@127.0.0.1:5432/postgres;
// `make test-postgres` starts a throwaway one), the same tests run on
// PostgreSQL: a template is a database, and each test gets a database
// of its own made from it (CREATE DATABASE … TEMPLATE), dropped when the
// test ends.
package dbtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"fleetgate/db"
	"fleetgate/db/pgtest"
)

// Template is a database built once and copied per test.
type Template struct {
	name  string
	from  *Template // starts as a copy of from, when set
	build func(ctx context.Context, d *db.DB) error

	once sync.Once
	dir  string
	path string
	err  error
}

// NewTemplate names a template and the work that fills it after the
// migrations (nil for an empty, migrated database). Nothing runs until a
// test first asks for a copy.
func NewTemplate(name string, build func(ctx context.Context, d *db.DB) error) *Template {
	return &Template{name: name, build: build}
}

// Migrated is an empty, migrated database.
func Migrated() *Template { return NewTemplate("migrated", nil) }

// Demo is a migrated database with the demo account (db.EnsureDemo).
func Demo() *Template { return NewTemplate("demo", ensureDemo) }

func ensureDemo(ctx context.Context, d *db.DB) error {
	_, err := d.EnsureDemo(ctx)
	return err
}

// Derive names a template that starts as a copy of tp and is then filled
// by build: a binary that uses both migrates from empty once.
func (tp *Template) Derive(name string, build func(ctx context.Context, d *db.DB) error) *Template {
	return &Template{name: name, from: tp, build: build}
}

// DemoFrom is Demo built on a copy of base (a migrated template).
func DemoFrom(base *Template) *Template { return base.Derive("demo", ensureDemo) }

func (tp *Template) make() {
	ctx := context.Background()
	tp.dir, tp.err = os.MkdirTemp("", "fleetgate-"+tp.name+"-")
	if tp.err != nil {
		return
	}
	tp.path = filepath.Join(tp.dir, tp.name+".db")
	if tp.from != nil {
		if tp.from.once.Do(tp.from.make); tp.from.err != nil {
			tp.err = tp.from.err
			return
		}
	}
	if pg := Postgres(); pg != "" {
		from := ""
		if tp.from != nil {
			from = tp.from.path
		}
		if tp.path, tp.err = pgtest.CreateDatabase(ctx, "tpl_"+tp.name, from); tp.err != nil {
			return
		}
	} else if tp.from != nil {
		if tp.err = copyFile(tp.from.path, tp.path); tp.err != nil {
			return
		}
	}
	d, err := db.Open(ctx, tp.path)
	if err != nil {
		tp.err = err
		return
	}
	if tp.build != nil {
		if err := tp.build(ctx, d); err != nil {
			d.Close()
			tp.err = fmt.Errorf("build template %s: %w", tp.name, err)
			return
		}
	}
	// Everything into the main file, so that the file alone is the database.
	if Postgres() != "" {
		tp.err = d.Close()
		return
	}
	if err := d.ExecForTest(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		d.Close()
		tp.err = fmt.Errorf("checkpoint template %s: %w", tp.name, err)
		return
	}
	tp.err = d.Close()
}

// Path copies the template into t's temp dir and returns the copy's path.
// The first call builds the template.
func (tp *Template) Path(t testing.TB) string {
	t.Helper()
	return tp.PathAs(t, tp.name+".db")
}

// PathAs is Path with the copy's file name (in a temp dir of its own).
func (tp *Template) PathAs(t testing.TB, file string) string {
	t.Helper()
	tp.once.Do(tp.make)
	if tp.err != nil {
		t.Fatalf("template database %s: %v", tp.name, tp.err)
	}
	if Postgres() != "" {
		return pgtest.Database(t, tp.path)
	}
	dst := filepath.Join(t.TempDir(), file)
	if err := copyFile(tp.path, dst); err != nil {
		t.Fatalf("copy template database %s: %v", tp.name, err)
	}
	return dst
}

// Open opens a fresh copy of the template, closed when the test ends.
func (tp *Template) Open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), tp.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Remove deletes the template's files; TestMain calls it after the tests.
func (tp *Template) Remove() {
	if tp.dir != "" {
		os.RemoveAll(tp.dir)
	}
	if Postgres() != "" && tp.path != "" {
		pgtest.DropDatabase(context.Background(), tp.path)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
