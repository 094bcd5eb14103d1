package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// Exports: the CSV downloads (reports.export) and the whole account
// (account.export_all). Each export reads in one read transaction (one
// snapshot of the data, however long the download takes) and hands every
// row to a callback as soon as it is read: nothing is collected, so a
// year of a large account never sits in memory.
//
// The trip, vehicle, client and audit exports are exactly the member's
// scope, with the same conditions as the pages (scopeOf, tripReach,
// clientCond, the audit log's rule). The account export is the whole
// account: account.export_all is the permission to take everything.

// ExportTrip is one row of the trips export.
type ExportTrip struct {
	ID          int64
	Date        string
	VehicleName string
	Plate       string
	DriverName  string
	ClientName  string
	Purpose     string
	DistanceKm  float64
	HasOdo      bool
	OdoStart    int64
	OdoEnd      int64
	StartPlace  string
	EndPlace    string
	Note        string
}

// ExportPeriodMax is the longest period one trips export may cover.
const ExportPeriodMax = 366

// CheckExportPeriod validates a period of the trips export: two dates,
// from not after to, at most ExportPeriodMax days.
func CheckExportPeriod(from, to string) error {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return FieldError("from", "Enter the first day as YYYY-MM-DD.")
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return FieldError("to", "Enter the last day as YYYY-MM-DD.")
	}
	if t.Before(f) {
		return FieldError("to", "The last day cannot be before the first day (%s).", from)
	}
	if days := int(t.Sub(f).Hours()/24) + 1; days > ExportPeriodMax {
		return FieldError("to", "A trips export covers at most %d days; this period has %d.", ExportPeriodMax, days)
	}
	return nil
}

// readTx runs fn in a read transaction of the reader pool: one snapshot.
func (d *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// ExportTrips hands each trip of the period that the actor sees to each,
// in date order: the vehicles of the actor's scope, narrowed by "own
// trips only" and the history limit exactly as the trip list is.
func (d *DB) ExportTrips(ctx context.Context, a *Actor, from, to string, each func(ExportTrip) error) error {
	if err := CheckExportPeriod(from, to); err != nil {
		return err
	}
	sc := d.scopeOf(a)
	rc, rargs := d.reachOf(a).cond(a)
	conds := []string{"+t.account_id = ?", "t.trip_date BETWEEN ? AND ?", rc}
	src := "visible s CROSS JOIN trips t ON t.vehicle_id = s.vehicle_id"
	if sc.all {
		// The account's index (account_id, trip_date) reads the period
		// in date order: no sort, whatever its size.
		src, conds[0] = "trips t", "t.account_id = ?"
	}
	q := sc.with() + `SELECT t.id, t.trip_date, v.name, v.plate,
		COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email, NULLIF(t.driver_name, ''), 'former member'),
		COALESCE(c.name, ''), t.purpose, t.distance_km, t.odo_start IS NOT NULL AND t.odo_end IS NOT NULL,
		COALESCE(t.odo_start, 0), COALESCE(t.odo_end, 0), t.start_place, t.end_place, t.note
		FROM ` + src + ` JOIN vehicles v ON v.id = t.vehicle_id
		LEFT JOIN members m ON m.id = t.driver_member_id LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN clients c ON c.id = t.client_id
		WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY t.trip_date, t.id`
	args := sc.argsWith(append([]any{a.AccountID, from, to}, rargs...)...)
	return d.readTx(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, "export trips", q, args, func(rows *sql.Rows) error {
			var t ExportTrip
			if err := rows.Scan(&t.ID, &t.Date, &t.VehicleName, &t.Plate, &t.DriverName, &t.ClientName, &t.Purpose, &t.DistanceKm,
				&t.HasOdo, &t.OdoStart, &t.OdoEnd, &t.StartPlace, &t.EndPlace, &t.Note); err != nil {
				return err
			}
			return each(t)
		})
	})
}

// ExportVehicles hands each vehicle the actor sees (active and archived)
// to each, by name.
func (d *DB) ExportVehicles(ctx context.Context, a *Actor, each func(Vehicle) error) error {
	sc := d.scopeOf(a)
	from, level := sc.vehicles()
	q := sc.with() + `SELECT ` + strings.Replace(vehicleColumns, "LEVEL", level, 1) + `
		FROM ` + from + ` LEFT JOIN vehicle_groups g ON g.id = v.group_id
		WHERE v.account_id = ? ORDER BY v.name, v.id`
	return d.readTx(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, "export vehicles", q, sc.argsWith(a.AccountID), func(rows *sql.Rows) error {
			v, err := scanVehicle(rows)
			if err != nil {
				return err
			}
			return each(v)
		})
	})
}

// ExportClients hands each client the actor sees to each, by name, with
// the number of paired vehicles the actor sees.
func (d *DB) ExportClients(ctx context.Context, a *Actor, each func(Client) error) error {
	sc := d.scopeOf(a)
	cond, cargs := clientCond(a)
	q := sc.with() + `SELECT c.id, c.name, c.email, c.phone, c.address,
		(SELECT COUNT(*) FROM vehicle_clients p JOIN visible s ON s.vehicle_id = p.vehicle_id WHERE p.client_id = c.id)
		FROM clients c WHERE ` + cond + ` ORDER BY c.name, c.id`
	return d.readTx(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, "export clients", q, sc.argsWith(cargs...), func(rows *sql.Rows) error {
			var c Client
			if err := rows.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Address, &c.Vehicles); err != nil {
				return err
			}
			return each(c)
		})
	})
}

// ExportAudit hands each audit event the actor may read (the audit log's
// rule) that matches f to each, newest first.
func (d *DB) ExportAudit(ctx context.Context, a *Actor, f AuditFilter, each func(AuditEntry) error) error {
	with, args, where := d.auditWhere(a, f)
	q := with + `SELECT id, COALESCE(actor_member_id, 0), actor_name, kind, target, summary, before, after, created_at
		FROM audit_events WHERE ` + where + ` ORDER BY id DESC`
	return d.readTx(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, "export audit", q, args, func(rows *sql.Rows) error {
			var e AuditEntry
			if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Kind, &e.Target, &e.Summary, &e.Before, &e.After, timeCol{&e.At}); err != nil {
				return err
			}
			return each(e)
		})
	})
}

// eachRow runs a query and calls fn for every row as it is read.
func eachRow(ctx context.Context, q queryer, what, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Column kinds of the account export, so that the writer can show them
// as the pages do.
const (
	ColText     = iota
	ColTime     // a stored moment (RFC 3339, UTC): shown in the account's time zone
	ColDistance // kilometres: shown in the account's unit
)

// ExportColumn is one column of a table of the account export.
type ExportColumn struct {
	Name string
	Kind int
}

// ExportTable is one file of the account export.
type ExportTable struct {
	Name    string // file name without extension, e.g. "trips"
	Columns []ExportColumn
	query   string // selects the columns in order; its one parameter is the account
}

func cols(spec ...string) []ExportColumn {
	out := make([]ExportColumn, len(spec))
	for i, s := range spec {
		name, kind := s, ColText
		switch {
		case strings.HasSuffix(s, "_at"):
			kind = ColTime
		case s == "distance":
			kind = ColDistance
		}
		out[i] = ExportColumn{Name: name, Kind: kind}
	}
	return out
}

// accountTables are the files of the account export, each bound to the
// account in its WHERE.
var accountTables = []ExportTable{
	{"members", cols("member_id", "email", "first_name", "last_name", "phone", "role", "status", "channel", "vehicle_access", "last_login_at", "created_at"),
		`SELECT m.id, u.email, u.first_name, u.last_name, u.phone, r.name, m.status, m.channel, m.vehicle_access, m.last_login_at, m.created_at
		   FROM members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id
		  WHERE m.account_id = ? ORDER BY m.id`},
	{"roles", cols("role_id", "role", "builtin", "permission", "scopes"),
		`SELECT r.id, r.name, COALESCE(r.builtin, ''), COALESCE(p.permission, ''), COALESCE(p.scopes, '')
		   FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id
		  WHERE r.account_id = ? ORDER BY r.id, p.permission`},
	{"groups", cols("group_id", "name", "parent_id", "created_at"),
		`SELECT id, name, parent_id, created_at FROM vehicle_groups WHERE account_id = ? ORDER BY id`},
	{"vehicles", cols("vehicle_id", "name", "plate", "vin", "group_id", "odometer_km", "status", "created_at", "updated_at"),
		`SELECT id, name, plate, vin, group_id, odometer_km, status, created_at, updated_at FROM vehicles WHERE account_id = ? ORDER BY id`},
	{"clients", cols("client_id", "name", "email", "phone", "address", "created_at"),
		`SELECT id, name, email, phone, address, created_at FROM clients WHERE account_id = ? ORDER BY id`},
	{"pairings", cols("vehicle_id", "client_id", "created_at"),
		`SELECT p.vehicle_id, p.client_id, p.created_at FROM vehicles v CROSS JOIN vehicle_clients p ON p.vehicle_id = v.id
		  WHERE v.account_id = ? ORDER BY p.vehicle_id, p.client_id`},
	{"grants", cols("member_id", "kind", "target_id", "level", "ends_at", "created_at"),
		`WITH acct(id) AS (SELECT ?)
		 SELECT g.member_id, 'vehicle', g.vehicle_id, g.level, g.ends_at, g.created_at
		   FROM members m CROSS JOIN member_vehicle_grants g ON g.member_id = m.id WHERE m.account_id = (SELECT id FROM acct)
		 UNION ALL
		 SELECT g.member_id, 'group', g.group_id, g.level, g.ends_at, g.created_at
		   FROM members m CROSS JOIN member_group_grants g ON g.member_id = m.id WHERE m.account_id = (SELECT id FROM acct)
		 ORDER BY 1, 2, 3`},
	{"trips", cols("trip_id", "date", "vehicle_id", "driver_member_id", "driver_name", "client_id", "purpose", "distance",
		"odo_start_km", "odo_end_km", "start_place", "end_place", "note", "created_at", "updated_at"),
		`SELECT t.id, t.trip_date, t.vehicle_id, t.driver_member_id, t.driver_name, t.client_id, t.purpose, t.distance_km,
		        t.odo_start, t.odo_end, t.start_place, t.end_place, t.note, t.created_at, t.updated_at
		   FROM trips t WHERE t.account_id = ? ORDER BY t.trip_date, t.id`},
	{"audit", cols("event_id", "created_at", "actor_member_id", "actor_name", "kind", "target", "summary", "before", "after"),
		`SELECT id, created_at, actor_member_id, actor_name, kind, target, summary, before, after
		   FROM audit_events WHERE account_id = ? ORDER BY id`},
}

// AccountTables lists the files of the account export, in order.
func AccountTables() []ExportTable { return accountTables }

// ExportAccount hands every row of every table of the account export to
// row, table by table in the order of AccountTables, after calling table
// with each table. Every row is in one snapshot. NULL reads as "".
func (d *DB) ExportAccount(ctx context.Context, a *Actor, table func(ExportTable) error, row func([]string) error) error {
	if !a.Can(perm.AccountExport) {
		return Errorf(EForbidden, "Exporting the whole account needs '%s'.", perm.Label(perm.AccountExport))
	}
	return d.readTx(ctx, func(tx *sql.Tx) error {
		for _, t := range accountTables {
			if err := table(t); err != nil {
				return err
			}
			vals := make([]sql.NullString, len(t.Columns))
			dest := make([]any, len(vals))
			for i := range vals {
				dest[i] = &vals[i]
			}
			cells := make([]string, len(vals))
			err := eachRow(ctx, tx, "export "+t.Name, t.query, []any{a.AccountID}, func(rows *sql.Rows) error {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				for i, v := range vals {
					cells[i] = v.String
				}
				return row(cells)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Exported records an export in the audit log: who took what.
func (d *DB) Exported(ctx context.Context, a *Actor, what, detail string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		return d.audit(ctx, tx, a, Event{Kind: "export." + what, Target: a.AccountName,
			Summary: "exported " + detail})
	})
}
