package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Moving an installation from SQLite to PostgreSQL (fleetgate copy).
//
// The copy reads the SQLite file in one read transaction (one consistent
// state, even beside a running server) and writes PostgreSQL in one write
// transaction: it commits whole or not at all. Every table is copied row
// for row, ids included, the tables that PostgreSQL's triggers maintain
// (vehicle_access, the trip roll-ups, the sort copies of members) as
// well: the file's triggers kept them as PostgreSQL's would, so the
// tables' own triggers are switched off for the copy (ALTER TABLE …
// DISABLE TRIGGER USER, inside the transaction, switched on again before
// it commits) and nothing is counted twice. Foreign keys stay checked:
// tables are filled in the order their keys need (deferrable keys, such
// as an account's Owner, are checked at commit). Then each identity
// column's sequence is moved past the largest id copied, and the rows of
// every table are counted on both sides; a difference rolls it all back.

// CopiedTable is one table of a copy and its rows on each side.
type CopiedTable struct {
	Name           string
	Source, Target int64
}

// CopyError refuses a copy before anything was written.
type CopyError struct{ Msg string }

func (e *CopyError) Error() string { return e.Msg }

// CopyToPostgres copies the SQLite database at from into the PostgreSQL
// database at to, which must be empty (it is migrated first, to this
// binary's schema version, which the file must be at too).
func CopyToPostgres(ctx context.Context, from, to string) ([]CopiedTable, error) {
	if IsPostgres(from) {
		return nil, &CopyError{"the source must be a SQLite file"}
	}
	if !IsPostgres(to) {
		return nil, &CopyError{"the target must be a PostgreSQL database (postgres://…)"}
	}
	src, err := OpenWith(ctx, from, Options{NoMigrate: true})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	s, err := src.Schema(ctx)
	if err != nil {
		return nil, err
	}
	known := KnownVersion()
	switch {
	case s.Version == 0:
		return nil, &CopyError{fmt.Sprintf("%s is not a Fleetgate database (no schema version)", from)}
	case len(s.Unknown) > 0:
		return nil, &SchemaTooNewError{Path: from, Found: s.Version, Known: known, Unknown: s.Unknown}
	case len(s.Pending) > 0:
		return nil, &CopyError{fmt.Sprintf("%s is at schema version %d and this fleetgate's is %d: migrate it first (fleetgate migrate --db %s), then copy",
			from, s.Version, known, from)}
	}

	// The target as it is, before migrating: empty, or migrated to the
	// same version and without data.
	pre, err := OpenWith(ctx, to, Options{NoMigrate: true})
	if err != nil {
		return nil, err
	}
	ts, err := pre.Schema(ctx)
	pre.Close()
	if err != nil {
		return nil, err
	}
	if len(ts.Unknown) > 0 {
		return nil, &SchemaTooNewError{Path: redactAddr(to), Found: ts.Version, Known: known, Unknown: ts.Unknown}
	}
	if ts.Version != 0 && ts.Version != s.Version {
		return nil, &CopyError{fmt.Sprintf("%s is at schema version %d and %s at %d: the versions must be the same (copy into an empty database)",
			redactAddr(to), ts.Version, from, s.Version)}
	}
	dst, err := Open(ctx, to)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	var users, accounts int64
	if err := dst.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM accounts)`).Scan(&users, &accounts); err != nil {
		return nil, err
	}
	if users > 0 || accounts > 0 {
		return nil, &CopyError{fmt.Sprintf("%s holds data (%d users, %d accounts): copy only into an empty database", redactAddr(to), users, accounts)}
	}

	rtx, err := src.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer rtx.Rollback()
	var out []CopiedTable
	err = dst.update(ctx, func(tx *sql.Tx) error {
		out, err = copyTables(ctx, rtx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pgColumn is a column of the target and its type.
type pgColumn struct {
	name, typ string
	identity  bool
}

func copyTables(ctx context.Context, src, dst *sql.Tx) ([]CopiedTable, error) {
	tables, cols, err := pgTables(ctx, dst)
	if err != nil {
		return nil, err
	}
	order, err := fkOrder(ctx, dst, tables)
	if err != nil {
		return nil, err
	}
	srcCols, err := sqliteColumns(ctx, src, tables)
	if err != nil {
		return nil, err
	}
	for _, t := range order {
		for _, c := range cols[t] {
			if !srcCols[t][c.name] {
				return nil, &CopyError{fmt.Sprintf("table %s: column %s is not in the SQLite file (the schemas differ)", t, c.name)}
			}
		}
	}
	quoted := make([]string, len(order))
	for i, t := range order {
		quoted[i] = quoteIdent(t)
	}
	for _, t := range order {
		if _, err := dst.ExecContext(ctx, rawSQL+`ALTER TABLE `+quoteIdent(t)+` DISABLE TRIGGER USER`); err != nil {
			return nil, fmt.Errorf("table %s: %w", t, err)
		}
	}
	// What the migrations wrote (e.g. the key of unsubscribe links) is
	// replaced by the file's rows.
	if _, err := dst.ExecContext(ctx, rawSQL+`TRUNCATE `+strings.Join(quoted, ", ")); err != nil {
		return nil, fmt.Errorf("empty the target's tables: %w", err)
	}
	if _, err := dst.ExecContext(ctx, rawSQL+`SET CONSTRAINTS ALL DEFERRED`); err != nil {
		return nil, err
	}
	var out []CopiedTable
	for _, t := range order {
		n, err := copyTable(ctx, src, dst, t, cols[t])
		if err != nil {
			return nil, fmt.Errorf("copy table %s: %w", t, err)
		}
		out = append(out, CopiedTable{Name: t, Source: n})
	}
	// The deferred keys are checked now: a table with checks pending
	// cannot be altered.
	if _, err := dst.ExecContext(ctx, rawSQL+`SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
		return nil, err
	}
	for _, t := range order {
		if _, err := dst.ExecContext(ctx, rawSQL+`ALTER TABLE `+quoteIdent(t)+` ENABLE TRIGGER USER`); err != nil {
			return nil, fmt.Errorf("table %s: %w", t, err)
		}
		for _, c := range cols[t] {
			if !c.identity {
				continue
			}
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT max(%s) FROM %s), 0) + 1, false)`,
				quoteIdent(t), c.name, quoteIdent(c.name), quoteIdent(t))
			if _, err := dst.ExecContext(ctx, rawSQL+q); err != nil {
				return nil, fmt.Errorf("table %s: reset the sequence of %s: %w", t, c.name, err)
			}
		}
	}
	// Every table counted on both sides, in the copy's transactions.
	var bad []string
	for i := range out {
		t := &out[i]
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t.Name)).Scan(&t.Source); err != nil {
			return nil, err
		}
		if err := dst.QueryRowContext(ctx, rawSQL+`SELECT count(*) FROM `+quoteIdent(t.Name)).Scan(&t.Target); err != nil {
			return nil, err
		}
		if t.Source != t.Target {
			bad = append(bad, fmt.Sprintf("%s (%d rows in the file, %d copied)", t.Name, t.Source, t.Target))
		}
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("the counts differ, nothing was copied: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// pgTables lists the target's tables (but schema_version) and their
// columns that take values (not generated ones).
func pgTables(ctx context.Context, q *sql.Tx) ([]string, map[string][]pgColumn, error) {
	rows, err := q.QueryContext(ctx, rawSQL+`SELECT c.table_name, c.column_name, c.udt_name, c.is_identity = 'YES'
		FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER' AND c.table_name <> 'schema_version'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols := map[string][]pgColumn{}
	var tables []string
	for rows.Next() {
		var t string
		var c pgColumn
		if err := rows.Scan(&t, &c.name, &c.typ, &c.identity); err != nil {
			return nil, nil, err
		}
		if _, ok := cols[t]; !ok {
			tables = append(tables, t)
		}
		cols[t] = append(cols[t], c)
	}
	return tables, cols, rows.Err()
}

// fkOrder orders tables so that each comes after the tables its foreign
// keys name (deferrable keys and a table's keys to itself aside: those
// are checked at commit, or hold in the file's row order).
func fkOrder(ctx context.Context, q *sql.Tx, tables []string) ([]string, error) {
	rows, err := q.QueryContext(ctx, rawSQL+`SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND NOT c.condeferrable AND n.nspname = current_schema() AND c.conrelid <> c.confrelid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	needs := map[string]map[string]bool{}
	for rows.Next() {
		var t, ref string
		if err := rows.Scan(&t, &ref); err != nil {
			return nil, err
		}
		t, ref = strings.Trim(t, `"`), strings.Trim(ref, `"`)
		if needs[t] == nil {
			needs[t] = map[string]bool{}
		}
		needs[t][ref] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(tables)
	done := map[string]bool{}
	var order []string
	for len(order) < len(tables) {
		progress := false
		for _, t := range tables {
			if done[t] {
				continue
			}
			ready := true
			for ref := range needs[t] {
				if !done[ref] && ref != "schema_version" {
					ready = false
					break
				}
			}
			if ready {
				done[t] = true
				order = append(order, t)
				progress = true
			}
		}
		if !progress {
			var left []string
			for _, t := range tables {
				if !done[t] {
					left = append(left, t)
				}
			}
			return nil, fmt.Errorf("the foreign keys of %s form a cycle without a deferrable key", strings.Join(left, ", "))
		}
	}
	return order, nil
}

// sqliteColumns lists the columns of each table in the file.
func sqliteColumns(ctx context.Context, q *sql.Tx, tables []string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	for _, t := range tables {
		rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t)
		if err != nil {
			return nil, err
		}
		out[t] = map[string]bool{}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			out[t][c] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(out[t]) == 0 {
			return nil, &CopyError{fmt.Sprintf("table %s is not in the SQLite file (the schemas differ)", t)}
		}
	}
	return out, nil
}

// copyBatch is how many rows one INSERT carries.
const copyBatch = 200

// copyTable copies every row of table t, returning how many.
func copyTable(ctx context.Context, src, dst *sql.Tx, t string, cols []pgColumn) (int64, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	list := strings.Join(names, ", ")
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM `+quoteIdent(t))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(rawSQL + `INSERT INTO ` + quoteIdent(t) + ` (` + list + `) OVERRIDING SYSTEM VALUE VALUES `)
		for r := 0; r < len(batch)/len(cols); r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(r*len(cols) + c + 1))
			}
			b.WriteByte(')')
		}
		_, err := dst.ExecContext(ctx, b.String(), batch...)
		batch = batch[:0]
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			v, err := pgValue(vals[i], c.typ)
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c.name, err)
			}
			batch = append(batch, v)
		}
		n++
		if len(batch) >= copyBatch*len(cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// pgValue is a value read from SQLite as the PostgreSQL column of type
// typ (its udt_name) takes it: SQLite keeps what it was given, whatever
// the column's declared type.
func pgValue(v any, typ string) (any, error) {
	switch typ {
	case "text", "citext", "varchar":
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "bytea":
		if x, ok := v.(string); ok {
			return []byte(x), nil
		}
	case "int8", "int4", "int2":
		switch x := v.(type) {
		case float64:
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("%v is not a whole number", x)
			}
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	}
	return v, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// IsCopyError reports whether err refused a copy before it began.
func IsCopyError(err error) bool {
	var e *CopyError
	return errors.As(err, &e)
}
