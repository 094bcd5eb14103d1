package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// Recurring daily trips: a template (vehicle, weekdays, distance or
// route, client, purpose) that fills the chosen weekdays of a month with
// trips in one action. Filling shows first what it will add; it never adds
// a second trip of the same template on one day (a unique index says so),
// skips days of the future, days beyond the member's history limit, and
// refuses a finalized month. The driver of the trips is the member who
// made the template.

// Template is one recurring trip.
type Template struct {
	ID         int64
	VehicleID  int64
	DriverID   int64
	DriverName string
	ClientID   int64
	ClientName string
	Weekdays   int // bit 0 Monday … bit 6 Sunday
	DistanceKm float64
	StartPlace string
	EndPlace   string
	Purpose    string
	Note       string
}

// WeekdayNames are the weekdays in bit order.
var WeekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Days names the template's weekdays, e.g. "Mon, Wed, Fri".
func (t Template) Days() string {
	var out []string
	for i, n := range WeekdayNames {
		if t.Weekdays&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// weekdayBit is the bit of a date's weekday.
func weekdayBit(t time.Time) int { return 1 << ((int(t.Weekday()) + 6) % 7) }

// TemplateInput is what creating a template takes.
type TemplateInput struct {
	Weekdays   int
	DistanceKm float64
	StartPlace string
	EndPlace   string
	ClientID   int64
	Purpose    string
	Note       string
}

// Templates lists the recurring trips of a vehicle the actor sees (with
// "own trips only", only their own).
func (d *DB) Templates(ctx context.Context, a *Actor, vehicleID int64) ([]Template, error) {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return nil, err
	}
	q := `SELECT t.id, t.vehicle_id, COALESCE(t.driver_member_id, 0), COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email, ''),
		COALESCE(t.client_id, 0), COALESCE(c.name, ''), t.weekdays, t.distance_km, t.start_place, t.end_place, t.purpose, t.note
		FROM trip_templates t LEFT JOIN members m ON m.id = t.driver_member_id LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN clients c ON c.id = t.client_id WHERE t.vehicle_id = ? AND t.account_id = ?`
	args := []any{vehicleID, a.AccountID}
	if OwnTripsOnly(a) {
		q += ` AND t.driver_member_id = ?`
		args = append(args, a.MemberID)
	}
	rows, err := d.r.QueryContext(ctx, q+` ORDER BY t.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		if err := rows.Scan(&t.ID, &t.VehicleID, &t.DriverID, &t.DriverName, &t.ClientID, &t.ClientName, &t.Weekdays, &t.DistanceKm,
			&t.StartPlace, &t.EndPlace, &t.Purpose, &t.Note); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTemplate adds a recurring trip to a vehicle the actor manages.
func (d *DB) CreateTemplate(ctx context.Context, a *Actor, vehicleID int64, in TemplateInput) (int64, error) {
	if !a.Can(perm.TripsRecurring) {
		return 0, Errorf(EForbidden, "Recurring trips need 'Recurring trips'.")
	}
	in.StartPlace = strings.Join(strings.Fields(in.StartPlace), " ")
	in.EndPlace = strings.Join(strings.Fields(in.EndPlace), " ")
	in.Note = strings.TrimSpace(in.Note)
	// The day-independent rules are those of a trip.
	probe := TripInput{Date: "2000-01-01", DistanceKm: in.DistanceKm, StartPlace: in.StartPlace, EndPlace: in.EndPlace, Purpose: in.Purpose, Note: in.Note}
	p := probe.Problems(d.TodayFor(a))
	if in.Weekdays < 1 || in.Weekdays > 127 {
		p["weekdays"] = "Choose at least one weekday."
	}
	if msg, ok := p["weekdays"]; ok {
		return 0, FieldError("weekdays", "%s", msg)
	}
	if err := firstOf(p); err != nil {
		return 0, err
	}
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		v, err := d.tripVehicle(ctx, tx, a, vehicleID)
		if err != nil {
			return err
		}
		if err := clientAllowed(ctx, tx, a.AccountID, v, in.ClientID); err != nil {
			return err
		}
		id, err = insertID(ctx, tx, `INSERT INTO trip_templates (account_id, vehicle_id, driver_member_id, client_id, weekdays, distance_km,
				start_place, end_place, purpose, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.AccountID, v.ID, a.MemberID, nullID(in.ClientID), in.Weekdays, in.DistanceKm, in.StartPlace, in.EndPlace, in.Purpose, in.Note, d.stamp())
		if err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "trip.template.create", Vehicle: v.ID, Target: v.Name, Summary: "Recurring trip set up", After: in})
	})
	return id, err
}

// template loads a template of a vehicle the actor manages, within tx.
func (d *DB) template(ctx context.Context, q queryer, a *Actor, id int64) (Template, error) {
	var t Template
	err := q.QueryRowContext(ctx, `SELECT id, vehicle_id, COALESCE(driver_member_id, 0), COALESCE(client_id, 0), weekdays, distance_km,
			start_place, end_place, purpose, note FROM trip_templates WHERE id = ? AND account_id = ?`, id, a.AccountID).Scan(
		&t.ID, &t.VehicleID, &t.DriverID, &t.ClientID, &t.Weekdays, &t.DistanceKm, &t.StartPlace, &t.EndPlace, &t.Purpose, &t.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("Recurring trip")
	}
	if err != nil {
		return t, err
	}
	if _, err := vehicleLevel(ctx, q, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), t.VehicleID); err != nil {
		return t, notFound("Recurring trip")
	}
	if OwnTripsOnly(a) && t.DriverID != a.MemberID {
		return t, notFound("Recurring trip")
	}
	return t, nil
}

// DeleteTemplate removes a recurring trip (the trips it added stay).
func (d *DB) DeleteTemplate(ctx context.Context, a *Actor, id int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		t, err := d.template(ctx, tx, a, id)
		if err != nil {
			return err
		}
		v, err := d.tripVehicle(ctx, tx, a, t.VehicleID)
		if err != nil {
			return err
		}
		if t.DriverID != a.MemberID && !a.Can(perm.TripsEdit) {
			return Errorf(EForbidden, "Only your own recurring trips can be removed; others' need 'Edit trips'.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM trip_templates WHERE id = ? AND account_id = ?`, id, a.AccountID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "trip.template.delete", Vehicle: v.ID, Target: v.Name, Summary: "Recurring trip removed"})
	})
}

// fillDays are the dates of a month a template would fill now.
func (d *DB) fillDays(ctx context.Context, q queryer, a *Actor, t Template, month string) ([]string, error) {
	first, _, err := monthRange(month)
	if err != nil {
		return nil, err
	}
	if final, err := isFinal(ctx, q, t.VehicleID, month); err != nil {
		return nil, err
	} else if final {
		return nil, FieldError("month", "The month %s of this vehicle is finalized; nothing can be added to it.", month)
	}
	taken := map[string]bool{}
	rows, err := q.QueryContext(ctx, `SELECT trip_date FROM trips WHERE template_id = ? AND trip_date LIKE ?`, t.ID, month+"-%")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		taken[s] = true
	}
	rows.Close()
	today, since := d.TodayFor(a), d.reachOf(a).since
	start, _ := time.Parse(time.DateOnly, first)
	var out []string
	for day := start; day.Format("2006-01") == month; day = day.AddDate(0, 0, 1) {
		s := day.Format(time.DateOnly)
		if s > today || (since != "" && s < since) || taken[s] || t.Weekdays&weekdayBit(day) == 0 {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// FillPreview lists the dates filling a month would add trips on.
func (d *DB) FillPreview(ctx context.Context, a *Actor, templateID int64, month string) (Template, []string, error) {
	t, err := d.template(ctx, d.r, a, templateID)
	if err != nil {
		return t, nil, err
	}
	days, err := d.fillDays(ctx, d.r, a, t, month)
	return t, days, err
}

// FillMonth adds the template's trips to a month in one transaction and
// returns how many it added. Recomputed inside the transaction, so two
// clicks never add a day twice.
func (d *DB) FillMonth(ctx context.Context, a *Actor, templateID int64, month string) (int, error) {
	if !a.Can(perm.TripsRecurring) {
		return 0, Errorf(EForbidden, "Recurring trips need 'Recurring trips'.")
	}
	n := 0
	err := d.update(ctx, func(tx *sql.Tx) error {
		t, err := d.template(ctx, tx, a, templateID)
		if err != nil {
			return err
		}
		v, err := d.tripVehicle(ctx, tx, a, t.VehicleID)
		if err != nil {
			return err
		}
		days, err := d.fillDays(ctx, tx, a, t, month)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO trips (account_id, vehicle_id, driver_member_id, client_id, trip_date, distance_km, purpose,
				start_place, end_place, note, version, template_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := d.stamp()
		driver := t.DriverID
		if driver == 0 {
			driver = a.MemberID
		}
		for _, day := range days {
			res, err := stmt.ExecContext(ctx, a.AccountID, v.ID, driver, nullID(t.ClientID), day, t.DistanceKm, t.Purpose,
				t.StartPlace, t.EndPlace, t.Note, t.ID, now, now)
			if err != nil {
				return finalRefusal(err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return d.audit(ctx, tx, a, Event{Kind: "trip.template.fill", Vehicle: v.ID, Target: v.Name + " " + month,
			Summary: fmt.Sprintf("Recurring trip filled %s: %s added", month, plural(n, "trip", "trips"))})
	})
	return n, err
}
