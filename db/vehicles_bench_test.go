package db_test

import (
	"context"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// bigFleet fills an account with 10 regions of 10 depots each and n
// vehicles spread over the depots, and clients clients, using recursive
// inserts (no ANALYZE: the plans must hold on a database nobody tuned).
// It returns the owner and the id of the first region.
func bigFleet(tb testing.TB, d *db.DB, vehicles, clients int) (*db.Actor, int64) {
	tb.Helper()
	ctx := context.Background()
	o := account(tb, d, "Big", "o@big.test")
	exec := func(q string, args ...any) {
		tb.Helper()
		if err := d.ExecForTest(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	exec(`UPDATE subscriptions SET paid_vehicles = ?`, vehicles+100)
	exec(`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
		SELECT ?, NULL, 'Region ' || i, '' FROM n`, o.AccountID)
	exec(`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
		SELECT ?, r.id, 'Depot ' || r.id || '.' || n.i, '' FROM vehicle_groups r, n WHERE r.account_id = ? AND r.parent_id IS NULL`, o.AccountID, o.AccountID)
	exec(`INSERT INTO vehicles (account_id, group_id, name, plate, vin, odometer_km, status, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
		depots AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM vehicle_groups WHERE account_id = ? AND parent_id IS NOT NULL)
		SELECT ?, (SELECT id FROM depots WHERE k = n.i % 100), printf('Vehicle %06d', (n.i * 7919) % ?), printf('PL %06d', n.i), '', n.i % 500000,
		       CASE WHEN n.i % 20 = 0 THEN 'archived' ELSE 'active' END, '', '' FROM n`, vehicles, o.AccountID, o.AccountID, vehicles)
	exec(`INSERT INTO clients (account_id, name, email, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT ?, printf('Client %06d', i), '', '', '' FROM n`, clients, o.AccountID)
	// Every tenth vehicle is paired with two clients.
	if clients > 0 {
		exec(`INSERT INTO vehicle_clients (vehicle_id, client_id, created_at)
			SELECT v.id, (SELECT MIN(id) FROM clients WHERE account_id = ?) + (v.id * 13) % ?, '' FROM vehicles v WHERE v.account_id = ? AND v.id % 10 = 0
			UNION SELECT v.id, (SELECT MIN(id) FROM clients WHERE account_id = ?) + (v.id * 17 + 1) % ?, '' FROM vehicles v WHERE v.account_id = ? AND v.id % 10 = 0`,
			o.AccountID, clients, o.AccountID, o.AccountID, clients, o.AccountID)
	}
	gs, err := d.Groups(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	return o, gs[0].ID
}

// BenchmarkVehicleListDB measures the vehicle list query alone in an
// account of 100,000 vehicles: a Manager scoped to one region (10,000
// vehicles) or one depot (1,000), and the Owner (all vehicles).
func BenchmarkVehicleListDB(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	o, region := bigFleet(b, d, 100_000, 0)
	gs, _ := d.Groups(ctx, o)
	depot := gs[1].ID
	regionMgr := member(b, d, o, "region@big.test", perm.Manager)
	depotMgr := member(b, d, o, "depot@big.test", perm.Manager)
	grant(b, d, o, regionMgr, "group", region, db.Manage, nil)
	grant(b, d, o, depotMgr, "group", depot, db.Manage, nil)
	for _, bc := range []struct {
		name string
		a    *db.Actor
		f    db.VehicleFilter
	}{
		{"manager-region/first-page", actorOf(b, d, regionMgr), db.VehicleFilter{}},
		{"manager-region/page-200", actorOf(b, d, regionMgr), db.VehicleFilter{Page: 200}},
		{"manager-region/search", actorOf(b, d, regionMgr), db.VehicleFilter{Query: "0042"}},
		{"manager-depot/first-page", actorOf(b, d, depotMgr), db.VehicleFilter{}},
		{"owner/first-page", o, db.VehicleFilter{}},
		{"owner/page-2000", o, db.VehicleFilter{Page: 2000}},
		{"owner/search", o, db.VehicleFilter{Query: "0042"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := d.ListVehicles(ctx, bc.a, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
