package db

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// Helpers every list query shares: a condition builder whose arguments
// travel with their SQL fragments, one way to read a page with the total
// count, and scanners for stored times that report bad values.

// conds is a list of conditions joined by AND; each fragment carries its
// own arguments, so no argument is ever appended far from its "?".
type conds struct {
	frags []string
	args  []any
}

// add appends a condition with its arguments.
func (c *conds) add(frag string, args ...any) {
	c.frags = append(c.frags, frag)
	c.args = append(c.args, args...)
}

// sql is the conditions joined by AND ("1 = 1" when there is none).
func (c *conds) sql() string {
	if len(c.frags) == 0 {
		return "1 = 1"
	}
	return strings.Join(c.frags, " AND ")
}

// pageSpec is one page of a list: LIMIT and OFFSET.
type pageSpec struct{ limit, offset int }

// pageOf reads page (from 1) of per rows; per <= 0 takes def.
func pageOf(page, per, def int) pageSpec {
	if per <= 0 {
		per = def
	}
	return pageSpec{limit: per, offset: (max(page, 1) - 1) * per}
}

// readPage runs a list query whose last selected column is COUNT(*) OVER ()
// and whose last two parameters are LIMIT and OFFSET, and scans each row
// with scan (which adds total as its last destination). It returns the
// number of rows the filter matches over all pages: one query, no
// separate count. Past the last page no row carries the count, so it is
// asked for then.
func readPage(ctx context.Context, q queryer, query string, args []any, p pageSpec, scan func(rows *sql.Rows, total *int) error) (int, error) {
	rows, err := q.QueryContext(ctx, query, append(args[:len(args):len(args)], p.limit, p.offset)...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	total, n := 0, 0
	for rows.Next() {
		if err := scan(rows, &total); err != nil {
			return 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n == 0 && p.offset > 0 {
		err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+query+`) AS page`, append(args[:len(args):len(args)], math.MaxInt64, 0)...).Scan(&total)
	}
	return total, err
}

// timeFormats are the forms times are stored in: RFC 3339, with or
// without fractions of a second.
func parseStoredTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// timeCol scans a NOT NULL time column into *t; a value that is not a
// time is a scan error, not a zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case string:
		t, err := parseStoredTime(x)
		*c.t = t
		return err
	case []byte:
		t, err := parseStoredTime(string(x))
		*c.t = t
		return err
	case time.Time:
		*c.t = x
		return nil
	}
	return fmt.Errorf("stored time: unexpected %T", v)
}

// nullTimeCol scans a time column that may be NULL into *p (nil for NULL).
type nullTimeCol struct{ p **time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.p = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.p = &t
	return nil
}
