package db

import (
	"context"
	"database/sql"
	"time"
)

// The demo account's mileage logs: weekday trips over the last three
// months and this month up to yesterday for every vehicle, with odometers
// chained, clients as the pairing allows, some private trips, and one
// finalized month. The Driver drives most trips of their two vehicles (an
// Admin the rest, so "own trips only" visibly hides some); the Manager
// drives the North region, the Admin the South.
func demoTrips(ctx context.Context, tx *sql.Tx, owner *Actor) error {
	now := time.Now().UTC()
	stamp := now.Format(time.RFC3339Nano)
	memberOf := func(email string) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = ? AND m.account_id = ?`,
			email, owner.AccountID).Scan(&id)
		return id, err
	}
	driver, err := memberOf("driver@demo.test")
	if err != nil {
		return err
	}
	manager, err := memberOf("manager@demo.test")
	if err != nil {
		return err
	}
	admin, err := memberOf("admin@demo.test")
	if err != nil {
		return err
	}
	type veh struct {
		id, odo int64
		clients []int64
	}
	var vehicles []veh
	rows, err := tx.QueryContext(ctx, `SELECT id, odometer_km FROM vehicles WHERE account_id = ? ORDER BY id`, owner.AccountID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v veh
		if err := rows.Scan(&v.id, &v.odo); err != nil {
			rows.Close()
			return err
		}
		vehicles = append(vehicles, v)
	}
	rows.Close()
	var clients []int64
	rows, err = tx.QueryContext(ctx, `SELECT id FROM clients WHERE account_id = ? ORDER BY id`, owner.AccountID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		clients = append(clients, id)
	}
	rows.Close()
	for i := range vehicles {
		if err := func() error {
			r, err := tx.QueryContext(ctx, `SELECT client_id FROM vehicle_clients WHERE vehicle_id = ? ORDER BY client_id`, vehicles[i].id)
			if err != nil {
				return err
			}
			defer r.Close()
			for r.Next() {
				var c int64
				if err := r.Scan(&c); err != nil {
					return err
				}
				vehicles[i].clients = append(vehicles[i].clients, c)
			}
			return r.Err()
		}(); err != nil {
			return err
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO trips (account_id, vehicle_id, driver_member_id, client_id, trip_date, distance_km, purpose,
			odo_start, odo_end, start_place, end_place, note, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 1, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	yesterday := now.AddDate(0, 0, -1).Format(time.DateOnly)
	places := []string{"Depot", "Warehouse", "Client site", "Service centre", "Head office", "Airport"}
	for i, v := range vehicles {
		odo := v.odo
		k := 0
		for day := first; day.Format(time.DateOnly) <= yesterday; day = day.AddDate(0, 0, 1) {
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || (day.YearDay()+i)%2 != 0 {
				continue
			}
			k++
			who := manager
			if i >= 20 {
				who = admin
			}
			if (i == 0 || i == 20) && k%4 != 0 {
				who = driver
			}
			purpose := "business"
			var client any
			switch {
			case k%5 == 0:
				purpose = "private"
			case len(v.clients) > 0:
				client = v.clients[k%len(v.clients)]
			case len(clients) > 0:
				client = clients[(i+k)%len(clients)]
			}
			dist := int64(8 + (i*7+k*13)%70)
			from, to := places[(i+k)%len(places)], places[(i+k+1)%len(places)]
			if _, err := stmt.ExecContext(ctx, owner.AccountID, v.id, who, client, day.Format(time.DateOnly), float64(dist), purpose,
				odo, odo+dist, from, to, stamp, stamp); err != nil {
				return err
			}
			odo += dist
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vehicles SET odometer_km = ? WHERE id = ?`, odo, v.id); err != nil {
			return err
		}
	}
	// Two months ago is closed for the Driver's first vehicle.
	if len(vehicles) > 0 {
		month := first.AddDate(0, 1, 0).Format("2006-01")
		if _, err := tx.ExecContext(ctx, `INSERT INTO trip_months_final (vehicle_id, month, account_id, finalized_by, finalized_at)
			VALUES (?, ?, ?, ?, ?)`, vehicles[0].id, month, owner.AccountID, owner.MemberID, stamp); err != nil {
			return err
		}
	}
	return nil
}
