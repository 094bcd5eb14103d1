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

// GenerateFleet adds a large fleet to an account, for load tests and
// benchmarks: 10 regions ("Region 01" …) of 10 depots each, vehicles
// spread over the depots (one in twenty archived), clients, and every
// tenth vehicle paired with two clients. It raises the paid vehicles so
// that the fleet fits the subscription.
func (d *DB) GenerateFleet(ctx context.Context, accountID int64, vehicles, clients int) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		now := d.stamp()
		steps := []struct {
			q    string
			args []any
		}{
			{`UPDATE subscriptions SET paid_vehicles = paid_vehicles + ? WHERE id = (SELECT subscription_id FROM accounts WHERE id = ?)`,
				[]any{vehicles, accountID}},
			{`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at)
				WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
				SELECT ?, NULL, printf('Region %02d', i), ? FROM n`, []any{accountID, now}},
			{`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at)
				WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
				SELECT ?, r.id, r.name || printf(' depot %02d', n.i), ? FROM vehicle_groups r, n
				 WHERE r.account_id = ? AND r.parent_id IS NULL AND r.name LIKE 'Region %'`, []any{accountID, now, accountID}},
			{`INSERT INTO vehicles (account_id, group_id, name, plate, vin, odometer_km, status, created_at, updated_at)
				WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
				depots AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM vehicle_groups
				            WHERE account_id = ? AND name LIKE 'Region % depot %')
				SELECT ?, (SELECT id FROM depots WHERE k = n.i % 100), printf('Load vehicle %06d', (n.i * 7919) % ?), printf('LD %06d', n.i),
				       '', n.i % 500000, CASE WHEN n.i % 20 = 0 THEN 'archived' ELSE 'active' END, ?, ? FROM n`,
				[]any{vehicles, accountID, accountID, vehicles, now, now}},
		}
		if clients > 0 {
			steps = append(steps,
				struct {
					q    string
					args []any
				}{`INSERT INTO clients (account_id, name, email, created_at, updated_at)
					WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
					SELECT ?, printf('Load client %06d', i), printf('c%d@load.test', i), ?, ? FROM n`, []any{clients, accountID, now, now}},
				struct {
					q    string
					args []any
				}{`INSERT OR IGNORE INTO vehicle_clients (vehicle_id, client_id, created_at)
					SELECT v.id, c.first + (v.id * 13) % ?, ? FROM vehicles v,
					       (SELECT MIN(id) AS first FROM clients WHERE account_id = ? AND name LIKE 'Load client %') c
					 WHERE v.account_id = ? AND v.name LIKE 'Load vehicle %' AND v.id % 10 = 0
					UNION
					SELECT v.id, c.first + (v.id * 17 + 1) % ?, ? FROM vehicles v,
					       (SELECT MIN(id) AS first FROM clients WHERE account_id = ? AND name LIKE 'Load client %') c
					 WHERE v.account_id = ? AND v.name LIKE 'Load vehicle %' AND v.id % 10 = 0`,
					[]any{clients, now, accountID, accountID, clients, now, accountID, accountID}})
		}
		for _, s := range steps {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
}
