package db

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

func TestReadPageAndTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migratedDB.open(t)
	err := d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE t (n INTEGER, at TEXT)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 23)
			INSERT INTO t SELECT i, '2026-01-02T03:04:05Z' FROM s`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var c conds
	c.add("n > ?", 3)
	c.add("n <= ?", 20) // 17 rows: 4..20
	read := func(page int) ([]int, int) {
		var got []int
		total, err := readPage(ctx, d.r, `SELECT n, at, COUNT(*) OVER () FROM t WHERE `+c.sql()+` ORDER BY n LIMIT ? OFFSET ?`, c.args, pageOf(page, 5, 25),
			func(rows *sql.Rows, total *int) error {
				var n int
				var at time.Time
				if err := rows.Scan(&n, timeCol{&at}, total); err != nil {
					return err
				}
				if at.Day() != 2 {
					t.Errorf("time %v", at)
				}
				got = append(got, n)
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return got, total
	}
	if got, total := read(1); total != 17 || len(got) != 5 || got[0] != 4 {
		t.Errorf("page 1: %v of %d", got, total)
	}
	if got, total := read(4); total != 17 || len(got) != 2 || got[1] != 20 {
		t.Errorf("page 4: %v of %d", got, total)
	}
	if got, total := read(9); total != 17 || len(got) != 0 {
		t.Errorf("past the end: %v of %d", got, total)
	}
	// A stored time that is not one is an error, not a zero time.
	var at time.Time
	if err := d.r.QueryRowContext(ctx, `SELECT 'yesterday'`).Scan(timeCol{&at}); err == nil {
		t.Error("bad time scanned without error")
	}
	var p *time.Time
	if err := d.r.QueryRowContext(ctx, `SELECT NULL`).Scan(nullTimeCol{&p}); err != nil || p != nil {
		t.Errorf("NULL time: %v %v", p, err)
	}
}
