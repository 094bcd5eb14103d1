package db

import (
	"context"
	"database/sql"
)

// GenerateMembers adds n generated people to an account (drivers, one in
// ten deactivated), for load tests and benchmarks of large accounts. They
// share one password hash so that generation stays fast.
func (d *DB) GenerateMembers(ctx context.Context, accountID int64, n int, passwordHash string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		var start int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM users`).Scan(&start); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, created_at)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			SELECT 'person' || (i + ?) || '@load.test', ?, 'Person', printf('%06d', i + ?), ? FROM n`,
			n, start, passwordHash, start, d.stamp()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO members (account_id, user_id, role_id, status, channel, created_at)
			SELECT ?, u.id, (SELECT id FROM roles WHERE account_id = ? AND builtin = 'driver'),
			       CASE WHEN u.id % 10 = 0 THEN 'deactivated' ELSE 'active' END, 'both', ?
			  FROM users u WHERE u.id > ?`, accountID, accountID, d.stamp(), start)
		return err
	})
}
