package db

import (
	"context"
	"database/sql"
)

// ExecForTest runs raw SQL on the writer. Tests use it to set up states
// quickly and to prove that the schema itself refuses what the code would
// never try; the application never calls it.
func (d *DB) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := d.w.ExecContext(ctx, q, args...)
	return err
}

// QueryRowForTest reads one row on the reader pool, for test assertions.
func (d *DB) QueryRowForTest(ctx context.Context, q string, args ...any) *sql.Row {
	return d.r.QueryRowContext(ctx, q, args...)
}

// BeforeNextWriteForTest runs fn once, just before the next write
// transaction opens. Tests use it to land a concurrent change between a
// request's first reads and its write, deterministically.
func (d *DB) BeforeNextWriteForTest(fn func()) {
	d.beforeWrite.Store(&fn)
}

// QueryForTest reads rows on the reader pool, for test assertions.
func (d *DB) QueryForTest(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.r.QueryContext(ctx, q, args...)
}

// EnqueueMailForTest writes m to the outbox in a transaction of its own,
// as a change that causes an e-mail would.
func (d *DB) EnqueueMailForTest(ctx context.Context, m Mail) error {
	return d.update(ctx, func(tx *sql.Tx) error { return d.enqueueMail(ctx, tx, m) })
}
