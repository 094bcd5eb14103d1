package db

// PostgreSQL specifics live in this file: the two pools, the driver that
// lets the queries be written once (`?` placeholders, SQLite's LIKE), the
// error codes (SQLSTATE), the write lock shared by every instance, and the
// pg_trgm vehicle search. See dialect.go for what the stores share.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
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
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?, ?)`, jobLockSpace, key).Scan(&ok); err != nil || !ok {
		return false, func() {}, err
	}
	return true, func() {
		var done bool
		err := conn.QueryRowContext(context.Background(), `SELECT pg_advisory_unlock(?, ?)`, jobLockSpace, key).Scan(&done)
		if err != nil || !done {
			// Not given back: end the session, which drops the lock,
			// rather than return it to the pool holding the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

func (postgresDialect) instant(expr string) string { return "(" + expr + ")::timestamptz" }

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
	// The simple protocol sends each query with its arguments as literals:
	// the server types them from their place in the query, as SQLite
	// does, and no statement is prepared per connection.
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
	return c.Conn.ExecContext(ctx, rebindArgs(query, args), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebindArgs(query, args), args)
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

// rebound caches rebind's work: the queries are a fixed set of texts.
var rebound sync.Map

// rebind rewrites a query written for both stores into PostgreSQL's terms:
// each `?` outside quotes and comments becomes `$n`, and the keyword LIKE
// becomes ILIKE. A query starting with rawSQL is returned as it is.
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
			j = min(j+1, len(query))
			b.WriteString(query[i:j])
			i = j
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				j = len(query) - i - 2
			} else {
				j += 2
			}
			b.WriteString(query[i : i+2+j])
			i += 2 + j
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
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
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
