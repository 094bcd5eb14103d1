package db_test

import (
	"context"
	"testing"

	"fleetgate/db"
)

// BenchmarkDashboard measures the dashboard and a month's report for a
// Manager scoped to one region or depot (1,000 vehicles) and for the
// Owner (all vehicles), on the account of tripsBenchSetup: 200,000 trips
// by default, or the 5,000,000 trips of 100,000 vehicles with
// FLEETGATE_TRIPS_DB. Only with -bench, never in `make test`.
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	tb := tripsBenchSetup(b)
	today := tb.d.Today()
	month := db.ReportPeriod{From: today[:8] + "01", To: today}
	for _, m := range []struct {
		name string
		a    *db.Actor
	}{{"manager-1000-vehicles", tb.manager}, {"owner-all-vehicles", tb.owner}} {
		b.Run("dashboard/"+m.name, func(b *testing.B) {
			for b.Loop() {
				d, err := tb.d.Dashboard(ctx, m.a)
				if err != nil || d.Basis.Vehicles == 0 {
					b.Fatal(err, d.Basis)
				}
			}
		})
		b.Run("report-month/"+m.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tb.d.Report(ctx, m.a, month); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
