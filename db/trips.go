package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"fleetgate/db/field"
	"fleetgate/db/perm"
)

// Trips: the mileage log of a vehicle. Who sees and changes which trip is
// decided here, in the SQL of every query and inside every write's
// transaction:
//
//   - trips.view shows the trips of the vehicles the member sees (rule 2).
//     Its scopes narrow every trip answer (lists, totals, the API, edits):
//     "own trips only" keeps the trips the member drove; "history limited
//     to N days" hides trips dated more than N days ago and freezes them.
//   - trips.record adds trips to vehicles the member manages, with the
//     member as driver, and lets the member edit and delete the trips they
//     drove themselves.
//   - trips.edit changes and deletes anyone's trips on managed vehicles
//     (within the scopes above), and lets a recording member name another
//     driver.
//   - trips.recurring keeps templates that fill a month's weekdays; each
//     template adds at most one trip per day.
//   - trips.finalize, with manage access to the vehicle, finalizes and
//     reopens a vehicle's month. A finalized month is read-only for
//     everyone, enforced by triggers of the schema as well.
//
// Each trip carries a version: a change based on an older version is
// refused as a conflict.

// Trip is one entry of a mileage log, as the actor sees it.
type Trip struct {
	ID          int64
	VehicleID   int64
	VehicleName string
	DriverID    int64 // 0: a former member (DriverName keeps the name)
	DriverName  string
	ClientID    int64
	ClientName  string
	Date        string // YYYY-MM-DD
	HasOdo      bool
	OdoStart    int64
	OdoEnd      int64
	DistanceKm  float64
	StartPlace  string
	EndPlace    string
	Purpose     string // "business" or "private"
	Note        string
	Version     int
	TemplateID  int64
	Final       bool // its month is finalized
	CanChange   bool // the actor may edit and delete it now
}

// Purposes are the two kinds of trip.
var Purposes = []string{"business", "private"}

// Limits of the trip fields.
const (
	TripPlaceMax    = 120
	TripNoteMax     = 500
	TripDistanceMax = 5000
)

// TripInput is what recording or editing a trip takes. Odometers are
// optional (0 = not given); when the end is given without a start, the
// start is the end of the vehicle's previous trip.
type TripInput struct {
	Date       string
	DriverID   int64 // 0: the actor
	ClientID   int64
	OdoStart   int64
	OdoEnd     int64
	HasStart   bool
	HasEnd     bool
	DistanceKm float64
	StartPlace string
	EndPlace   string
	Purpose    string
	Note       string
}

// Clean trims the text fields.
func (in *TripInput) Clean() {
	in.Date = strings.TrimSpace(in.Date)
	in.StartPlace = strings.Join(strings.Fields(in.StartPlace), " ")
	in.EndPlace = strings.Join(strings.Fields(in.EndPlace), " ")
	in.Note = strings.TrimSpace(in.Note)
	in.Purpose = strings.ToLower(strings.TrimSpace(in.Purpose))
}

// Problems checks the input on its own (without the database); the
// rules that need the database are checked when saving.
func (in TripInput) Problems(today string) map[string]string {
	p := map[string]string{}
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		p["trip_date"] = "Enter the date as YYYY-MM-DD."
	} else if in.Date > today {
		p["trip_date"] = "A trip cannot be in the future; the latest date is today, " + today + "."
	}
	if in.Purpose != "business" && in.Purpose != "private" {
		p["purpose"] = "Choose business or private."
	}
	if in.HasStart && (in.OdoStart < 0 || in.OdoStart > OdometerMax) {
		p["odo_start"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
	}
	if in.HasEnd && (in.OdoEnd < 0 || in.OdoEnd > OdometerMax) {
		p["odo_end"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
	}
	if in.HasStart && in.HasEnd && p["odo_start"] == "" && p["odo_end"] == "" && in.OdoEnd < in.OdoStart {
		p["odo_end"] = fmt.Sprintf("The end odometer cannot be below the start (%d km).", in.OdoStart)
	}
	if in.HasStart && !in.HasEnd {
		p["odo_end"] = "Enter the end odometer too, or leave both odometers empty and give the distance."
	}
	if !in.HasEnd && (in.DistanceKm <= 0 || in.DistanceKm > TripDistanceMax || math.IsNaN(in.DistanceKm)) {
		p["distance_km"] = "Enter the distance in km (more than 0, at most 5,000), or the odometers."
	}
	for f, v := range map[string]string{"start_place": in.StartPlace, "end_place": in.EndPlace} {
		if msg := field.Line(v, "place", TripPlaceMax, false); msg != "" {
			p[f] = msg
		}
	}
	if msg := field.Text(in.Note, false); msg != "" {
		p["note"] = msg
	} else if len([]rune(in.Note)) > TripNoteMax {
		p["note"] = "A note has at most " + strconv.Itoa(TripNoteMax) + " characters."
	}
	return p
}

// tripFields is the order in which a form's problems are reported.
var tripFields = []string{"vehicle_id", "trip_date", "driver_id", "odo_start", "odo_end", "distance_km", "purpose", "client_id", "start_place", "end_place", "note"}

// FirstProblem is the first of Problems as a field error, or nil.
func firstOf(p map[string]string) error {
	for _, f := range tripFields {
		if msg, ok := p[f]; ok {
			return FieldError(f, "%s", msg)
		}
	}
	return nil
}

// Today is the current date in UTC (tools and benchmarks).
func (d *DB) Today() string { return d.Now().Format(time.DateOnly) }

// TodayFor is the current date in the actor's account time zone: trips
// are dated, limited and finalized by the account's calendar.
func (d *DB) TodayFor(a *Actor) string { return d.Now().In(a.Location()).Format(time.DateOnly) }

// tripReach is the actor's trip scopes at this moment.
type tripReach struct {
	ownOnly bool
	since   string // earliest visible date, "" for no limit
}

func (d *DB) reachOf(a *Actor) tripReach {
	r := tripReach{ownOnly: a.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) == 1}
	if n := a.Perms.Scope(perm.TripsView, perm.ScopeHistoryDays); n > 0 {
		r.since = d.Now().In(a.Location()).AddDate(0, 0, -n).Format(time.DateOnly)
	}
	return r
}

// cond is the reach as SQL over trips t.
func (r tripReach) cond(a *Actor) (string, []any) {
	var conds []string
	var args []any
	if r.ownOnly {
		conds = append(conds, "t.driver_member_id = ?")
		args = append(args, a.MemberID)
	}
	if r.since != "" {
		conds = append(conds, "t.trip_date >= ?")
		args = append(args, r.since)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// HistoryStart is the earliest date the actor may see ("" for no limit).
func (d *DB) HistoryStart(a *Actor) string { return d.reachOf(a).since }

// OwnTripsOnly reports whether the actor sees only the trips they drove.
func OwnTripsOnly(a *Actor) bool { return a.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) == 1 }

// TripFilter narrows a trip list. Month is required ("2026-11").
type TripFilter struct {
	VehicleID int64
	DriverID  int64
	ClientID  int64
	Purpose   string
	Month     string
	// After is the cursor: the key of the last trip of the previous page
	// (as Cursor gives it); "" for the first page.
	After   string
	PerPage int
}

// narrowing is the driver, client and purpose part of the filter, as
// conditions on trips t and their arguments, in order.
func (f TripFilter) narrowing() (conds []string, args []any) {
	if f.DriverID != 0 {
		conds, args = append(conds, "t.driver_member_id = ?"), append(args, f.DriverID)
	}
	if f.ClientID != 0 {
		conds, args = append(conds, "t.client_id = ?"), append(args, f.ClientID)
	}
	if f.Purpose != "" {
		conds, args = append(conds, "t.purpose = ?"), append(args, f.Purpose)
	}
	return conds, args
}

// Cursor is the keyset position after t.
func (t Trip) Cursor() string { return t.Date + "." + strconv.FormatInt(t.ID, 10) }

func parseCursor(s string) (string, int64, bool) {
	date, id, ok := strings.Cut(s, ".")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if _, derr := time.Parse(time.DateOnly, date); err != nil || derr != nil {
		return "", 0, false
	}
	return date, n, true
}

// ParseMonth checks a "YYYY-MM" month.
func ParseMonth(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01", s)
	return t, err == nil && len(s) == 7
}

// monthRange is the first and last day of a month.
func monthRange(month string) (string, string, error) {
	t, ok := ParseMonth(month)
	if !ok {
		return "", "", FieldError("month", "Choose a month as YYYY-MM.")
	}
	return t.Format(time.DateOnly), t.AddDate(0, 1, -1).Format(time.DateOnly), nil
}

// tripColumns reads a trip of t with its names and final flag.
const tripColumns = `t.id, t.vehicle_id, v.name, COALESCE(t.driver_member_id, 0),
	COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email, NULLIF(t.driver_name, ''), 'former member'),
	COALESCE(t.client_id, 0), COALESCE(c.name, ''), t.trip_date, t.odo_start IS NOT NULL AND t.odo_end IS NOT NULL,
	COALESCE(t.odo_start, 0), COALESCE(t.odo_end, 0), t.distance_km, t.start_place, t.end_place, t.purpose, t.note,
	t.version, COALESCE(t.template_id, 0),
	EXISTS (SELECT 1 FROM trip_months_final f WHERE f.vehicle_id = t.vehicle_id AND f.month = substr(t.trip_date, 1, 7)), LEVEL`

const tripJoins = ` JOIN vehicles v ON v.id = t.vehicle_id
	LEFT JOIN members m ON m.id = t.driver_member_id LEFT JOIN users u ON u.id = m.user_id
	LEFT JOIN clients c ON c.id = t.client_id`

func (d *DB) scanTrip(sc interface{ Scan(...any) error }, a *Actor, r tripReach) (Trip, error) {
	var t Trip
	var lvl int
	err := sc.Scan(&t.ID, &t.VehicleID, &t.VehicleName, &t.DriverID, &t.DriverName, &t.ClientID, &t.ClientName, &t.Date,
		&t.HasOdo, &t.OdoStart, &t.OdoEnd, &t.DistanceKm, &t.StartPlace, &t.EndPlace, &t.Purpose, &t.Note,
		&t.Version, &t.TemplateID, &t.Final, &lvl)
	if err != nil {
		return t, err
	}
	t.CanChange = changeRefusal(a, r, t, Level(lvl)) == nil
	return t, nil
}

// changeRefusal tells why the actor may not change t (nil: they may).
func changeRefusal(a *Actor, r tripReach, t Trip, lvl Level) error {
	own := t.DriverID == a.MemberID
	switch {
	case lvl != Manage:
		return &Error{Code: EForbidden, Field: "vehicle_id", Message: "You can view " + t.VehicleName + " but not manage it, so its trips cannot be changed by you. Ask for manage access."}
	case own && !a.Can(perm.TripsRecord) && !a.Can(perm.TripsEdit):
		return Errorf(EForbidden, "Changing trips needs 'Record trips' or 'Edit trips'.")
	case !own && !a.Can(perm.TripsEdit):
		return Errorf(EForbidden, "Only your own trips can be changed; changing others' trips needs 'Edit trips'.")
	case t.Final:
		return &Error{Code: EForbidden, Field: "trip_date", Message: "The month " + t.Date[:7] + " of " + t.VehicleName + " is finalized: its trips can no longer change."}
	case r.since != "" && t.Date < r.since:
		return &Error{Code: EForbidden, Field: "trip_date", Message: "Trips before " + r.since + " are beyond your history limit."}
	}
	return nil
}

// ListTrips reads one page of the trips the actor sees, in date order,
// through an index: a cursor (After), never a count of all matches.
// next is the cursor of the following page ("" on the last page).
func (d *DB) ListTrips(ctx context.Context, a *Actor, f TripFilter) (rows []Trip, next string, err error) {
	first, last, err := monthRange(f.Month)
	if err != nil {
		return nil, "", err
	}
	per := f.PerPage
	if per <= 0 {
		per = 50
	}
	r := d.reachOf(a)
	sc := d.scopeOf(a)
	rc, rargs := r.cond(a)
	// The account's index (account_id, trip_date) serves only the
	// all-vehicles list; elsewhere "+" keeps the planner on the vehicle's
	// index (vehicle_id, trip_date), which a vehicle or a scope selects.
	conds := []string{"+t.account_id = ?", "t.trip_date BETWEEN ? AND ?", rc}
	args := append([]any{a.AccountID, first, last}, rargs...)
	var from string
	switch {
	case f.VehicleID != 0:
		if _, err := d.VehicleLevel(ctx, a, f.VehicleID); err != nil {
			return nil, "", err
		}
		from = "trips t"
		conds = append(conds, "t.vehicle_id = ?")
		args = append(args, f.VehicleID)
	case sc.all:
		from = "trips t"
		conds[0] = "t.account_id = ?"
	default:
		from = "visible s CROSS JOIN trips t ON t.vehicle_id = s.vehicle_id"
	}
	nc, na := f.narrowing()
	conds, args = append(conds, nc...), append(args, na...)
	if f.After != "" {
		date, id, ok := parseCursor(f.After)
		if !ok {
			return nil, "", FieldError("after", "This page address is not valid; start from the first page.")
		}
		conds = append(conds, "(t.trip_date > ? OR (t.trip_date = ? AND t.id > ?))")
		args = append(args, date, date, id)
	}
	// The page is chosen over the trips' own index; only its rows are
	// joined to names, and the level is read for just their vehicles.
	q := sc.with(`page(id) AS (SELECT t.id FROM `+from+` WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY t.trip_date, t.id LIMIT ?)`) +
		`SELECT ` + strings.Replace(tripColumns, "LEVEL", "COALESCE((SELECT lvl FROM visible WHERE vehicle_id = t.vehicle_id), 0)", 1) +
		` FROM page p CROSS JOIN trips t ON t.id = p.id` + tripJoins + ` ORDER BY t.trip_date, t.id`
	res, err := d.r.QueryContext(ctx, q, sc.argsWith(append(args, per+1)...)...)
	if err != nil {
		return nil, "", fmt.Errorf("list trips: %w", err)
	}
	defer res.Close()
	for res.Next() {
		t, err := d.scanTrip(res, a, r)
		if err != nil {
			return nil, "", err
		}
		rows = append(rows, t)
	}
	if err := res.Err(); err != nil {
		return nil, "", err
	}
	if len(rows) > per {
		rows = rows[:per]
		next = rows[per-1].Cursor()
	}
	return rows, next, nil
}

// PurposeTotal is the trips and kilometres of one purpose.
type PurposeTotal struct {
	Purpose string
	Trips   int
	Km      float64
}

// MonthTotals sums, per purpose, the trips of one vehicle's month that
// the actor sees (the same scopes as the log). It reads one vehicle-month,
// so it stays cheap however large the account.
func (d *DB) MonthTotals(ctx context.Context, a *Actor, vehicleID int64, month string, f TripFilter) ([]PurposeTotal, error) {
	first, last, err := monthRange(month)
	if err != nil {
		return nil, err
	}
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return nil, err
	}
	rc, rargs := d.reachOf(a).cond(a)
	conds := []string{"t.vehicle_id = ?", "+t.account_id = ?", "t.trip_date BETWEEN ? AND ?", rc}
	args := append([]any{vehicleID, a.AccountID, first, last}, rargs...)
	nc, na := f.narrowing()
	conds, args = append(conds, nc...), append(args, na...)
	out := []PurposeTotal{{Purpose: "business"}, {Purpose: "private"}}
	rows, err := d.r.QueryContext(ctx, `SELECT t.purpose, COUNT(*), COALESCE(SUM(t.distance_km), 0) FROM trips t
		WHERE `+strings.Join(conds, " AND ")+` GROUP BY t.purpose`, args...)
	if err != nil {
		return nil, fmt.Errorf("month totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p PurposeTotal
		if err := rows.Scan(&p.Purpose, &p.Trips, &p.Km); err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Purpose == p.Purpose {
				out[i] = p
			}
		}
	}
	return out, rows.Err()
}

// Trip returns one trip the actor sees; ENotFound otherwise (outside the
// vehicle scope, the own-trips scope or the history limit).
func (d *DB) Trip(ctx context.Context, a *Actor, id int64) (Trip, error) {
	return d.trip(ctx, d.r, a, id)
}

func (d *DB) trip(ctx context.Context, q queryer, a *Actor, id int64) (Trip, error) {
	var vehicleID int64
	err := q.QueryRowContext(ctx, `SELECT vehicle_id FROM trips WHERE id = ? AND account_id = ?`, id, a.AccountID).Scan(&vehicleID)
	if errors.Is(err, sql.ErrNoRows) {
		return Trip{}, notFound("Trip")
	}
	if err != nil {
		return Trip{}, err
	}
	lvl, err := vehicleLevel(ctx, q, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), vehicleID)
	if err != nil {
		return Trip{}, notFound("Trip")
	}
	r := d.reachOf(a)
	rc, rargs := r.cond(a)
	t, err := d.scanTrip(q.QueryRowContext(ctx, `SELECT `+strings.Replace(tripColumns, "LEVEL", "?", 1)+` FROM trips t`+tripJoins+`
		WHERE t.id = ? AND t.account_id = ? AND `+rc, append([]any{int(lvl), id, a.AccountID}, rargs...)...), a, r)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("Trip")
	}
	return t, err
}

// NextOdometer is where a new trip of the vehicle starts: the end of its
// latest trip with odometers, else the vehicle's odometer.
func (d *DB) NextOdometer(ctx context.Context, a *Actor, vehicleID int64) (int64, error) {
	v, err := d.Vehicle(ctx, a, vehicleID)
	if err != nil {
		return 0, err
	}
	return d.previousEnd(ctx, d.r, vehicleID, "9999-12-31", v.OdometerKm)
}

// previousEnd is the end odometer of the vehicle's latest trip dated on
// or before date, or fallback.
func (d *DB) previousEnd(ctx context.Context, q queryer, vehicleID int64, date string, fallback int64) (int64, error) {
	var end int64
	err := q.QueryRowContext(ctx, `SELECT odo_end FROM trips WHERE vehicle_id = ? AND trip_date <= ? AND odo_end IS NOT NULL
		ORDER BY trip_date DESC, id DESC LIMIT 1`, vehicleID, date).Scan(&end)
	if errors.Is(err, sql.ErrNoRows) {
		return fallback, nil
	}
	return end, err
}

// isFinal reports whether a vehicle's month is finalized.
func isFinal(ctx context.Context, q queryer, vehicleID int64, month string) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM trip_months_final WHERE vehicle_id = ? AND month = ?)`, vehicleID, month).Scan(&ok)
	return ok, err
}

// checkTrip checks, inside the write's transaction, everything about a
// trip being saved that needs the database. selfID is the trip being
// edited (0 for a new one).
func (d *DB) checkTrip(ctx context.Context, tx *sql.Tx, a *Actor, r tripReach, v Vehicle, in *TripInput, selfID int64) error {
	if err := firstOf(in.Problems(d.TodayFor(a))); err != nil {
		return err
	}
	if r.since != "" && in.Date < r.since {
		return FieldError("trip_date", "Your history is limited: the earliest date you can use is %s.", r.since)
	}
	if final, err := isFinal(ctx, tx, v.ID, in.Date[:7]); err != nil {
		return err
	} else if final {
		return FieldError("trip_date", "The month %s of %s is finalized; choose a date in an open month.", in.Date[:7], v.Name)
	}
	if in.DriverID == 0 {
		in.DriverID = a.MemberID
	}
	if in.DriverID != a.MemberID {
		if !a.Can(perm.TripsEdit) || r.ownOnly {
			return &Error{Code: EForbidden, Field: "driver_id", Message: "You can record trips with yourself as the driver only."}
		}
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE id = ? AND account_id = ? AND status = 'active')`,
			in.DriverID, a.AccountID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return FieldError("driver_id", "Choose an active member of this account as the driver.")
		}
	}
	if err := clientAllowed(ctx, tx, a.AccountID, v, in.ClientID); err != nil {
		return err
	}
	if in.HasEnd && !in.HasStart {
		start, err := d.previousEnd(ctx, tx, v.ID, in.Date, v.OdometerKm)
		if err != nil {
			return err
		}
		in.OdoStart, in.HasStart = start, true
		if in.OdoEnd < in.OdoStart {
			return FieldError("odo_end", "The end odometer cannot be below the start (%d km, where the previous trip ended).", in.OdoStart)
		}
	}
	if in.HasEnd {
		in.DistanceKm = float64(in.OdoEnd - in.OdoStart)
		var other struct {
			date       string
			start, end int64
		}
		err := tx.QueryRowContext(ctx, `SELECT trip_date, odo_start, odo_end FROM trips
			WHERE vehicle_id = ? AND odo_start IS NOT NULL AND odo_start < ? AND odo_end > ? AND id != ? LIMIT 1`,
			v.ID, in.OdoEnd, in.OdoStart, selfID).Scan(&other.date, &other.start, &other.end)
		switch {
		case err == nil:
			return FieldError("odo_start", "The odometer range %d–%d km overlaps the trip of %s (%d–%d km) of this vehicle.",
				in.OdoStart, in.OdoEnd, other.date, other.start, other.end)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	in.DistanceKm = math.Round(in.DistanceKm*10) / 10
	return nil
}

// clientAllowed refuses a client that rule 4 does not allow with the
// vehicle (0, no client, is always allowed).
func clientAllowed(ctx context.Context, q queryer, accountID int64, v Vehicle, clientID int64) error {
	if clientID == 0 {
		return nil
	}
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM clients c WHERE c.id = ? AND c.account_id = ?
		AND (NOT EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ?)
		     OR EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ? AND client_id = c.id)))`,
		clientID, accountID, v.ID, v.ID).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError("client_id", "%s is paired with other clients; choose one of the clients offered for it.", v.Name)
	}
	return nil
}

// followOdometer sets the vehicle's odometer to the end of its latest
// trip with odometers (when it has one).
func (d *DB) followOdometer(ctx context.Context, tx *sql.Tx, vehicleID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE vehicles SET odometer_km = (SELECT odo_end FROM trips WHERE vehicle_id = ? AND odo_end IS NOT NULL
			ORDER BY trip_date DESC, id DESC LIMIT 1), updated_at = ?
		WHERE id = ? AND EXISTS (SELECT 1 FROM trips WHERE vehicle_id = ? AND odo_end IS NOT NULL)
		  AND odometer_km IS DISTINCT FROM (SELECT odo_end FROM trips WHERE vehicle_id = ? AND odo_end IS NOT NULL ORDER BY trip_date DESC, id DESC LIMIT 1)`,
		vehicleID, d.stamp(), vehicleID, vehicleID, vehicleID)
	return err
}

// tripVehicle loads the vehicle a trip is recorded on, which the actor
// must manage; a view-only vehicle is refused on the field vehicle_id.
func (d *DB) tripVehicle(ctx context.Context, tx *sql.Tx, a *Actor, vehicleID int64) (Vehicle, error) {
	v, err := d.managedVehicle(ctx, tx, a, vehicleID)
	if ErrorCode(err) == EForbidden {
		return v, &Error{Code: EForbidden, Field: "vehicle_id", Message: "You can view " + v.Name + " but not manage it, so you cannot record its trips. Ask for manage access."}
	}
	if err == nil && v.Status != "active" {
		return v, &Error{Code: EForbidden, Field: "vehicle_id", Message: v.Name + " is archived; restore it to record trips."}
	}
	return v, err
}

// finalRefusal turns the schema's "finalized:" refusal into a field error.
func finalRefusal(err error) error {
	if err != nil && strings.Contains(err.Error(), "finalized: ") {
		return FieldError("trip_date", "This month of the vehicle is finalized; its trips can no longer change.")
	}
	return err
}

func nullOdo(has bool, v int64) any {
	if !has {
		return nil
	}
	return v
}

// tripAudit is a trip as the audit log keeps it.
func tripAudit(vehicle string, in TripInput) map[string]any {
	m := map[string]any{"vehicle": vehicle, "date": in.Date, "distance_km": in.DistanceKm, "purpose": in.Purpose}
	if in.HasEnd {
		m["odo_start"], m["odo_end"] = in.OdoStart, in.OdoEnd
	}
	if in.ClientID != 0 {
		m["client_id"] = in.ClientID
	}
	return m
}

// RecordTrip adds a trip to a vehicle the actor manages.
func (d *DB) RecordTrip(ctx context.Context, a *Actor, vehicleID int64, in TripInput) (Trip, error) {
	var t Trip
	err := d.update(ctx, func(tx *sql.Tx) error {
		id, err := d.recordTrip(ctx, tx, a, vehicleID, in)
		if err != nil {
			return err
		}
		t, err = d.trip(ctx, tx, a, id)
		return err
	})
	return t, err
}

func (d *DB) recordTrip(ctx context.Context, tx *sql.Tx, a *Actor, vehicleID int64, in TripInput) (int64, error) {
	if !a.Can(perm.TripsRecord) {
		return 0, Errorf(EForbidden, "Recording trips needs 'Record trips'.")
	}
	in.Clean()
	v, err := d.tripVehicle(ctx, tx, a, vehicleID)
	if err != nil {
		return 0, err
	}
	r := d.reachOf(a)
	if err := d.checkTrip(ctx, tx, a, r, v, &in, 0); err != nil {
		return 0, err
	}
	now := d.stamp()
	id, err := insertID(ctx, tx, `INSERT INTO trips (account_id, vehicle_id, driver_member_id, client_id, trip_date, distance_km, purpose,
			odo_start, odo_end, start_place, end_place, note, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		a.AccountID, v.ID, in.DriverID, nullID(in.ClientID), in.Date, in.DistanceKm, in.Purpose,
		nullOdo(in.HasStart, in.OdoStart), nullOdo(in.HasEnd, in.OdoEnd), in.StartPlace, in.EndPlace, in.Note, now, now)
	if err != nil {
		return 0, finalRefusal(err)
	}
	if err := d.followOdometer(ctx, tx, v.ID); err != nil {
		return 0, err
	}
	return id, d.audit(ctx, tx, a, Event{Kind: "trip.create", Vehicle: v.ID, Target: v.Name + " " + in.Date, Summary: "Trip recorded", After: tripAudit(v.Name, in)})
}

// RecordTripOnce is RecordTrip under an idempotency key: the first call
// records the trip and remembers the key; a replay with the same key and
// the same request answers that trip again (replay true) instead of
// recording a second one. The same key with another request is refused.
func (d *DB) RecordTripOnce(ctx context.Context, a *Actor, key, request string, vehicleID int64, in TripInput) (t Trip, replay bool, err error) {
	err = d.update(ctx, func(tx *sql.Tx) error {
		var tripID int64
		var seen string
		err := tx.QueryRowContext(ctx, `SELECT trip_id, request FROM trip_idempotency WHERE member_id = ? AND key = ?`, a.MemberID, key).Scan(&tripID, &seen)
		switch {
		case err == nil:
			if seen != request {
				return &Error{Code: EConflict, Field: "Idempotency-Key", Message: "This Idempotency-Key was used for a different trip; use a new key for a new trip."}
			}
			replay = true
			t, err = d.trip(ctx, tx, a, tripID)
			if ErrorCode(err) == ENotFound {
				return Errorf(EConflict, "The trip recorded under this Idempotency-Key no longer exists.")
			}
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		id, err := d.recordTrip(ctx, tx, a, vehicleID, in)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trip_idempotency (member_id, key, request, trip_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			a.MemberID, key, request, id, d.stamp()); err != nil {
			return err
		}
		t, err = d.trip(ctx, tx, a, id)
		return err
	})
	return t, replay, err
}

// changeableTrip loads a trip for a change inside tx: ENotFound outside
// the actor's reach, EForbidden when they may see but not change it,
// EConflict (with the current trip) when version is not the current one.
func (d *DB) changeableTrip(ctx context.Context, tx *sql.Tx, a *Actor, id int64, version int) (Trip, error) {
	t, err := d.trip(ctx, tx, a, id)
	if err != nil {
		return t, err
	}
	lvl, err := vehicleLevel(ctx, tx, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), t.VehicleID)
	if err != nil {
		return t, err
	}
	if err := changeRefusal(a, d.reachOf(a), t, lvl); err != nil {
		return t, err
	}
	if version != t.Version {
		return t, &ConflictError{Err: &Error{Code: EConflict, Message: "Someone changed this trip meanwhile. Its current state is shown; your entries are kept below — check and save again."}, Current: t}
	}
	return t, nil
}

// ConflictError is a stale-version refusal carrying the current trip.
type ConflictError struct {
	Err     *Error
	Current Trip
}

func (e *ConflictError) Error() string { return e.Err.Error() }

func (e *ConflictError) Unwrap() error { return e.Err }

// UpdateTrip changes a trip the actor may change, if version is current.
// The vehicle of a trip does not change.
func (d *DB) UpdateTrip(ctx context.Context, a *Actor, id int64, version int, in TripInput) (Trip, error) {
	in.Clean()
	var out Trip
	err := d.update(ctx, func(tx *sql.Tx) error {
		t, err := d.changeableTrip(ctx, tx, a, id, version)
		if err != nil {
			return err
		}
		v, err := d.vehicle(ctx, tx, a, t.VehicleID)
		if err != nil {
			return err
		}
		if in.DriverID == 0 {
			in.DriverID = t.DriverID
		}
		if in.DriverID == 0 {
			in.DriverID = a.MemberID
		}
		if err := d.checkTrip(ctx, tx, a, d.reachOf(a), v, &in, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE trips SET driver_member_id = ?, client_id = ?, trip_date = ?, distance_km = ?, purpose = ?,
				odo_start = ?, odo_end = ?, start_place = ?, end_place = ?, note = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND account_id = ? AND version = ?`,
			in.DriverID, nullID(in.ClientID), in.Date, in.DistanceKm, in.Purpose, nullOdo(in.HasStart, in.OdoStart), nullOdo(in.HasEnd, in.OdoEnd),
			in.StartPlace, in.EndPlace, in.Note, d.stamp(), id, a.AccountID, version)
		if err != nil {
			return finalRefusal(err)
		}
		if err := d.followOdometer(ctx, tx, v.ID); err != nil {
			return err
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "trip.update", Vehicle: v.ID, Target: v.Name + " " + in.Date, Summary: "Trip edited",
			Before: tripAudit(v.Name, inputOf(t)), After: tripAudit(v.Name, in)}); err != nil {
			return err
		}
		out, err = d.trip(ctx, tx, a, id)
		return err
	})
	return out, err
}

// inputOf is a trip as an input (for forms and audit).
func inputOf(t Trip) TripInput {
	return TripInput{Date: t.Date, DriverID: t.DriverID, ClientID: t.ClientID, OdoStart: t.OdoStart, OdoEnd: t.OdoEnd,
		HasStart: t.HasOdo, HasEnd: t.HasOdo, DistanceKm: t.DistanceKm, StartPlace: t.StartPlace, EndPlace: t.EndPlace,
		Purpose: t.Purpose, Note: t.Note}
}

// InputOf is inputOf for the handlers.
func InputOf(t Trip) TripInput { return inputOf(t) }

// DeleteTrip deletes a trip the actor may change, if version is current.
func (d *DB) DeleteTrip(ctx context.Context, a *Actor, id int64, version int) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		t, err := d.changeableTrip(ctx, tx, a, id, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM trips WHERE id = ? AND account_id = ? AND version = ?`, id, a.AccountID, version); err != nil {
			return finalRefusal(err)
		}
		if err := d.followOdometer(ctx, tx, t.VehicleID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "trip.delete", Vehicle: t.VehicleID, Target: t.VehicleName + " " + t.Date, Summary: "Trip deleted", Before: tripAudit(t.VehicleName, inputOf(t))})
	})
}

// MonthFinal reports whether a vehicle's month is finalized, for a
// vehicle the actor sees.
func (d *DB) MonthFinal(ctx context.Context, a *Actor, vehicleID int64, month string) (bool, error) {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return false, err
	}
	return isFinal(ctx, d.r, vehicleID, month)
}

// SetMonthFinal finalizes (final true) or reopens a vehicle's month. It
// needs trips.finalize and manage access to the vehicle; both are audited.
func (d *DB) SetMonthFinal(ctx context.Context, a *Actor, vehicleID int64, month string, final bool) error {
	m, ok := ParseMonth(month)
	if !ok {
		return FieldError("month", "Choose a month as YYYY-MM.")
	}
	if !a.Can(perm.TripsFinalize) {
		return Errorf(EForbidden, "Finalizing months needs 'Finalize months'.")
	}
	if final && m.Format("2006-01") > d.TodayFor(a)[:7] {
		return FieldError("month", "A month can be finalized once it has begun.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		v, err := d.managedVehicle(ctx, tx, a, vehicleID)
		if err != nil {
			return err
		}
		was, err := isFinal(ctx, tx, vehicleID, month)
		if err != nil || was == final {
			return err
		}
		kind, summary := "trip.finalize", "Month "+month+" finalized"
		if final {
			_, err = tx.ExecContext(ctx, `INSERT INTO trip_months_final (vehicle_id, month, account_id, finalized_by, finalized_at) VALUES (?, ?, ?, ?, ?)`,
				vehicleID, month, a.AccountID, a.MemberID, d.stamp())
		} else {
			kind, summary = "trip.reopen", "Month "+month+" reopened"
			_, err = tx.ExecContext(ctx, `DELETE FROM trip_months_final WHERE vehicle_id = ? AND month = ?`, vehicleID, month)
		}
		if err != nil {
			return err
		}
		if err := d.audit(ctx, tx, a, Event{Kind: kind, Vehicle: v.ID, Target: v.Name + " " + month, Summary: summary,
			Before: map[string]bool{"finalized": was}, After: map[string]bool{"finalized": final}}); err != nil {
			return err
		}
		return d.mailMonth(ctx, tx, a, v, month, final)
	})
}
