package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// zeroPad is the integer expression expr as text of at least n digits,
// zeros in front (printf('%0nd') in SQLite, lpad in PostgreSQL: neither
// store has the other's), for expr of at most n digits. A "?" in expr
// appears twice in the SQL: give its argument twice.
func zeroPad(expr string, n int) string {
	zeros := "'" + strings.Repeat("0", n) + "'"
	return "substr(" + zeros + " || (" + expr + "), length(" + zeros + " || (" + expr + ")) - " + fmt.Sprint(n-1) + ")"
}

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
			SELECT 'person' || (i + ?) || '@load.test', ?, 'Person', `+zeroPad("i + ?", 6)+`, ? FROM n`,
			n, start, passwordHash, start, start, d.stamp()); err != nil {
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
				SELECT ?, NULL, 'Region ' || ` + zeroPad("i", 2) + `, ? FROM n`, []any{accountID, now}},
			{`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at)
				WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
				SELECT ?, r.id, r.name || ' depot ' || ` + zeroPad("n.i", 2) + `, ? FROM vehicle_groups r, n
				 WHERE r.account_id = ? AND r.parent_id IS NULL AND r.name LIKE 'Region %'`, []any{accountID, now, accountID}},
			{`INSERT INTO vehicles (account_id, group_id, name, plate, vin, odometer_km, status, created_at, updated_at)
				WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
				depots AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM vehicle_groups
				            WHERE account_id = ? AND name LIKE 'Region % depot %')
				SELECT ?, (SELECT id FROM depots WHERE k = n.i % 100), 'Load vehicle ' || ` + zeroPad("(n.i * 7919) % ?", 6) + `, 'LD ' || ` + zeroPad("n.i", 6) + `,
				       '', n.i % 500000, CASE WHEN n.i % 20 = 0 THEN 'archived' ELSE 'active' END, ?, ? FROM n`,
				[]any{vehicles, accountID, accountID, vehicles, vehicles, now, now}},
		}
		if clients > 0 {
			steps = append(steps,
				struct {
					q    string
					args []any
				}{`INSERT INTO clients (account_id, name, email, created_at, updated_at)
					WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
					SELECT ?, 'Load client ' || ` + zeroPad("i", 6) + `, 'c' || i || '@load.test', ?, ? FROM n`, []any{clients, accountID, now, now}},
				struct {
					q    string
					args []any
				}{`INSERT INTO vehicle_clients (vehicle_id, client_id, created_at)
					SELECT v.id, c.first + (v.id * 13) % ?, ? FROM vehicles v,
					       (SELECT MIN(id) AS first FROM clients WHERE account_id = ? AND name LIKE 'Load client %') c
					 WHERE v.account_id = ? AND v.name LIKE 'Load vehicle %' AND v.id % 10 = 0
					UNION
					SELECT v.id, c.first + (v.id * 17 + 1) % ?, ? FROM vehicles v,
					       (SELECT MIN(id) AS first FROM clients WHERE account_id = ? AND name LIKE 'Load client %') c
					 WHERE v.account_id = ? AND v.name LIKE 'Load vehicle %' AND v.id % 10 = 0
					ON CONFLICT DO NOTHING`,
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

// GenerateTrips adds perVehicle trips to every generated vehicle of an
// account ("Load vehicle …"), for load tests and benchmarks: one trip
// every other day going back from yesterday, odometers chained (every
// trip starts where the previous ended), a driver among the account's
// active members, every fifth trip private, business trips with a client
// the vehicle's pairing allows (or none). It runs in one transaction,
// one prepared statement executed per slice of vehicles, and reports
// progress to progress (may be nil) after each slice.
func (d *DB) GenerateTrips(ctx context.Context, accountID int64, perVehicle int, progress func(vehiclesDone, vehicles int)) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		var first, last, vehicles int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0), COUNT(*) FROM vehicles
			WHERE account_id = ? AND name LIKE 'Load vehicle %'`, accountID).Scan(&first, &last, &vehicles); err != nil {
			return err
		}
		var m0, mn int64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(id), COUNT(*) FROM members WHERE account_id = ? AND status = 'active'`,
			accountID).Scan(&m0, &mn); err != nil {
			return err
		}
		if vehicles == 0 || mn == 0 {
			return nil
		}
		// The driver is picked among the active members by rank, from a
		// numbered copy (one index lookup per trip).
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE gen_drivers (r INTEGER PRIMARY KEY, id INTEGER NOT NULL)`); err != nil {
			return err
		}
		defer tx.ExecContext(ctx, `DROP TABLE gen_drivers`)
		if _, err := tx.ExecContext(ctx, `INSERT INTO gen_drivers (r, id)
			SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM members WHERE account_id = ? AND status = 'active'`, accountID); err != nil {
			return err
		}
		// Trip k of a vehicle is dated 1 + 2 * (per - 1 - k) days ago.
		today := time.Now().UTC()
		days := make([]string, perVehicle)
		for k := range days {
			days[k] = fmt.Sprintf("(%d, '%s')", k, today.AddDate(0, 0, -(1+2*(perVehicle-1-k))).Format(time.DateOnly))
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO trips (account_id, vehicle_id, driver_member_id, client_id, trip_date,
				distance_km, purpose, odo_start, odo_end, start_place, end_place, version, created_at, updated_at)
			WITH k(i, day) AS (VALUES `+strings.Join(days, ", ")+`)
			SELECT :account, v.id, (SELECT id FROM gen_drivers WHERE r = (v.id * 31 + k.i) % :drivers),
			       CASE WHEN k.i % 5 = 0 THEN NULL
			            ELSE (SELECT client_id FROM vehicle_clients WHERE vehicle_id = v.id ORDER BY client_id LIMIT 1) END,
			       k.day,
			       10 + (v.id * 7 + k.i * 13) % 40,
			       CASE WHEN k.i % 5 = 0 THEN 'private' ELSE 'business' END,
			       v.odometer_km + k.i * 50, v.odometer_km + k.i * 50 + 10 + (v.id * 7 + k.i * 13) % 40,
			       'Depot', 'Site ' || (k.i % 17), 1, :now, :now
			  FROM vehicles v CROSS JOIN k
			 WHERE v.account_id = :account AND v.name LIKE 'Load vehicle %' AND v.id BETWEEN :lo AND :hi
			 ORDER BY v.id, k.i`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := d.stamp()
		const slice = 2000
		done := 0
		for lo := first; lo <= last; lo += slice {
			hi := min(lo+slice-1, last)
			res, err := stmt.ExecContext(ctx, sql.Named("account", accountID), sql.Named("drivers", mn),
				sql.Named("now", now), sql.Named("lo", lo), sql.Named("hi", hi))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			done += int(n) / max(perVehicle, 1)
			if progress != nil {
				progress(done, int(vehicles))
			}
		}
		// The vehicles' odometers follow their latest trips.
		_, err = tx.ExecContext(ctx, `UPDATE vehicles SET odometer_km = odometer_km + (? - 1) * 50 + 10 + (id * 7 + (? - 1) * 13) % 40
			WHERE account_id = ? AND name LIKE 'Load vehicle %'`, perVehicle, perVehicle, accountID)
		return err
	})
}

// GenerateAccessHistory gives the generated members of an account
// ("…@load.test") what the access review looks at, for benchmarks: 200
// days of membership, a
// group grant on a depot each (one in four at manage), a direct grant on
// a vehicle for one in three (half of them ending within days, some
// ended), a sign-in each (one in five more than 90 days ago), the use of
// two permissions on each of the last days days (one in seven uses none),
// and an API token for one in ten.
func (d *DB) GenerateAccessHistory(ctx context.Context, accountID int64, days int) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		now := d.Now().UTC()
		stamp := func(t time.Time) string { return t.Format(time.RFC3339) }
		dayList := make([]string, days)
		for i := range dayList {
			dayList[i] = "('" + now.AddDate(0, 0, -i).Format(time.DateOnly) + "')"
		}
		steps := []struct {
			q    string
			args []any
		}{
			{`UPDATE members SET created_at = ? WHERE account_id = ? AND user_id IN (SELECT id FROM users WHERE email LIKE '%@load.test')`,
				[]any{stamp(now.Add(-200 * 24 * time.Hour)), accountID}},
			{`WITH depots AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM vehicle_groups
			                  WHERE account_id = ? AND name LIKE 'Region % depot %'),
			       nd AS (SELECT COUNT(*) AS n FROM depots)
			  INSERT INTO member_group_grants (member_id, group_id, level, created_at)
			  SELECT m.id, (SELECT id FROM depots WHERE k = m.id % (SELECT n FROM nd)), CASE WHEN m.id % 4 = 0 THEN 'manage' ELSE 'view' END, ?
			    FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = ? AND u.email LIKE '%@load.test'
			     AND EXISTS (SELECT 1 FROM depots)
			  ON CONFLICT DO NOTHING`, []any{accountID, stamp(now), accountID}},
			{`WITH vs AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM vehicles WHERE account_id = ? AND name LIKE 'Load vehicle %'),
			       nv AS (SELECT COUNT(*) AS n FROM vs)
			  INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, ends_at, created_at)
			  SELECT m.id, (SELECT id FROM vs WHERE k = (m.id * 7) % (SELECT n FROM nv)), 'view',
			         CASE m.id % 6 WHEN 0 THEN ? WHEN 3 THEN ? ELSE NULL END, ?
			    FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = ? AND u.email LIKE '%@load.test' AND m.id % 3 = 0
			     AND EXISTS (SELECT 1 FROM vs)
			  ON CONFLICT DO NOTHING`,
				[]any{accountID, stamp(now.Add(5 * 24 * time.Hour)), stamp(now.Add(-5 * 24 * time.Hour)), stamp(now), accountID}},
			{`INSERT INTO sign_ins (user_id, member_id, at, channel, outcome)
			  SELECT m.user_id, m.id, CASE WHEN m.id % 5 = 0 THEN ? ELSE ? END, 'web', 'ok'
			    FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = ? AND u.email LIKE '%@load.test'`,
				[]any{stamp(now.Add(-100 * 24 * time.Hour)), stamp(now.Add(-24 * time.Hour)), accountID}},
			{`WITH n(day) AS (VALUES ` + strings.Join(dayList, ", ") + `),
			       p(k) AS (VALUES ('trips.view'), ('vehicles.view'))
			  INSERT INTO permission_uses (member_id, permission, day)
			  SELECT m.id, p.k, n.day
			    FROM members m JOIN users u ON u.id = m.user_id, n, p
			   WHERE m.account_id = ? AND u.email LIKE '%@load.test' AND m.id % 7 != 0
			  ON CONFLICT DO NOTHING`,
				[]any{accountID}},
		}
		for _, s := range steps {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("generate access history: %w", err)
			}
		}
		// An API token for one member in ten, each with a hash of its own.
		rows, err := tx.QueryContext(ctx, `SELECT m.id FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.account_id = ? AND u.email LIKE '%@load.test' AND m.id % 10 = 1`, accountID)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (member_id, name, token_hash, created_at, expires_at) VALUES (?, 'load', ?, ?, ?)`,
				id, hashToken(NewToken()), stamp(now.Add(-40*24*time.Hour)), stamp(now.Add(50*24*time.Hour))); err != nil {
				return fmt.Errorf("generate access history: %w", err)
			}
		}
		return nil
	})
}
