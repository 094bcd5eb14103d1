package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fleetgate/db/field"
)

// Vehicle is a vehicle as the actor sees it, with the actor's level on it.
type Vehicle struct {
	ID         int64
	GroupID    int64 // 0: in no group
	GroupName  string
	Name       string
	Plate      string
	VIN        string
	OdometerKm int64
	Status     string // "active" or "archived"
	Level      Level
	Clients    int // number of paired clients; 0 means usable with any client
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int // bumped by every change; edits name the one they started from
}

// Limits of the vehicle fields (the form's maxlength says the same).
const (
	VehicleNameMax  = 80
	VehiclePlateMax = 20
	VehicleVINMax   = 17
	OdometerMax     = 9_999_999
)

// VehicleFilter narrows the vehicle list.
type VehicleFilter struct {
	Query   string // words matched against name, plate and VIN
	GroupID int64  // the group and its sub-groups; 0 for all
	Status  string // "active" (default), "archived" or "all"
	// PairedWith keeps only the vehicles paired with this client (0: off).
	PairedWith int64
	Page       int // ListVehicles: page number from 1
	PerPage    int
	// After and Before are cursors (VehiclesPage): the page starts after,
	// or ends before, the row they name. Count asks for the total.
	After, Before string
	Count         bool
}

// vehicleColumns are a vehicle's columns; LEVEL stands for the level expression.
const vehicleColumns = `v.id, COALESCE(v.group_id, 0), COALESCE(g.name, ''), v.name, v.plate, v.vin, v.odometer_km, v.status, LEVEL,
	(SELECT COUNT(*) FROM vehicle_clients vc WHERE vc.vehicle_id = v.id), v.created_at, v.updated_at, v.version`

func scanVehicle(sc interface{ Scan(...any) error }, extra ...any) (Vehicle, error) {
	var v Vehicle
	err := sc.Scan(append([]any{&v.ID, &v.GroupID, &v.GroupName, &v.Name, &v.Plate, &v.VIN, &v.OdometerKm, &v.Status, &v.Level, &v.Clients,
		timeCol{&v.CreatedAt}, timeCol{&v.UpdatedAt}, &v.Version}, extra...)...)
	return v, err
}

// vehicleWhere builds the filter part of the vehicle list (after the
// scope) over vehicles v; the status is tested on statusCol (v.status, or
// the copy in vehicle_access). plain is true when nothing but the status
// filters (the list then needs no look-up in vehicles per row).
func (d *DB) vehicleWhere(a *Actor, f VehicleFilter, statusCol string) (ctes []string, where string, cteArgs, args []any, plain bool) {
	var c conds
	plain = true
	if f.GroupID != 0 {
		ctes = append(ctes, `filter_groups(id) AS (
			SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?
			UNION SELECT g.id FROM vehicle_groups g JOIN filter_groups f ON g.parent_id = f.id)`)
		cteArgs = append(cteArgs, f.GroupID, a.AccountID)
		c.add("v.group_id IN (SELECT id FROM filter_groups)")
		plain = false
	}
	switch f.Status {
	case "all":
	case "archived":
		c.add(statusCol + " = 'archived'")
	default:
		c.add(statusCol + " = 'active'")
	}
	if f.PairedWith != 0 {
		c.add("EXISTS (SELECT 1 FROM vehicle_clients p WHERE p.vehicle_id = v.id AND p.client_id = ?)", f.PairedWith)
		plain = false
	}
	// Words of three characters or more go to the trigram index in one
	// MATCH (all of them must occur); shorter ones are matched with LIKE.
	words, ok := field.SearchWords(f.Query)
	if !ok {
		c.add("1 = 0") // a word no stored text can hold
	}
	var long []string
	for _, w := range words {
		plain = false
		if len([]rune(w)) >= 3 {
			long = append(long, w)
			continue
		}
		like := "%" + escapeLike(w) + "%"
		c.add(`(v.name LIKE ? ESCAPE '\' OR v.plate LIKE ? ESCAPE '\' OR v.vin LIKE ? ESCAPE '\')`, like, like, like)
	}
	if len(long) > 0 {
		cond, args := d.vehicleSearch(long)
		c.add(cond, args...)
	}
	// The CTEs come first in the query, so their arguments do too.
	return ctes, c.sql(), cteArgs, c.args, plain
}

// vehicleList reads one page of the vehicles the actor sees, by name,
// through an index: for all-vehicles access the vehicles table's
// (account, status, name, id) index, otherwise the member's range of
// vehicle_access (member, status, name, vehicle), keeping the grants in
// force and the highest level per vehicle. Only the page's rows are then
// joined to their group and pairing count. With count the number of all
// matches is counted too (a pass over the whole matching set).
func (d *DB) vehicleList(ctx context.Context, a *Actor, f VehicleFilter, k keysetSpec, count bool) ([]Vehicle, Keyset, error) {
	all := a.VehicleAccess == "all"
	var from, nameCol, idCol, level, groupBy string
	var scopeConds conds
	if all {
		from, nameCol, idCol, level = "vehicles v", "v.name", "v.id", "2"
		scopeConds.add("v.account_id = ?", a.AccountID)
	} else {
		nameCol, idCol, level, groupBy = "x.name", "x.vehicle_id", "MAX(x.lvl)", " GROUP BY x.name, x.vehicle_id"
		scopeConds.add("x.member_id = ?", a.MemberID)
		scopeConds.add("(x.until IS NULL OR x.until > ?)", d.nowKey())
	}
	statusCol := "v.status"
	if !all {
		statusCol = "x.status"
	}
	ctes, where, cteArgs, condArgs, plain := d.vehicleWhere(a, f, statusCol)
	if !all {
		from = "vehicle_access x"
		if !plain {
			from = "vehicle_access x CROSS JOIN vehicles v ON v.id = x.vehicle_id"
		}
	}
	bound, bargs, backwards := k.bounds(nameCol, idCol)
	dir := ""
	if backwards {
		dir = " DESC"
	}
	selectPage := `SELECT ` + idCol + `, ` + level + ` FROM ` + from + ` WHERE ` + scopeConds.sql() + ` AND ` + where + ` AND ` + bound +
		groupBy + ` ORDER BY ` + nameCol + dir + `, ` + idCol + dir + ` LIMIT ? OFFSET ?`
	with := "WITH RECURSIVE " + strings.Join(append(ctes, "page(id, lvl) AS ("+selectPage+")"), ",\n") + "\n"
	qargs := append(append(append(append(append([]any{}, cteArgs...), scopeConds.args...), condArgs...), bargs...), k.per+1, k.offset)
	rows, err := d.readQuery(ctx, with+`SELECT `+strings.Replace(vehicleColumns, "LEVEL", "p.lvl", 1)+`
		  FROM page p CROSS JOIN vehicles v ON v.id = p.id
		  LEFT JOIN vehicle_groups g ON g.id = v.group_id
		 ORDER BY v.name`+dir+`, v.id`+dir, qargs...)
	if err != nil {
		return nil, Keyset{}, fmt.Errorf("list vehicles: %w", err)
	}
	defer rows.Close()
	var out []Vehicle
	for rows.Next() {
		v, err := scanVehicle(rows)
		if err != nil {
			return nil, Keyset{}, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, Keyset{}, fmt.Errorf("list vehicles: %w", err)
	}
	out, ks := finish(out, k, backwards, func(v Vehicle) string { return nameCursor(v.Name, v.ID) })
	if count && ks.Total < 0 {
		cwith := ""
		if len(ctes) > 0 {
			cwith = "WITH RECURSIVE " + strings.Join(ctes, ",\n") + "\n"
		}
		err := d.readRow(ctx, cwith+`SELECT COUNT(*) FROM (SELECT `+idCol+` FROM `+from+` WHERE `+scopeConds.sql()+` AND `+where+groupBy+`) AS matched`,
			append(append(append([]any{}, cteArgs...), scopeConds.args...), condArgs...)...).Scan(&ks.Total)
		if err != nil {
			return nil, Keyset{}, fmt.Errorf("count vehicles: %w", err)
		}
	}
	return out, ks, nil
}

// VehiclesPage returns one page of the vehicles the actor sees, by name,
// read through an index from the cursor f.After or f.Before (the first
// page without either; a page number f.Page > 1 without a cursor, as old
// links hold, skips the rows before it). The total is counted only with
// f.Count.
func (d *DB) VehiclesPage(ctx context.Context, a *Actor, f VehicleFilter) ([]Vehicle, Keyset, error) {
	per := f.PerPage
	if per <= 0 {
		per = 25
	}
	k := keysetSpec{after: f.After, before: f.Before, per: per}
	if f.After == "" && f.Before == "" && f.Page > 1 {
		k.offset = (f.Page - 1) * per
	}
	return d.vehicleList(ctx, a, f, k, f.Count)
}

// ListVehicles returns one page of the vehicles the actor sees, by name,
// and how many match the filter: page numbers and a count of all matches
// (use VehiclesPage for lists whose cost must follow the page).
func (d *DB) ListVehicles(ctx context.Context, a *Actor, f VehicleFilter) ([]Vehicle, int, error) {
	p := pageOf(f.Page, f.PerPage, 25)
	rows, ks, err := d.vehicleList(ctx, a, f, keysetSpec{per: p.limit, offset: p.offset}, true)
	return rows, ks.Total, err
}

// CountVehicles counts the actor's visible vehicles of a status ("active",
// "archived" or "all"): the number badges and totals show.
func (d *DB) CountVehicles(ctx context.Context, a *Actor, status string) (int, error) {
	_, total, err := d.ListVehicles(ctx, a, VehicleFilter{Status: status, PerPage: 1})
	return total, err
}

// Vehicle returns one vehicle the actor sees; ENotFound otherwise.
func (d *DB) Vehicle(ctx context.Context, a *Actor, id int64) (Vehicle, error) {
	return d.vehicle(ctx, d.reader(), a, id)
}

func (d *DB) vehicle(ctx context.Context, q queryer, a *Actor, id int64) (Vehicle, error) {
	lvl, err := vehicleLevel(ctx, q, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), id)
	if err != nil {
		return Vehicle{}, err
	}
	v, err := scanVehicle(q.QueryRowContext(ctx, `SELECT `+strings.Replace(vehicleColumns, "LEVEL", "?", 1)+`
		  FROM vehicles v LEFT JOIN vehicle_groups g ON g.id = v.group_id
		 WHERE v.id = ? AND v.account_id = ?`, int(lvl), id, a.AccountID))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("Vehicle")
	}
	return v, err
}

// ManagedVehicle returns a vehicle the actor manages: ENotFound when they
// do not see it, EForbidden when they only view it (the edit form asks
// the same question as the save).
func (d *DB) ManagedVehicle(ctx context.Context, a *Actor, id int64) (Vehicle, error) {
	return d.managedVehicle(ctx, d.r, a, id)
}

// managedVehicle loads a vehicle the actor must manage: ENotFound when
// they do not see it, EForbidden when they only view it.
func (d *DB) managedVehicle(ctx context.Context, q queryer, a *Actor, id int64) (Vehicle, error) {
	v, err := d.vehicle(ctx, q, a, id)
	if err != nil {
		return v, err
	}
	if v.Level != Manage {
		return v, Errorf(EForbidden, "You can view %s but not manage it. Ask for manage access to change it.", v.Name)
	}
	return v, nil
}

// VehicleInput is what creating or editing a vehicle takes.
type VehicleInput struct {
	Name       string
	Plate      string
	VIN        string
	GroupID    int64
	OdometerKm int64
}

// Clean trims and normalises the input (plates and VINs upper case,
// spaces removed from VINs).
func (in *VehicleInput) Clean() {
	in.Name = squeeze(in.Name)
	in.Plate = strings.ToUpper(squeeze(in.Plate))
	in.VIN = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.VIN), " ", ""))
}

// Problems returns a message per field that is not acceptable.
func (in VehicleInput) Problems() map[string]string {
	p := map[string]string{}
	switch {
	case in.Name == "":
		p["name"] = "Enter a name, e.g. \"Van 12\"."
	case len([]rune(in.Name)) > VehicleNameMax:
		p["name"] = "A name has at most " + strconv.Itoa(VehicleNameMax) + " characters."
	case textProblem(in.Name) != "":
		p["name"] = textProblem(in.Name)
	}
	if len([]rune(in.Plate)) > VehiclePlateMax {
		p["plate"] = "A plate has at most " + strconv.Itoa(VehiclePlateMax) + " characters."
	} else if m := textProblem(in.Plate); m != "" {
		p["plate"] = m
	}
	if len(in.VIN) > VehicleVINMax {
		p["vin"] = "A VIN has at most 17 characters."
	} else {
		for _, r := range in.VIN {
			if r > unicode.MaxASCII || !(unicode.IsDigit(r) || unicode.IsUpper(r)) {
				p["vin"] = "A VIN has only letters and digits."
				break
			}
		}
	}
	if in.OdometerKm < 0 || in.OdometerKm > OdometerMax {
		p["odometer_km"] = "Enter the odometer in whole kilometres, from 0 to 9,999,999."
	}
	return p
}

func (in VehicleInput) firstProblem() error {
	for _, f := range []string{"name", "plate", "vin", "odometer_km"} {
		if msg, ok := in.Problems()[f]; ok {
			return FieldError(f, "%s", msg)
		}
	}
	return nil
}

func vinTaken(err error) error {
	if isUnique(err) {
		return &Error{Code: EConflict, Field: "vin", Message: "Another vehicle of this account has this VIN."}
	}
	return err
}

// CreateVehicle adds a vehicle, within the subscription's paid vehicles,
// to a group the actor manages (or to no group, with all-vehicles access).
func (d *DB) CreateVehicle(ctx context.Context, a *Actor, in VehicleInput) (int64, error) {
	in.Clean()
	if err := in.firstProblem(); err != nil {
		return 0, err
	}
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		if err := d.checkTargetGroup(ctx, tx, a, "group_id", in.GroupID,
			"Choose a group you manage: a vehicle you create must stay within your vehicle access."); err != nil {
			return err
		}
		if err := checkVehicleLimit(ctx, tx, a.AccountID, 1); err != nil {
			return err
		}
		now := d.stamp()
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO vehicles (account_id, group_id, name, plate, vin, odometer_km, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)`, a.AccountID, nullID(in.GroupID), in.Name, in.Plate, in.VIN, in.OdometerKm, now, now)
		if err != nil {
			return vinTaken(err)
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "vehicle.create", Target: in.Name, Summary: "Vehicle created", After: in, Vehicle: id}); err != nil {
			return err
		}
		return d.mailPaidVehicles(ctx, tx, a)
	})
	return id, err
}

// UpdateVehicle changes a vehicle the actor manages, from the version the
// form started from (an older one is a StaleError). Moving it to another
// group needs manage access to that group too, so nobody moves a vehicle
// out of their own reach by accident.
func (d *DB) UpdateVehicle(ctx context.Context, a *Actor, id int64, version int, in VehicleInput) error {
	in.Clean()
	if err := in.firstProblem(); err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		v, err := d.managedVehicle(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := d.checkVersion(ctx, tx, a, "vehicles", id, v.Version, version); err != nil {
			return err
		}
		if in.GroupID != v.GroupID {
			if err := d.checkTargetGroup(ctx, tx, a, "group_id", in.GroupID,
				"Only members with access to all vehicles can take a vehicle out of every group."); err != nil {
				return err
			}
		}
		before := VehicleInput{Name: v.Name, Plate: v.Plate, VIN: v.VIN, GroupID: v.GroupID, OdometerKm: v.OdometerKm}
		if before == in {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE vehicles SET name = ?, plate = ?, vin = ?, group_id = ?, odometer_km = ?, updated_at = ?, `+setVersioned+`
			WHERE id = ? AND account_id = ? AND version = ?`,
			append(append([]any{in.Name, in.Plate, in.VIN, nullID(in.GroupID), in.OdometerKm, d.stamp()}, d.versionArgs(a)...), id, a.AccountID, v.Version)...)
		if err != nil {
			return vinTaken(err)
		}
		if err := d.updated(ctx, tx, a, res, "vehicles", id); err != nil {
			return err
		}
		summary := "Vehicle edited"
		if in.GroupID != v.GroupID {
			summary = "Vehicle edited and moved to another group"
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "vehicle.update", Target: in.Name, Summary: summary, Before: before, After: in, Vehicle: id}); err != nil {
			return err
		}
		return d.mailVehicle(ctx, tx, a, id, "Vehicle "+v.Name+" was edited", "edited "+v.Name+".\n\n"+vehicleChanges(before, in))
	})
}

// ArchiveVehicle archives a vehicle the actor manages: it stays visible
// (under "archived") and no longer counts against the paid vehicles.
func (d *DB) ArchiveVehicle(ctx context.Context, a *Actor, id int64) error {
	return d.setVehicleStatus(ctx, a, id, "archived")
}

// RestoreVehicle makes an archived vehicle active again, within the
// subscription's paid vehicles.
func (d *DB) RestoreVehicle(ctx context.Context, a *Actor, id int64) error {
	return d.setVehicleStatus(ctx, a, id, "active")
}

func (d *DB) setVehicleStatus(ctx context.Context, a *Actor, id int64, status string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		v, err := d.managedVehicle(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if v.Status == status {
			return nil
		}
		if status == "active" {
			if err := checkVehicleLimit(ctx, tx, a.AccountID, 1); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE vehicles SET status = ?, updated_at = ?, `+setVersioned+` WHERE id = ? AND account_id = ?`,
			append(append([]any{status, d.stamp()}, d.versionArgs(a)...), id, a.AccountID)...); err != nil {
			return err
		}
		kind, summary := "vehicle.archive", "Vehicle archived"
		if status == "active" {
			kind, summary = "vehicle.restore", "Vehicle restored"
		}
		if err := d.audit(ctx, tx, a, Event{Kind: kind, Target: v.Name, Summary: summary, Vehicle: id,
			Before: map[string]string{"status": v.Status}, After: map[string]string{"status": status}}); err != nil {
			return err
		}
		what := "archived " + v.Name + ". It stays visible under archived vehicles."
		if status == "active" {
			what = "restored " + v.Name + " from the archive."
			if err := d.mailPaidVehicles(ctx, tx, a); err != nil {
				return err
			}
		}
		return d.mailVehicle(ctx, tx, a, id, "Vehicle "+v.Name+" was "+map[string]string{"archived": "archived", "active": "restored"}[status], what)
	})
}
