package db

// PostgreSQL specifics live in this file: the two pools, the driver that
// lets the queries be written once (`?` placeholders, SQLite's LIKE), the
// error codes (SQLSTATE), the write lock shared by every instance, and the
// pg_trgm vehicle search. See dialect.go for what the stores share.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// writeLockKey is the advisory lock every write transaction takes first:
// writes to one installation are serialized across all its instances, as
// SQLite serializes them within one, so a check made inside a write
// transaction still holds when the write commits.
const writeLockKey = 7_431_020_019

// postgresDialect is PostgreSQL's way with what differs between the stores.
type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) tableExists(ctx context.Context, q queryer, table string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`, table).Scan(&n)
	return n > 0, err
}

func (postgresDialect) beginWrite(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(writeLockKey)+`)`)
	return err
}

// jobLockSpace is the first key of the advisory locks of background jobs
// (the second is the job name's hash): a space of its own, apart from
// writeLockKey, which is a single 64-bit key.
const jobLockSpace = 7431

// tryJob takes the job's advisory lock on conn's session without waiting.
// The session holds it until release, or until the session ends (an
// instance that dies drops it with its connection).
func (postgresDialect) tryJob(ctx context.Context, conn *sql.Conn, job string) (bool, func(), error) {
	h := fnv.New32a()
	h.Write([]byte(job))
	key := int32(h.Sum32())
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(CAST(? AS integer), CAST(? AS integer))`, jobLockSpace, key).Scan(&ok); err != nil || !ok {
		return false, func() {}, err
	}
	return true, func() {
		var done bool
		err := conn.QueryRowContext(context.Background(), `SELECT pg_advisory_unlock(CAST(? AS integer), CAST(? AS integer))`, jobLockSpace, key).Scan(&done)
		if err != nil || !done {
			// Not given back: end the session, which drops the lock,
			// rather than return it to the pool holding the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

func (postgresDialect) instant(expr string) string { return "(" + expr + ")::timestamptz" }

// nextID takes the next value of the id column's identity sequence, so
// that rows inserted later without an id never collide with it.
func (postgresDialect) nextID(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT nextval(pg_get_serial_sequence(?, 'id'))`, table).Scan(&id)
	return id, err
}

func (postgresDialect) jsonEach(arg string, ints bool) string {
	if ints {
		return `SELECT CAST(j.value AS BIGINT) AS value FROM json_array_elements_text(CAST(` + arg + ` AS json)) AS j(value)`
	}
	return `SELECT j.value FROM json_array_elements_text(CAST(` + arg + ` AS json)) AS j(value)`
}

// vehicleSearch matches each word anywhere in name, plate or VIN: one
// ILIKE per word over the expression of the pg_trgm index
// vehicles_search_trgm (migrations/postgres), which serves each of them.
func (postgresDialect) vehicleSearch(words []string) (cond string, args []any) {
	conds := make([]string, len(words))
	for i, w := range words {
		conds[i] = `(v.name || ' ' || v.plate || ' ' || v.vin) ILIKE ? ESCAPE '\'`
		args = append(args, "%"+escapeLike(w)+"%")
	}
	return "(" + strings.Join(conds, " AND ") + ")", args
}

// pgError is the PostgreSQL error in err's chain, if any.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func pgIsUnique(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == "23505" // unique_violation
}

func pgIsForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == "23503" // foreign_key_violation
}

// pgIsRaise reports whether err is a schema trigger's RAISE EXCEPTION.
func pgIsRaise(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == "P0001" // raise_exception
}

func pgRaiseMessage(err error) string {
	if !pgIsRaise(err) {
		return ""
	}
	return pgError(err).Message
}

// pgReason names a PostgreSQL failure in a few words ("" when err is no
// PostgreSQL error the health check knows).
func pgReason(err error) string {
	e := pgError(err)
	if e == nil {
		return ""
	}
	switch {
	case e.Code == "25006": // read_only_sql_transaction (a standby, or read-only by setting)
		return "the database is read-only"
	case e.Code == "53100": // disk_full
		return "the disk is full"
	case e.Code == "55P03" || e.Code == "40P01" || e.Code == "53300": // lock_not_available, deadlock, too_many_connections
		return "the database is busy"
	case strings.HasPrefix(e.Code, "58"): // system errors (I/O)
		return "disk I/O error"
	case e.Code == "XX001" || e.Code == "XX002": // data_corrupted, index_corrupted
		return "the database is damaged"
	}
	return ""
}

// redactAddr is a PostgreSQL address without its password, for messages.
func redactAddr(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// openPostgres opens the two pools of a PostgreSQL database: writes on one
// connection (serialized across instances by writeLockKey in any case),
// reads on a pool whose sessions are read-only.
func openPostgres(ctx context.Context, addr string, o Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(addr)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactAddr(addr), err)
	}
	// The simple protocol sends each query whole, its arguments written
	// in as literals (by interpolate: numbers as numbers, text as untyped
	// literals the server types from their place in the query, as SQLite
	// does), and no statement is prepared per connection.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	w := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	d := &DB{w: w, path: redactAddr(addr), opt: o, dia: postgresDialect{}, Now: func() time.Time { return time.Now().UTC() }, mailNudge: make(chan struct{}, 1)}
	if o.NoMigrate {
		err = d.checkSchema(ctx)
	} else {
		err = d.migrate(ctx, "")
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", d.path, err)
	}
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	r := sql.OpenDB(pgConnector{stdlib.GetConnector(*rcfg)})
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	d.r = r
	return d, nil
}

// pgConnector wraps pgx's database/sql driver so that the queries written
// for both stores run on PostgreSQL: `?` placeholders become `$1`, `$2`, …
// and LIKE becomes ILIKE (SQLite's LIKE ignores ASCII case). A query
// that starts with rawSQL (the migrations, written for PostgreSQL) is
// sent as it is.
type pgConnector struct{ driver.Connector }

// rawSQL marks a query written for PostgreSQL alone.
const rawSQL = "/*postgres*/"

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn.(*stdlib.Conn)}, nil
}

type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return &pgStmt{c: c, query: query}, nil
}

// PrepareContext prepares nothing on the server: with the simple
// protocol every query is sent whole.
func (c *pgConn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &pgStmt{c: c, query: query}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, err := c.interpolate(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, q, nil)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, err := c.interpolate(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, q, nil)
}

// interpolate is the query rebound, with its arguments written in. A text
// literal is safe only while backslashes are plain characters in it.
func (c *pgConn) interpolate(query string, args []driver.NamedValue) (string, error) {
	if len(args) > 0 && c.Conn.Conn().PgConn().ParameterStatus("standard_conforming_strings") != "on" {
		return "", errors.New("PostgreSQL must run with standard_conforming_strings on")
	}
	return interpolate(rebindArgs(query, args), args)
}

// interpolate writes the arguments into a rebound query in place of their
// $n, as literals of their own type: an integer as a BIGINT (so that
// `WITH up(id) AS (SELECT ?)` gives an integer column, as in SQLite;
// pgx would send every argument as a quoted, untyped literal, which a
// CTE or UNION column takes as text), a float as double precision, bytes
// as bytea, and text as an untyped string literal that the server types
// from its place in the query.
func interpolate(query string, args []driver.NamedValue) (string, error) {
	if len(args) == 0 {
		return query, nil
	}
	byOrdinal := make(map[int]any, len(args))
	for _, a := range args {
		byOrdinal[a.Ordinal] = a.Value
	}
	var b strings.Builder
	b.Grow(len(query) + 16*len(args))
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case verbatimEnd(query, i) > i:
			j := verbatimEnd(query, i)
			b.WriteString(query[i:j])
			i = j
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(query[i+1 : j])
			v, ok := byOrdinal[n]
			if !ok {
				return "", fmt.Errorf("query has $%d but %d arguments", n, len(args))
			}
			if err := writeLiteral(&b, v); err != nil {
				return "", err
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// writeLiteral writes v (a value CheckNamedValue let through) as a SQL
// literal.
func writeLiteral(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case int64:
		// BIGINT, the schema's one integer type (a recursive CTE needs
		// its terms' types to agree exactly).
		b.WriteString("CAST(" + strconv.FormatInt(x, 10) + " AS BIGINT)")
	case float64:
		b.WriteString("CAST('" + strconv.FormatFloat(x, 'g', -1, 64) + "' AS DOUBLE PRECISION)")
	case []byte:
		b.WriteString(`'\x` + hex.EncodeToString(x) + `'::bytea`)
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return errors.New("text argument holds a NUL byte")
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(x, "'", "''"))
		b.WriteByte('\'')
	default:
		return fmt.Errorf("argument of type %T", v)
	}
	return nil
}

// rebindArgs is rebind for a query whose arguments may be named
// (sql.Named): each :name becomes the $n of its argument.
func rebindArgs(query string, args []driver.NamedValue) string {
	var names map[string]int
	for _, a := range args {
		if a.Name != "" {
			if names == nil {
				names = map[string]int{}
			}
			names[a.Name] = a.Ordinal
		}
	}
	if names == nil {
		return rebind(query)
	}
	return rewrite(query, names)
}

// CheckNamedValue stores arguments as SQLite does: a bool as 0 or 1 (the
// schema's flags are integers), a time in modernc's text form; anything
// else as database/sql would pass it.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case bool:
		if v {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
		return nil
	case time.Time:
		nv.Value = v.Format("2006-01-02 15:04:05.999999999-07:00")
		return nil
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		nv.Value = x
		return c.CheckNamedValue(nv)
	case time.Time:
		nv.Value = x
		return c.CheckNamedValue(nv)
	}
	nv.Value = v
	return nil
}

type pgStmt struct {
	c     *pgConn
	query string
}

func (s *pgStmt) Close() error  { return nil }
func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

func (s *pgStmt) CheckNamedValue(nv *driver.NamedValue) error { return s.c.CheckNamedValue(nv) }

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// crossJoinOn matches a CROSS JOIN of one table (with an optional alias)
// followed by ON, which PostgreSQL accepts only as INNER JOIN.
var crossJoinOn = regexp.MustCompile(`^(?i)CROSS\s+JOIN\s+\w+(\s+(AS\s+)?\w+)?\s+ON\b`)

// rebound caches rebind's work: the queries are a fixed set of texts.
var rebound sync.Map

// rebind rewrites a query written for both stores into PostgreSQL's terms:
// each `?` outside quotes and comments becomes `$n`, the keyword LIKE
// becomes ILIKE, and CROSS JOIN with an ON clause (SQLite's way of fixing
// the join order: the left table drives) becomes INNER JOIN. A query
// starting with rawSQL is returned as it is.
func rebind(query string) string {
	if strings.HasPrefix(query, rawSQL) {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	q := rewrite(query, nil)
	rebound.Store(query, q)
	return q
}

// rewrite is rebind's work; names maps the names of named arguments
// (:name in the query) to their $n.
func rewrite(query string, names map[string]int) string {
	if strings.HasPrefix(query, rawSQL) {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case verbatimEnd(query, i) > i:
			j := verbatimEnd(query, i)
			b.WriteString(query[i:j])
			i = j
		case c == ':' && names != nil && i+1 < len(query) && query[i+1] == ':':
			b.WriteString("::") // a cast
			i += 2
		case c == ':' && names != nil:
			j := i + 1
			for j < len(query) && (query[j] == '_' || query[j] >= 'a' && query[j] <= 'z' || query[j] >= 'A' && query[j] <= 'Z' || query[j] >= '0' && query[j] <= '9') {
				j++
			}
			if n, ok := names[query[i+1:j]]; ok && j > i+1 {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
				i = j
			} else {
				b.WriteByte(c)
				i++
			}
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
		case (c == 'L' || c == 'l') && isKeywordAt(query, i, "LIKE"):
			b.WriteString("ILIKE")
			i += 4
		case (c == 'C' || c == 'c') && isKeywordAt(query, i, "CROSS") && crossJoinOn.MatchString(query[i:]):
			b.WriteString("INNER")
			i += 5
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// verbatimEnd is where the quoted string, quoted name or comment starting
// at i ends (i itself when none starts there): text the rewrites pass
// through untouched.
func verbatimEnd(query string, i int) int {
	c := query[i]
	switch {
	case c == '\'' || c == '"':
		j := i + 1
		for j < len(query) {
			if query[j] == c {
				if j+1 < len(query) && query[j+1] == c { // doubled quote
					j += 2
					continue
				}
				break
			}
			j++
		}
		return min(j+1, len(query))
	case c == '-' && strings.HasPrefix(query[i:], "--"):
		if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(query)
	case c == '/' && strings.HasPrefix(query[i:], "/*"):
		if j := strings.Index(query[i+2:], "*/"); j >= 0 {
			return i + 2 + j + 2
		}
		return len(query)
	}
	return i
}

// isKeywordAt reports whether the word at i is kw (any case), standing alone.
func isKeywordAt(s string, i int, kw string) bool {
	if i+len(kw) > len(s) || !strings.EqualFold(s[i:i+len(kw)], kw) {
		return false
	}
	word := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if i > 0 && word(s[i-1]) {
		return false
	}
	if j := i + len(kw); j < len(s) && word(s[j]) {
		return false
	}
	return true
}
