package db

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements of the reader pool for the hot queries (a list
// page, a scope check): compiled once per connection and kept, instead of
// compiled again on every call. They are keyed by their text; the lists
// build a few shapes of text per filter, and the cache stops growing at
// maxPrepared (further texts run unprepared).
const maxPrepared = 256

type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepared is the reader pool's statement for query, prepared on first use.
func (d *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	c := &d.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s
	}
	if len(c.m) >= maxPrepared {
		return nil
	}
	s, err := d.r.PrepareContext(ctx, query)
	if err != nil {
		return nil // the caller runs it unprepared and reports the error
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = s
	return s
}

// readQuery runs a query on the reader pool through its prepared statement.
func (d *DB) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := d.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return d.r.QueryContext(ctx, query, args...)
}

// readRow is readQuery for one row.
func (d *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.r.QueryRowContext(ctx, query, args...)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}
