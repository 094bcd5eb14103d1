package db_test

import (
	"context"
	"os"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// Trip benchmarks. By default they build an account of 10,000 vehicles
// with 20 trips each (200,000 trips) and a Manager scoped to one region
// (1,000 vehicles). With FLEETGATE_TRIPS_DB naming a database made by
// `go run ./cmd/loadtest -generate-only -db FILE` (100,000 vehicles, 50
// trips each: 5,000,000 trips) they run on that account instead, with a
// Manager scoped to one depot (1,000 vehicles). They never run in
// `make test` (only with -bench).

type tripBench struct {
	d        *db.DB
	owner    *db.Actor
	manager  *db.Actor
	vehicle  int64 // a vehicle with trips this month and last
	month    string
	recordOn int64 // a vehicle the owner records on
}

func tripsBenchSetup(b *testing.B) tripBench {
	ctx := context.Background()
	if path := os.Getenv("FLEETGATE_TRIPS_DB"); path != "" {
		d, err := db.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close() })
		owner, err := d.ActorByMember(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		// A Manager of one depot (1,000 vehicles), made once in the file.
		var mgr, vehicle, depot int64
		if err := d.QueryRowForTest(ctx, `SELECT COALESCE((SELECT m.id FROM members m JOIN users u ON u.id = m.user_id
			WHERE u.email = 'depot@bench.test'), 0)`).Scan(&mgr); err != nil {
			b.Fatal(err)
		}
		if mgr == 0 {
			if err := d.QueryRowForTest(ctx, `SELECT id FROM vehicle_groups WHERE name = 'Region 01 depot 01'`).Scan(&depot); err != nil {
				b.Fatal(err)
			}
			mgr = member(b, d, owner, "depot@bench.test", perm.Manager)
			grant(b, d, owner, mgr, "group", depot, db.Manage, nil)
		}
		if err := d.QueryRowForTest(ctx, `SELECT id FROM vehicles WHERE name LIKE 'Load vehicle %' AND status = 'active' ORDER BY id LIMIT 1 OFFSET 500`).Scan(&vehicle); err != nil {
			b.Fatal(err)
		}
		return tripBench{d: d, owner: owner, manager: actorOf(b, d, mgr), vehicle: vehicle, recordOn: vehicle + 1,
			month: d.Today()[:7]}
	}
	d := open(b)
	o, region := bigFleet(b, d, 10_000, 100)
	if err := d.GenerateMembers(ctx, o.AccountID, 200, "x"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := d.GenerateTrips(ctx, o.AccountID, 20, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated 200,000 trips in %s", time.Since(start).Round(time.Millisecond))
	mgr := member(b, d, o, "mgr@big.test", perm.Manager)
	grant(b, d, o, mgr, "group", region, db.Manage, nil)
	var vehicle int64
	if err := d.QueryRowForTest(ctx, `SELECT id FROM vehicles WHERE name LIKE 'Load vehicle %' AND status = 'active' ORDER BY id LIMIT 1 OFFSET 500`).Scan(&vehicle); err != nil {
		b.Fatal(err)
	}
	return tripBench{d: d, owner: o, manager: actorOf(b, d, mgr), vehicle: vehicle, recordOn: vehicle + 1, month: d.Today()[:7]}
}

// BenchmarkTrips measures a vehicle's monthly log (first page and the
// month's totals), the /trips list of a month for the Owner and for a
// Manager scoped to 1,000 vehicles, and recording a trip.
func BenchmarkTrips(b *testing.B) {
	ctx := context.Background()
	tb := tripsBenchSetup(b)
	last := tb.month // generated trips go back from yesterday
	b.Run("vehicle-monthly-log", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := tb.d.ListTrips(ctx, tb.owner, db.TripFilter{VehicleID: tb.vehicle, Month: last}); err != nil {
				b.Fatal(err)
			}
			if _, err := tb.d.MonthTotals(ctx, tb.owner, tb.vehicle, last, db.TripFilter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trips-page/manager-1000-vehicles", func(b *testing.B) {
		for b.Loop() {
			rows, _, err := tb.d.ListTrips(ctx, tb.manager, db.TripFilter{Month: last})
			if err != nil || len(rows) == 0 {
				b.Fatal(err, len(rows))
			}
		}
	})
	b.Run("trips-page/manager-1000-vehicles/page-2", func(b *testing.B) {
		_, next, err := tb.d.ListTrips(ctx, tb.manager, db.TripFilter{Month: last})
		if err != nil || next == "" {
			b.Fatal(err, next)
		}
		for b.Loop() {
			if _, _, err := tb.d.ListTrips(ctx, tb.manager, db.TripFilter{Month: last, After: next}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trips-page/owner-all-vehicles", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := tb.d.ListTrips(ctx, tb.owner, db.TripFilter{Month: last}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record-trip", func(b *testing.B) {
		in := db.TripInput{Date: tb.d.Today(), DistanceKm: 12, Purpose: "business"}
		for b.Loop() {
			if _, err := tb.d.RecordTrip(ctx, tb.owner, tb.recordOn, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
