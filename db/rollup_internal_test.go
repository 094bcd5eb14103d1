package db

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// rollupRebuilt is each roll-up table as a GROUP BY over trips would give
// it, and the table itself, with distances rounded so that the order of
// additions does not matter.
var rollupRebuilt = []struct {
	table, want, got string
	cols             int
}{
	{"trip_months",
		`SELECT account_id, substr(trip_date, 1, 7), COUNT(CASE WHEN purpose = 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0) AS NUMERIC), 4),
		        COUNT(CASE WHEN purpose <> 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0) AS NUMERIC), 4)
		   FROM trips GROUP BY 1, 2`,
		`SELECT account_id, month, b_trips, round(CAST(b_km AS NUMERIC), 4), p_trips, round(CAST(p_km AS NUMERIC), 4) FROM trip_months`, 6},
	{"trip_vehicle_months",
		`SELECT account_id, substr(trip_date, 1, 7), vehicle_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0) AS NUMERIC), 4),
		        COUNT(CASE WHEN purpose <> 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0) AS NUMERIC), 4)
		   FROM trips GROUP BY 1, 2, 3`,
		`SELECT account_id, month, vehicle_id, b_trips, round(CAST(b_km AS NUMERIC), 4), p_trips, round(CAST(p_km AS NUMERIC), 4) FROM trip_vehicle_months`, 7},
	{"trip_client_months",
		`SELECT account_id, substr(trip_date, 1, 7), client_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0) AS NUMERIC), 4),
		        COUNT(CASE WHEN purpose <> 'business' THEN 1 END), round(CAST(COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0) AS NUMERIC), 4)
		   FROM trips WHERE client_id IS NOT NULL GROUP BY 1, 2, 3`,
		`SELECT account_id, month, client_id, b_trips, round(CAST(b_km AS NUMERIC), 4), p_trips, round(CAST(p_km AS NUMERIC), 4) FROM trip_client_months`, 7},
}

// checkRollups compares each roll-up table with the GROUP BY over the
// trips in one statement (rows only where they differ).
func checkRollups(t *testing.T, c preparedReads, after string) {
	t.Helper()
	for _, r := range rollupRebuilt {
		if diff := c.diff(sameRowsSQL(r.got, r.want, r.cols)); diff != "" {
			t.Fatalf("after %s: %s (first) differs from the trips (second):\n%s", after, r.table, diff)
		}
	}
}

// TestTripRollupsFollowTrips applies random inserts, edits and deletes of
// trips, through the trip API and raw SQL, and compares the roll-ups with
// a GROUP BY over the trips after each step; then it empties the roll-ups
// and refills them with the migration's own filling.
func TestTripRollupsFollowTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	clock := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return clock }
	c := newPreparedReads(t, d)
	checkRollups(t, c, "the demo")
	owner, err := d.ActorByMember(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := propertyRNG(t)
	pick := func(xs []int64) any {
		if len(xs) == 0 {
			return nil
		}
		return xs[rng.IntN(len(xs))]
	}
	months := []string{"2026-01", "2026-02", "2026-03"}
	date := func() string { return months[rng.IntN(len(months))] + "-0" + string(rune('1'+rng.IntN(9))) }
	purpose := func() string { return []string{"business", "business", "private", "commute", ""}[rng.IntN(5)] }
	km := func() float64 { return float64(rng.IntN(4000)) / 10 }
	var viaAPI int
	steps := rounds(200, 4)
	for step := 0; step < steps; step++ {
		vehicles := c.ids(`SELECT id FROM vehicles WHERE account_id = 1`)
		clients := c.ids(`SELECT id FROM clients WHERE account_id = 1`)
		members := c.ids(`SELECT id FROM members WHERE account_id = 1`)
		trips := c.ids(`SELECT id FROM trips WHERE account_id = 1`)
		client := func() any {
			if rng.IntN(3) == 0 {
				return nil
			}
			return pick(clients)
		}
		var what, q string
		var args []any
		switch k := rng.IntN(12); k {
		case 0, 1, 2:
			what, q, args = "insert", `INSERT INTO trips (account_id, vehicle_id, driver_member_id, client_id, trip_date, distance_km, purpose, version, created_at, updated_at)
				VALUES (1, ?, ?, ?, ?, ?, ?, 1, '', '')`, []any{pick(vehicles), pick(members), client(), date(), km(), purpose()}
		case 3:
			what, q, args = "move to another vehicle", `UPDATE trips SET vehicle_id = ? WHERE id = ?`, []any{pick(vehicles), pick(trips)}
		case 4:
			what, q, args = "change client", `UPDATE trips SET client_id = ? WHERE id = ?`, []any{client(), pick(trips)}
		case 5:
			what, q, args = "change date", `UPDATE trips SET trip_date = ? WHERE id = ?`, []any{date(), pick(trips)}
		case 6:
			what, q, args = "change purpose and distance", `UPDATE trips SET purpose = ?, distance_km = ? WHERE id = ?`, []any{purpose(), km(), pick(trips)}
		case 7:
			what, q, args = "change driver", `UPDATE trips SET driver_member_id = ? WHERE id = ?`, []any{pick(members), pick(trips)}
		case 8:
			what, q, args = "delete", `DELETE FROM trips WHERE id = ?`, []any{pick(trips)}
		case 9:
			what, q, args = "delete a vehicle's month", `DELETE FROM trips WHERE vehicle_id = ? AND trip_date LIKE ?`, []any{pick(vehicles), months[rng.IntN(len(months))] + "%"}
		default:
			// Through the trip API: record, edit or delete as the Owner.
			id, _ := pick(trips).(int64)
			switch rng.IntN(3) {
			case 0:
				in := TripInput{Date: "2026-03-0" + string(rune('1'+rng.IntN(9))), DistanceKm: km(), Purpose: purpose()}
				if in.Purpose == "" {
					in.Purpose = "private"
				}
				if _, err := d.RecordTrip(ctx, owner, pick(vehicles).(int64), in); err == nil {
					viaAPI++
				}
				what = "record trip (API)"
			case 1:
				tr, err := d.Trip(ctx, owner, id)
				if err == nil {
					in := TripInput{Date: tr.Date, DistanceKm: km(), Purpose: purpose(), ClientID: tr.ClientID, DriverID: tr.DriverID}
					if in.Purpose == "" {
						in.Purpose = "business"
					}
					if _, err := d.UpdateTrip(ctx, owner, id, tr.Version, in); err == nil {
						viaAPI++
					}
				}
				what = "update trip (API)"
			default:
				if tr, err := d.Trip(ctx, owner, id); err == nil {
					if err := d.DeleteTrip(ctx, owner, id, tr.Version); err == nil {
						viaAPI++
					}
				}
				what = "delete trip (API)"
			}
		}
		if q != "" {
			// A finalized month of a vehicle refuses changes (a trigger); the
			// roll-ups must then be as they were.
			if _, err := d.w.ExecContext(ctx, q, args...); err != nil && !(isTriggerAbort(err) && strings.Contains(err.Error(), "finalized:")) {
				t.Fatalf("step %d (%s): %v", step, what, err)
			}
		}
		checkRollups(t, c, what)
	}
	if viaAPI == 0 {
		t.Fatal("no step went through the trip API")
	}
	// The migration's filling gives the same tables from scratch.
	src, err := migrations.ReadFile("migrations/" + d.Store() + "/0030_trip_rollups.sql")
	if err != nil {
		t.Fatal(err)
	}
	fill := string(src)[strings.LastIndex(string(src), "END;")+len("END;"):]
	if _, err := d.w.ExecContext(ctx, `DELETE FROM trip_months; DELETE FROM trip_vehicle_months; DELETE FROM trip_client_months;`+fill); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM trip_vehicle_months`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("refilled roll-ups: %d rows, %v", n, err)
	}
	checkRollups(t, c, "the migration's filling")
}

// TestDashboardRollupsEqualExactPath compares the Owner's dashboard read
// from the roll-ups with the same dashboard read from the trips, and
// checks that only members who see every trip use the roll-ups.
func TestDashboardRollupsEqualExactPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	members := ids(t, d, `SELECT id FROM members WHERE account_id = 1`)
	var used, idle int
	compare := func(when string) {
		for _, id := range members {
			a, err := d.ActorByMember(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			sc := d.scopeOf(a)
			r := d.reachOf(a)
			first := d.TodayFor(a)[:7] + "-01"
			if d.rollupFor(a, sc, first) {
				used++
				if !sc.all || r.ownOnly || r.since != "" {
					t.Errorf("member %d (all %v, own only %v, since %q) reads the roll-ups", id, sc.all, r.ownOnly, r.since)
				}
			}
			fast, err := d.Dashboard(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			d.exactOnly = true
			slow, err := d.Dashboard(ctx, a)
			d.exactOnly = false
			if err != nil {
				t.Fatal(err)
			}
			if d.rollupFor(a, sc, first) {
				idle += fast.IdleCount
			}
			if !sameDashboard(fast, slow) {
				t.Errorf("%s, member %d: roll-ups give\n%+v\nexact path gives\n%+v", when, id, fast, slow)
			}
		}
	}
	compare("the demo")
	// An archived vehicle with trips this month, and active vehicles
	// without: idle counts only the active ones.
	month := d.Today()[:7]
	mustExecT(t, d, `UPDATE vehicles SET status = 'archived' WHERE id = (SELECT vehicle_id FROM trips WHERE account_id = 1 AND trip_date LIKE ? ORDER BY id LIMIT 1)`, month+"%")
	mustExecT(t, d, `DELETE FROM trips WHERE vehicle_id IN (SELECT vehicle_id FROM trips WHERE account_id = 1 AND trip_date LIKE ? ORDER BY id DESC LIMIT 2) AND trip_date LIKE ?`, month+"%", month+"%")
	compare("archived and idle vehicles")
	// No trip at all this month.
	mustExecT(t, d, `DELETE FROM trips WHERE account_id = 1 AND trip_date LIKE ?`, month+"%")
	compare("an empty month")
	if used == 0 || idle == 0 {
		t.Fatalf("roll-ups read %d times, idle vehicles seen %d", used, idle)
	}
}

func mustExecT(t *testing.T, d *DB, q string, args ...any) {
	t.Helper()
	if _, err := d.w.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func sameDashboard(a, b Dashboard) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-6 }
	samePT := func(x, y []PurposeTotal) bool {
		return slices.EqualFunc(x, y, func(p, q PurposeTotal) bool { return p.Purpose == q.Purpose && p.Trips == q.Trips && near(p.Km, q.Km) })
	}
	sameR := func(p, q Ranked) bool {
		return p.ID == q.ID && p.Name == q.Name && p.Trips == q.Trips && near(p.BusinessKm, q.BusinessKm) && near(p.PrivateKm, q.PrivateKm)
	}
	sameRank := func(x, y Ranking) bool {
		return x.More == y.More && sameR(x.Total, y.Total) && slices.EqualFunc(x.Rows, y.Rows, sameR)
	}
	sameIdle := slices.EqualFunc(a.Idle, b.Idle, func(p, q Vehicle) bool { return p.ID == q.ID && p.Name == q.Name })
	return a.Basis == b.Basis && a.Month == b.Month && a.LastMonth == b.LastMonth && samePT(a.This, b.This) && samePT(a.Last, b.Last) &&
		sameRank(a.TopVehicles, b.TopVehicles) && sameRank(a.TopClients, b.TopClients) && sameIdle && a.IdleCount == b.IdleCount
}
