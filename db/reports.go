package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// Dashboard and reports: totals of trips over exactly what the member
// sees. Every total is computed over the member's visible vehicles
// (scopeOf) and, among their trips, only those the member's trip scopes
// show (reachOf: "own trips only", "history limited to N days"); a
// member without trips.view sees no trips at all. Two members of one
// account may therefore see different totals, and each answer carries its
// Basis so that the page says what a total is based on.
//
// The cost follows the scope: a scoped member's totals are read from the
// visible set through the trips' (vehicle_id, trip_date) index, never by
// a scan of the account; only all-vehicles access reads the account's
// trips of the period, through (account_id, trip_date).
//
// The dashboard of a member who sees every trip of the account (all
// vehicles, not "own trips only", no history limit inside the months
// shown) is read from the monthly roll-ups instead (trip_months,
// trip_vehicle_months, trip_client_months: kept by triggers on trips in
// the transaction of every change), which give exactly the same totals at
// a cost that follows the number of vehicles and clients with trips in
// the month, not the number of trips. Everybody else keeps the exact path.

// Basis is what a member's totals are based on.
type Basis struct {
	All      bool   // all vehicles of the account
	Vehicles int    // how many vehicles the totals cover (archived included)
	OwnOnly  bool   // only the trips the member drove
	Since    string // trips before this date are beyond the history limit ("" none)
	NoTrips  bool   // the member may not view trips at all
}

// Ranked is one row of a ranking: a vehicle, driver or client with its
// trips and kilometres by purpose. ID 0 is "none" (no client, a former
// member).
type Ranked struct {
	ID         int64
	Name       string
	Trips      int
	BusinessKm float64
	PrivateKm  float64
}

// Km is the row's whole distance.
func (r Ranked) Km() float64 { return r.BusinessKm + r.PrivateKm }

// Ranking is the top rows of a ranking, how many rows did not fit, and
// the totals over all its rows (shown and not shown).
type Ranking struct {
	Rows  []Ranked
	More  int
	Total Ranked
}

// tripScope is the FROM clause and conditions that select the trips t the
// actor sees dated first..last, over the scope sc (whose arguments come
// first in the statement): the same rules as the trip list.
func (d *DB) tripScope(a *Actor, sc scope, first, last string) (from string, conds []string, args []any) {
	if !a.Can(perm.TripsView) {
		return "trips t", []string{"0"}, nil
	}
	rc, rargs := d.reachOf(a).cond(a)
	if sc.all {
		from, conds = "trips t", []string{"t.account_id = ?"}
	} else {
		// "+" keeps the planner on (vehicle_id, trip_date), driven by
		// the visible set.
		from, conds = "visible s CROSS JOIN trips t ON t.vehicle_id = s.vehicle_id", []string{"+t.account_id = ?"}
	}
	conds = append(conds, "t.trip_date BETWEEN ? AND ?", rc)
	args = append([]any{a.AccountID, first, last}, rargs...)
	return from, conds, args
}

// basis counts the vehicles the actor's totals cover.
func (d *DB) basis(ctx context.Context, a *Actor, sc scope) (Basis, error) {
	r := d.reachOf(a)
	b := Basis{All: sc.all, OwnOnly: r.ownOnly, Since: r.since, NoTrips: !a.Can(perm.TripsView)}
	q := sc.with() + `SELECT COUNT(*) FROM visible`
	if sc.all {
		q = `SELECT COUNT(*) FROM vehicles WHERE account_id = ?`
	}
	args := sc.args
	if sc.all {
		args = []any{a.AccountID}
	}
	if err := d.r.QueryRowContext(ctx, q, args...).Scan(&b.Vehicles); err != nil {
		return b, fmt.Errorf("report basis: %w", err)
	}
	return b, nil
}

// rankBy names the dimensions of a ranking: the key over trips t and the
// name of a key k.
var rankBy = map[string]struct{ key, name string }{
	"vehicle": {"t.vehicle_id", `(SELECT name FROM vehicles WHERE id = k)`},
	"driver": {"t.driver_member_id", `COALESCE((SELECT COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email)
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.id = k), 'Former members')`},
	"client": {"t.client_id", `COALESCE((SELECT name FROM clients WHERE id = k), 'No client')`},
}

// rank reads the top n rows of one dimension over the actor's trips dated
// first..last, ordered by distance; keep, when given, is a condition on
// trips t (e.g. only trips with a client).
func (d *DB) rank(ctx context.Context, a *Actor, sc scope, dim string, first, last string, n int, keep string) (Ranking, error) {
	var out Ranking
	by := rankBy[dim]
	from, conds, args := d.tripScope(a, sc, first, last)
	if keep != "" {
		conds = append(conds, keep)
	}
	q := sc.with(`agg(k, n, bkm, pkm) AS (
		SELECT `+by.key+`, COUNT(*), SUM(CASE WHEN t.purpose = 'business' THEN t.distance_km ELSE 0 END),
		       SUM(CASE WHEN t.purpose = 'business' THEN 0 ELSE t.distance_km END)
		  FROM `+from+` WHERE `+strings.Join(conds, " AND ")+` GROUP BY `+by.key+`)`,
		`top(k, n, bkm, pkm, rows_all, n_all, bkm_all, pkm_all) AS (
		SELECT k, n, bkm, pkm, COUNT(*) OVER (), SUM(n) OVER (), SUM(bkm) OVER (), SUM(pkm) OVER ()
		  FROM agg ORDER BY bkm + pkm DESC, k LIMIT ?)`) +
		`SELECT COALESCE(k, 0), ` + by.name + `, n, bkm, pkm, rows_all, n_all, bkm_all, pkm_all FROM top ORDER BY bkm + pkm DESC, k`
	rows, err := d.r.QueryContext(ctx, q, sc.argsWith(append(args, n)...)...)
	if err != nil {
		return out, fmt.Errorf("rank by %s: %w", dim, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Ranked
		var all int
		if err := rows.Scan(&r.ID, &r.Name, &r.Trips, &r.BusinessKm, &r.PrivateKm, &all, &out.Total.Trips, &out.Total.BusinessKm, &out.Total.PrivateKm); err != nil {
			return out, err
		}
		out.Rows = append(out.Rows, r)
		out.More = all - len(out.Rows)
	}
	if out.More < 0 {
		out.More = 0
	}
	return out, rows.Err()
}

// Dashboard is the home of members with reports.view: this month and the
// last over what the member sees.
type Dashboard struct {
	Basis       Basis
	Month       string // "2026-11"
	LastMonth   string
	This, Last  []PurposeTotal // business and private, in that order
	TopVehicles Ranking        // of this month
	TopClients  Ranking        // of this month, trips with a client
	Idle        []Vehicle      // active vehicles without a trip this month (first few; Name and ID)
	IdleCount   int
	// Grants ending within seven days, on the vehicles and groups the
	// member sees; read only for members who may list members.
	EndingShown bool
	Ending      []EndingGrant
	EndingCount int
	// The subscription's vehicles in use against paid: a billing fact of
	// the whole subscription, read only for billing.view.
	Subscription *Subscription
}

// EndingGrant is a member's access that ends soon.
type EndingGrant struct {
	MemberID int64
	Member   string
	Target   string // the vehicle's or group's name
	Kind     string // "vehicle" or "group"
	EndsAt   time.Time
}

// Dashboard limits: the top rows and the lists shown.
const (
	DashboardTop  = 5
	DashboardList = 10
)

// Dashboard computes the actor's dashboard.
func (d *DB) Dashboard(ctx context.Context, a *Actor) (Dashboard, error) {
	sc := d.scopeOf(a)
	today := d.TodayFor(a)
	month, _ := ParseMonth(today[:7])
	out := Dashboard{Month: today[:7], LastMonth: month.AddDate(0, -1, 0).Format("2006-01"),
		This: []PurposeTotal{{Purpose: "business"}, {Purpose: "private"}}, Last: []PurposeTotal{{Purpose: "business"}, {Purpose: "private"}}}
	var err error
	if out.Basis, err = d.basis(ctx, a, sc); err != nil {
		return out, err
	}
	first, _, _ := monthRange(out.LastMonth)
	_, last, _ := monthRange(out.Month)
	if !out.Basis.NoTrips && d.rollupFor(a, sc, first) {
		if err := d.dashboardFromRollups(ctx, a, &out); err != nil {
			return out, err
		}
	} else if !out.Basis.NoTrips {
		if err := d.purposeTotals(ctx, a, sc, first, last, &out); err != nil {
			return out, err
		}
		mFirst, _, _ := monthRange(out.Month)
		if out.TopVehicles, err = d.rank(ctx, a, sc, "vehicle", mFirst, last, DashboardTop, ""); err != nil {
			return out, err
		}
		if out.TopClients, err = d.rank(ctx, a, sc, "client", mFirst, last, DashboardTop, "t.client_id IS NOT NULL"); err != nil {
			return out, err
		}
		if out.Idle, out.IdleCount, err = d.idleVehicles(ctx, a, sc, mFirst, last); err != nil {
			return out, err
		}
	}
	if out.EndingShown = a.Can(perm.UsersView); out.EndingShown {
		if out.Ending, out.EndingCount, err = d.endingGrants(ctx, a, sc); err != nil {
			return out, err
		}
	}
	if a.Can(perm.BillingView) {
		s, err := d.Subscription(ctx, a)
		if err != nil {
			return out, err
		}
		out.Subscription = &s
	}
	return out, nil
}

// purposeTotals sums the trips of this month and the last by purpose, in
// one pass that keeps no groups (a single row of sums).
func (d *DB) purposeTotals(ctx context.Context, a *Actor, sc scope, first, last string, out *Dashboard) error {
	from, conds, args := d.tripScope(a, sc, first, last)
	split := out.Month + "-01"
	var sums [8]float64
	err := d.r.QueryRowContext(ctx, sc.with()+`SELECT
			COUNT(CASE WHEN t.trip_date >= ? AND t.purpose = 'business' THEN 1 END),
			COALESCE(SUM(CASE WHEN t.trip_date >= ? AND t.purpose = 'business' THEN t.distance_km END), 0),
			COUNT(CASE WHEN t.trip_date >= ? AND t.purpose != 'business' THEN 1 END),
			COALESCE(SUM(CASE WHEN t.trip_date >= ? AND t.purpose != 'business' THEN t.distance_km END), 0),
			COUNT(CASE WHEN t.trip_date < ? AND t.purpose = 'business' THEN 1 END),
			COALESCE(SUM(CASE WHEN t.trip_date < ? AND t.purpose = 'business' THEN t.distance_km END), 0),
			COUNT(CASE WHEN t.trip_date < ? AND t.purpose != 'business' THEN 1 END),
			COALESCE(SUM(CASE WHEN t.trip_date < ? AND t.purpose != 'business' THEN t.distance_km END), 0)
		FROM `+from+` WHERE `+strings.Join(conds, " AND "), sc.argsWith(append([]any{split, split, split, split, split, split, split, split}, args...)...)...).
		Scan(&sums[0], &sums[1], &sums[2], &sums[3], &sums[4], &sums[5], &sums[6], &sums[7])
	if err != nil {
		return fmt.Errorf("purpose totals: %w", err)
	}
	out.This = []PurposeTotal{{"business", int(sums[0]), sums[1]}, {"private", int(sums[2]), sums[3]}}
	out.Last = []PurposeTotal{{"business", int(sums[4]), sums[5]}, {"private", int(sums[6]), sums[7]}}
	return nil
}

// idleVehicles lists the active visible vehicles without a trip (that the
// actor sees) dated first..last.
func (d *DB) idleVehicles(ctx context.Context, a *Actor, sc scope, first, last string) ([]Vehicle, int, error) {
	vfrom, _ := sc.vehicles()
	rc, rargs := d.reachOf(a).cond(a)
	args := append([]any{a.AccountID, first, last}, rargs...)
	rows, err := d.r.QueryContext(ctx, sc.with()+`SELECT v.id, v.name, COUNT(*) OVER () FROM `+vfrom+`
		WHERE v.account_id = ? AND v.status = 'active'
		  AND NOT EXISTS (SELECT 1 FROM trips t WHERE t.vehicle_id = v.id AND t.trip_date BETWEEN ? AND ? AND `+rc+`)
		ORDER BY v.name, v.id LIMIT ?`, sc.argsWith(append(args, DashboardList)...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("idle vehicles: %w", err)
	}
	defer rows.Close()
	var out []Vehicle
	var n int
	for rows.Next() {
		var v Vehicle
		if err := rows.Scan(&v.ID, &v.Name, &n); err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, n, rows.Err()
}

// endingGrants lists the grants in force that end within seven days, on
// the vehicles and groups the actor sees, soonest first.
func (d *DB) endingGrants(ctx context.Context, a *Actor, sc scope) ([]EndingGrant, int, error) {
	now := d.Now()
	from, to := timeKey(now), timeKey(now.AddDate(0, 0, 7))
	vehicleSide, groupSide := "visible s CROSS JOIN member_vehicle_grants g ON g.vehicle_id = s.vehicle_id JOIN vehicles x ON x.id = g.vehicle_id",
		"scope_covered s CROSS JOIN member_group_grants g ON g.group_id = s.group_id JOIN vehicle_groups x ON x.id = g.group_id"
	if sc.all {
		vehicleSide = "vehicles x JOIN member_vehicle_grants g ON g.vehicle_id = x.id"
		groupSide = "vehicle_groups x JOIN member_group_grants g ON g.group_id = x.id"
	}
	q := sc.with(`ending(member_id, target, kind, ends_at) AS (
		SELECT g.member_id, x.name, 'vehicle', g.ends_at FROM `+vehicleSide+` WHERE x.account_id = ? AND g.ends_at > ? AND g.ends_at <= ?
		UNION ALL
		SELECT g.member_id, x.name, 'group', g.ends_at FROM `+groupSide+` WHERE x.account_id = ? AND g.ends_at > ? AND g.ends_at <= ?)`) +
		`SELECT e.member_id, COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email), e.target, e.kind, e.ends_at, COUNT(*) OVER ()
		   FROM ending e JOIN members m ON m.id = e.member_id JOIN users u ON u.id = m.user_id
		  WHERE m.account_id = ?
		  ORDER BY e.ends_at, e.member_id, e.target LIMIT ?`
	rows, err := d.r.QueryContext(ctx, q, sc.argsWith(a.AccountID, from, to, a.AccountID, from, to, a.AccountID, DashboardList)...)
	if err != nil {
		return nil, 0, fmt.Errorf("ending grants: %w", err)
	}
	defer rows.Close()
	var out []EndingGrant
	var n int
	for rows.Next() {
		var e EndingGrant
		var ends string
		if err := rows.Scan(&e.MemberID, &e.Member, &e.Target, &e.Kind, &ends, &n); err != nil {
			return nil, 0, err
		}
		e.EndsAt, _ = parseStoredTime(ends)
		out = append(out, e)
	}
	return out, n, rows.Err()
}

// ReportPeriod is the period of a report, as dates of the account's
// calendar (YYYY-MM-DD), both days included.
type ReportPeriod struct {
	From, To string
}

// ReportMaxDays bounds a report's period, so that it stays cheap.
const ReportMaxDays = 366

// ReportTop is how many rows each ranking of a report shows.
const ReportTop = 50

// Problems checks a period: dates as YYYY-MM-DD, the end not before the
// start, at most ReportMaxDays days.
func (p ReportPeriod) Problems() map[string]string {
	out := map[string]string{}
	from, ferr := time.Parse(time.DateOnly, p.From)
	to, terr := time.Parse(time.DateOnly, p.To)
	if ferr != nil || len(p.From) != 10 {
		out["from"] = "Enter the first day as YYYY-MM-DD."
	}
	if terr != nil || len(p.To) != 10 {
		out["to"] = "Enter the last day as YYYY-MM-DD."
	}
	if len(out) > 0 {
		return out
	}
	switch {
	case to.Before(from):
		out["to"] = "The last day cannot be before the first day (" + p.From + ")."
	case to.Sub(from) >= ReportMaxDays*24*time.Hour:
		out["to"] = fmt.Sprintf("A report covers at most %d days; choose a last day on or before %s.", ReportMaxDays, from.AddDate(0, 0, ReportMaxDays-1).Format(time.DateOnly))
	}
	return out
}

// Report is mileage per vehicle, driver and client over a period, with
// the business/private split (ByVehicle.Total covers every trip).
type Report struct {
	Basis     Basis
	Period    ReportPeriod
	ByVehicle Ranking
	ByDriver  Ranking
	ByClient  Ranking
}

// Report computes the actor's report for a period; a bad period is a
// field error (on "from" or "to").
func (d *DB) Report(ctx context.Context, a *Actor, p ReportPeriod) (Report, error) {
	out := Report{Period: p}
	if probs := p.Problems(); len(probs) > 0 {
		for _, f := range []string{"from", "to"} {
			if msg, ok := probs[f]; ok {
				return out, FieldError(f, "%s", msg)
			}
		}
	}
	sc := d.scopeOf(a)
	var err error
	if out.Basis, err = d.basis(ctx, a, sc); err != nil {
		return out, err
	}
	if out.Basis.NoTrips {
		return out, nil
	}
	for _, r := range []struct {
		dim string
		to  *Ranking
	}{{"vehicle", &out.ByVehicle}, {"driver", &out.ByDriver}, {"client", &out.ByClient}} {
		if *r.to, err = d.rank(ctx, a, sc, r.dim, p.From, p.To, ReportTop, ""); err != nil {
			return out, err
		}
	}
	return out, nil
}

// rollupFor reports whether the monthly roll-ups give exactly the actor's
// totals of the trips dated from first on: the actor sees every trip of
// the account (all vehicles, not "own trips only") and no history limit
// falls after first.
func (d *DB) rollupFor(a *Actor, sc scope, first string) bool {
	if d.exactOnly || !sc.all || !a.Can(perm.TripsView) {
		return false
	}
	r := d.reachOf(a)
	return !r.ownOnly && (r.since == "" || r.since <= first)
}

// dashboardFromRollups fills the trip totals of the dashboard (purpose
// totals of this month and the last, top vehicles and clients, idle
// vehicles) from the monthly roll-ups, for an actor of rollupFor.
func (d *DB) dashboardFromRollups(ctx context.Context, a *Actor, out *Dashboard) error {
	out.This = []PurposeTotal{{Purpose: "business"}, {Purpose: "private"}}
	out.Last = []PurposeTotal{{Purpose: "business"}, {Purpose: "private"}}
	rows, err := d.r.QueryContext(ctx, `SELECT month, b_trips, b_km, p_trips, p_km FROM trip_months
		WHERE account_id = ? AND month IN (?, ?)`, a.AccountID, out.Month, out.LastMonth)
	if err != nil {
		return fmt.Errorf("purpose totals: %w", err)
	}
	for rows.Next() {
		var month string
		var bn, pn int
		var bkm, pkm float64
		if err := rows.Scan(&month, &bn, &bkm, &pn, &pkm); err != nil {
			rows.Close()
			return err
		}
		to := out.Last
		if month == out.Month {
			to = out.This
		}
		to[0].Trips, to[0].Km, to[1].Trips, to[1].Km = bn, bkm, pn, pkm
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("purpose totals: %w", err)
	}
	// How many vehicles are idle: the active vehicles less those with a
	// trip this month (every vehicle with a row, less the archived ones).
	var active, withTrips, archivedWithTrips int
	if err := d.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM vehicles WHERE account_id = ? AND status = 'active'),
		(SELECT COUNT(*) FROM trip_vehicle_months WHERE account_id = ? AND month = ?),
		(SELECT COUNT(*) FROM vehicles v WHERE v.account_id = ? AND v.status = 'archived'
		    AND EXISTS (SELECT 1 FROM trip_vehicle_months r WHERE r.account_id = v.account_id AND r.month = ? AND r.vehicle_id = v.id))`,
		a.AccountID, a.AccountID, out.Month, a.AccountID, out.Month).Scan(&active, &withTrips, &archivedWithTrips); err != nil {
		return fmt.Errorf("idle vehicles: %w", err)
	}
	// The vehicles' totals are the month's: every trip has a vehicle.
	month := &Ranked{Trips: out.This[0].Trips + out.This[1].Trips, BusinessKm: out.This[0].Km, PrivateKm: out.This[1].Km}
	if out.TopVehicles, err = d.rankRollup(ctx, a, "trip_vehicle_months", "vehicle_id", rankBy["vehicle"].name, out.Month, DashboardTop, month, withTrips); err != nil {
		return err
	}
	if out.TopClients, err = d.rankRollup(ctx, a, "trip_client_months", "client_id", rankBy["client"].name, out.Month, DashboardTop, nil, 0); err != nil {
		return err
	}
	out.Idle, out.IdleCount = nil, active-(withTrips-archivedWithTrips)
	if out.IdleCount <= 0 {
		out.IdleCount = 0
		return nil
	}
	// The first idle vehicles by name: the scan stops once all are found.
	rows, err = d.r.QueryContext(ctx, `SELECT v.id, v.name FROM vehicles v
		WHERE v.account_id = ? AND v.status = 'active'
		  AND NOT EXISTS (SELECT 1 FROM trip_vehicle_months r WHERE r.account_id = v.account_id AND r.month = ? AND r.vehicle_id = v.id)
		ORDER BY v.name, v.id LIMIT ?`, a.AccountID, out.Month, min(out.IdleCount, DashboardList))
	if err != nil {
		return fmt.Errorf("idle vehicles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v Vehicle
		if err := rows.Scan(&v.ID, &v.Name); err != nil {
			return err
		}
		out.Idle = append(out.Idle, v)
	}
	return rows.Err()
}

// rankRollup reads the top n rows of a roll-up table (one row per key and
// month) for a month, ordered by distance, as rank does over trips. With
// total given (the month's totals over all rows), the top is read off the
// table's distance index and only the rows are counted; without, the
// totals are summed over the month's rows. rowsAll is the month's rows
// when total is given.
func (d *DB) rankRollup(ctx context.Context, a *Actor, table, key, name, month string, n int, total *Ranked, rowsAll int) (Ranking, error) {
	var out Ranking
	sums := `COUNT(*) OVER (), SUM(b_trips + p_trips) OVER (), SUM(b_km) OVER (), SUM(p_km) OVER ()`
	if total != nil {
		sums = `0, 0, 0, 0`
	}
	rows, err := d.r.QueryContext(ctx, `WITH top(k, n, bkm, pkm, rows_all, n_all, bkm_all, pkm_all) AS (
		SELECT `+key+`, b_trips + p_trips, b_km, p_km, `+sums+`
		  FROM `+table+` WHERE account_id = ? AND month = ? ORDER BY b_km + p_km DESC, `+key+` LIMIT ?)
		SELECT k, `+name+`, n, bkm, pkm, rows_all, n_all, bkm_all, pkm_all FROM top ORDER BY bkm + pkm DESC, k`, a.AccountID, month, n)
	if err != nil {
		return out, fmt.Errorf("rank %s: %w", table, err)
	}
	defer rows.Close()
	all := 0
	for rows.Next() {
		var r Ranked
		if err := rows.Scan(&r.ID, &r.Name, &r.Trips, &r.BusinessKm, &r.PrivateKm, &all, &out.Total.Trips, &out.Total.BusinessKm, &out.Total.PrivateKm); err != nil {
			return out, err
		}
		out.Rows = append(out.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if total != nil && len(out.Rows) > 0 {
		out.Total, all = *total, rowsAll
	}
	out.More = max(all-len(out.Rows), 0)
	return out, nil
}
