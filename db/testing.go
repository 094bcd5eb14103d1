package db

import "context"

// ExecForTest runs raw SQL on the writer. Tests use it to set up states
// quickly and to prove that the schema itself refuses what the code would
// never try; the application never calls it.
func (d *DB) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := d.w.ExecContext(ctx, q, args...)
	return err
}
