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
	if err := d.GenerateFleet(ctx, o.AccountID, vehicles, clients); err != nil {
		tb.Fatal(err)
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
