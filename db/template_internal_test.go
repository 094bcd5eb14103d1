package db

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"fleetgate/db/pgtest"
)

// The tests inside package db cannot import dbtest (it imports db), so
// they have their own templates: a database built once per test binary
// and copied per test, which is far cheaper than running every migration
// (and filling the demo account) in every test, more so under the race
// detector. Tests of the migrations themselves still start from empty.
type internalTemplate struct {
	name  string
	from  *internalTemplate // starts as a copy of from, when set
	build func(ctx context.Context, d *DB) error

	once sync.Once
	dir  string
	file string
	err  error
}

var (
	// migratedDB is an empty, migrated database: the only migration from
	// empty of the templates (the external tests use it too, through
	// MigratedCopyForTest).
	migratedDB = &internalTemplate{name: "migrated"}
	// demoDB is a migrated database with the demo account.
	demoDB = &internalTemplate{name: "demo", from: migratedDB, build: func(ctx context.Context, d *DB) error {
		_, err := d.EnsureDemo(ctx)
		return err
	}}
)

// DemoCopyForTest is MigratedCopyForTest with the demo account.
func DemoCopyForTest(t testing.TB) string {
	t.Helper()
	return demoDB.path(t)
}

// MigratedCopyForTest copies an empty, migrated database (built once per
// test binary) into t's temp dir and returns the copy's path. The tests
// outside package db use it, so that the binary migrates from empty once.
func MigratedCopyForTest(t testing.TB) string {
	t.Helper()
	return migratedDB.path(t)
}

// RemoveInternalTemplatesForTest deletes the templates' files; the
// package's TestMain calls it after the tests.
func RemoveInternalTemplatesForTest() {
	for _, tp := range []*internalTemplate{migratedDB, demoDB} {
		if tp.dir != "" {
			os.RemoveAll(tp.dir)
		}
		if pgtest.Server() != "" && tp.file != "" {
			pgtest.DropDatabase(context.Background(), tp.file)
		}
	}
}

func (tp *internalTemplate) make() {
	ctx := context.Background()
	if tp.dir, tp.err = os.MkdirTemp("", "fleetgate-internal-"+tp.name+"-"); tp.err != nil {
		return
	}
	tp.file = filepath.Join(tp.dir, tp.name+".db")
	if tp.from != nil {
		if tp.from.once.Do(tp.from.make); tp.from.err != nil {
			tp.err = tp.from.err
			return
		}
	}
	if pgtest.Server() != "" {
		from := ""
		if tp.from != nil {
			from = tp.from.file
		}
		if tp.file, tp.err = pgtest.CreateDatabase(ctx, "tpl_internal_"+tp.name, from); tp.err != nil {
			return
		}
	} else if tp.from != nil {
		if tp.err = copyFileForTest(tp.from.file, tp.file); tp.err != nil {
			return
		}
	}
	d, err := Open(ctx, tp.file)
	if err != nil {
		tp.err = err
		return
	}
	if tp.build != nil {
		if tp.err = tp.build(ctx, d); tp.err != nil {
			d.Close()
			return
		}
	}
	// Everything into the main file, so that the file alone is the database.
	if pgtest.Server() != "" {
		tp.err = d.Close()
		return
	}
	if _, tp.err = d.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); tp.err != nil {
		d.Close()
		return
	}
	tp.err = d.Close()
}

// path copies the template into t's temp dir and returns the copy's
// path. The first call builds the template.
func (tp *internalTemplate) path(t testing.TB) string {
	t.Helper()
	tp.once.Do(tp.make)
	if tp.err != nil {
		t.Fatalf("template database %s: %v", tp.name, tp.err)
	}
	if pgtest.Server() != "" {
		return pgtest.Database(t, tp.file)
	}
	dst := filepath.Join(t.TempDir(), tp.name+".db")
	if err := copyFileForTest(tp.file, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// open opens a fresh copy of the template, closed when the test ends.
func (tp *internalTemplate) open(t testing.TB) *DB {
	t.Helper()
	d, err := Open(context.Background(), tp.path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func copyFileForTest(src, dst string) error {
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

// preparedReads reads through the reader pool's prepared statements
// (d.readQuery): the property tests run the same checks hundreds of
// times, and parsing their SQL again each time was most of their cost.
type preparedReads struct {
	t *testing.T
	d *DB
}

func newPreparedReads(t *testing.T, d *DB) preparedReads { return preparedReads{t, d} }

// QueryContext makes preparedReads a rowQueryer.
func (c preparedReads) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.d.readQuery(ctx, q, args...)
}

// rows is rowsOf on the prepared statement of q.
func (c preparedReads) rows(q string, args ...any) []string {
	c.t.Helper()
	return rowsOf(c.t, c, q, args...)
}

// diff runs a sameRowsSQL query: nil when both sides agree, else the rows
// they do not share, one a line, columns apart.
func (c preparedReads) diff(q string, args ...any) string {
	c.t.Helper()
	rows, err := c.d.readQuery(context.Background(), q, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			c.t.Fatal(err)
		}
		line := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			line[i] = cols[i] + "=" + fmt.Sprint(v)
		}
		out = append(out, strings.Join(line, " "))
	}
	if err := rows.Err(); err != nil {
		c.t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// ids is ids on the prepared statement of q.
func (c preparedReads) ids(q string, args ...any) []int64 {
	c.t.Helper()
	rows, err := c.d.readQuery(context.Background(), q, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			c.t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// sameRowsSQL is a query of the rows that the queries a and b (each of n
// columns) do not have in common, each with the number of times a and b
// give it: no row when a and b give the same multiset of rows. One
// statement compares two tables, each side read once, instead of reading
// both into Go. Text compares as it is stored: append the empty text to
// a column with another collation (NOCASE in SQLite, CITEXT in
// PostgreSQL), which drops it.
func sameRowsSQL(a, b string, n int) string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i+1)
	}
	c := strings.Join(cols, ", ")
	return `SELECT * FROM (WITH sides(side, ` + c + `) AS (SELECT 1, * FROM (` + a + `) AS a UNION ALL SELECT 2, * FROM (` + b + `) AS b)
	SELECT ` + c + `, COUNT(CASE WHEN side = 1 THEN 1 END) AS in_first, COUNT(CASE WHEN side = 2 THEN 1 END) AS in_second FROM sides
	 GROUP BY ` + c + `) AS counted WHERE in_first <> in_second`
}

var seedFlag = flag.Uint64("seed", 0, "seed of the random property tests in package db (0: a new one each run)")

// propertyRNG is the random source of a property test: a new seed each
// run unless -seed gives one, and the seed is logged when the test fails,
// so that a failure can be replayed.
func propertyRNG(t *testing.T) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed %d: replay with go test -run '^%s$' -seed=%d ./db", seed, t.Name(), seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// rounds is the number of random rounds of a property test: n, or n/div
// under the race detector (see raceOn).
func rounds(n, div int) int {
	if raceOn {
		return n / div
	}
	return n
}
