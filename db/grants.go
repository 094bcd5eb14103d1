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

// Vehicle access of members: "all vehicles" (members.vehicle_access) or
// any mix of grants on groups and single vehicles, each view or manage,
// each with an optional end. The no-escalation rule for access: whoever edits it can give
// only what they hold themselves (level and end included), and cannot act
// on themselves, the Owner or a member with a wider role (CheckReach).

// Grant is one grant of a member.
type Grant struct {
	Kind     string // "vehicle" or "group"
	TargetID int64
	Name     string // vehicle name, or group path as the viewer sees it
	Level    Level
	EndsAt   *time.Time // the moment it stops applying; nil: no end
	Active   bool       // false once ended
}

// LastDay is the last day (UTC) on which a grant with an end applies
// (pages show it in the account's time zone).
func (g Grant) LastDay() string { return lastDay(g.EndsAt) }

func lastDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Add(-time.Second).UTC().Format(time.DateOnly)
}

// EndOfDay turns a last day "2006-01-02" into the moment a grant stops
// applying: the start of the next day, UTC.
func EndOfDay(day time.Time) time.Time { return EndOfDayIn(day, time.UTC) }

// EndOfDayIn is EndOfDay in a time zone: the next day's midnight there.
func EndOfDayIn(day time.Time, loc *time.Location) time.Time {
	y, m, dd := day.Date()
	return time.Date(y, m, dd+1, 0, 0, 0, 0, loc).UTC()
}

func parseEnds(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s.String)
	if err != nil {
		return nil
	}
	return &t
}

// MemberAccess is a member's vehicle access as the actor may see it.
type MemberAccess struct {
	MemberID int64
	Name     string
	Email    string
	RoleName string
	Status   string
	IsOwner  bool
	Mode     string  // "all" or "selected"
	Grants   []Grant // grants on what the actor sees
	Hidden   int     // grants on vehicles or groups the actor does not see
}

// MemberAccess reads a member's vehicle access mode and grants.
func (d *DB) MemberAccess(ctx context.Context, a *Actor, memberID int64) (MemberAccess, error) {
	var m MemberAccess
	var first, last string
	err := d.r.QueryRowContext(ctx, `SELECT m.id, u.first_name, u.last_name, u.email, r.name, m.status, m.id = ac.owner_member_id, m.vehicle_access
		  FROM members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id JOIN accounts ac ON ac.id = m.account_id
		 WHERE m.id = ? AND m.account_id = ?`, memberID, a.AccountID).Scan(&m.MemberID, &first, &last, &m.Email, &m.RoleName, &m.Status, &m.IsOwner, &m.Mode)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("Member")
	}
	if err != nil {
		return m, err
	}
	m.Name = displayName(first, last, m.Email)
	if m.IsOwner {
		m.Mode = "all"
	}
	paths, err := d.groupPaths(ctx, a)
	if err != nil {
		return m, err
	}
	sc := d.scopeOf(a)
	now := d.nowKey()
	rows, err := d.r.QueryContext(ctx, sc.with()+`
		SELECT 'vehicle', g.vehicle_id, v.name, g.level, g.ends_at, g.vehicle_id IN (SELECT vehicle_id FROM visible)
		  FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
		 WHERE g.member_id = ? AND v.account_id = ?
		UNION ALL
		SELECT 'group', g.group_id, '', g.level, g.ends_at, 0
		  FROM member_group_grants g JOIN vehicle_groups vg ON vg.id = g.group_id
		 WHERE g.member_id = ? AND vg.account_id = ?
		ORDER BY 1 DESC, 3, 2`, sc.argsWith(memberID, a.AccountID, memberID, a.AccountID)...)
	if err != nil {
		return m, err
	}
	defer rows.Close()
	for rows.Next() {
		var g Grant
		var level string
		var ends sql.NullString
		var seen bool
		if err := rows.Scan(&g.Kind, &g.TargetID, &g.Name, &level, &ends, &seen); err != nil {
			return m, err
		}
		g.Level, _ = ParseLevel(level)
		g.EndsAt = parseEnds(ends)
		g.Active = !ends.Valid || ends.String > now
		if g.Kind == "group" {
			g.Name, seen = paths[g.TargetID]
		}
		if !seen {
			m.Hidden++
			continue
		}
		m.Grants = append(m.Grants, g)
	}
	return m, rows.Err()
}

// groupPaths maps the groups the actor sees to their paths.
func (d *DB) groupPaths(ctx context.Context, a *Actor) (map[int64]string, error) {
	gs, err := d.Groups(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(gs))
	for _, g := range gs {
		out[g.ID] = g.Path
	}
	return out, nil
}

// GrantsEndingSoon lists a member's grants (that the actor sees) which are
// still in force and end within the given time from now.
func (d *DB) GrantsEndingSoon(ctx context.Context, a *Actor, memberID int64, within time.Duration) ([]Grant, error) {
	m, err := d.MemberAccess(ctx, a, memberID)
	if err != nil {
		return nil, err
	}
	return d.EndingSoon(m, within), nil
}

// EndingSoon is GrantsEndingSoon of a member's access already read (a page
// that shows both reads it once).
func (d *DB) EndingSoon(m MemberAccess, within time.Duration) []Grant {
	limit := d.Now().Add(within)
	var out []Grant
	for _, g := range m.Grants {
		if g.Active && g.EndsAt != nil && !g.EndsAt.After(limit) {
			out = append(out, g)
		}
	}
	return out
}

// SetAccessMode switches a member between all vehicles and selected ones.
// Only members who have all vehicles themselves may switch it, either way.
func (d *DB) SetAccessMode(ctx context.Context, a *Actor, memberID int64, mode string) error {
	if mode != "all" && mode != "selected" {
		return FieldError("mode", "Choose all vehicles or selected vehicles.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		if a.VehicleAccess != "all" {
			return &Error{Code: EForbidden, Field: "mode", Message: "Only members with access to all vehicles can give or take away access to all vehicles."}
		}
		var before, target string
		if err := tx.QueryRowContext(ctx, `SELECT m.vehicle_access, u.email FROM members m JOIN users u ON u.id = m.user_id WHERE m.id = ? AND m.account_id = ?`,
			memberID, a.AccountID).Scan(&before, &target); err != nil {
			return err
		}
		if before == mode {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET vehicle_access = ?, `+setVersioned+` WHERE id = ? AND account_id = ?`,
			append(append([]any{mode}, d.versionArgs(a)...), memberID, a.AccountID)...); err != nil {
			return err
		}
		summary := "Vehicle access set to all vehicles"
		if mode == "selected" {
			summary = "Vehicle access set to selected vehicles and groups"
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "access.mode", Target: target, Summary: summary,
			Before: map[string]string{"vehicle_access": before}, After: map[string]string{"vehicle_access": mode}}); err != nil {
			return err
		}
		what := "You now see all vehicles of the account."
		if mode == "selected" {
			what = "You now see only the vehicles and groups given to you, no longer all vehicles."
		}
		return d.mailAccessChanged(ctx, tx, a, memberID, what, "", 0)
	})
}

// GrantInput is one grant to give or change.
type GrantInput struct {
	Kind     string // "vehicle" or "group"
	TargetID int64
	Level    Level
	EndsAt   *time.Time // nil: no end
}

// holding is what the actor holds over a grant's target: the level, and
// until when they hold at least a given level.
type holding struct {
	name      string
	level     Level
	unlimited bool   // holds it without end
	until     string // otherwise, the latest end among their grants
}

// holds reads what the actor holds over a vehicle or a group, and until
// when at level lvl. A target the actor does not see is ENotFound.
func (d *DB) holds(ctx context.Context, q queryer, a *Actor, kind string, id int64, lvl Level) (holding, error) {
	var h holding
	now := d.nowKey()
	all := a.VehicleAccess == "all"
	var err error
	switch kind {
	case "vehicle":
		var v Vehicle
		if v, err = d.vehicle(ctx, q, a, id); err != nil {
			return h, err
		}
		h.name, h.level = v.Name, v.Level
	case "group":
		var g groupRow
		if g, err = findGroup(ctx, q, a.AccountID, id); err != nil {
			return h, err
		}
		if h.level, err = groupLevel(ctx, q, a.AccountID, a.MemberID, all, now, id); err != nil {
			return h, err
		}
		if h.level == NoAccess {
			ok, err := d.groupVisible(ctx, q, a, id)
			if err != nil {
				return h, err
			}
			if !ok {
				return h, notFound("Group")
			}
		}
		paths, err := d.groupPaths(ctx, a)
		if err != nil {
			return h, err
		}
		h.name = paths[g.ID]
	default:
		return h, FieldError("kind", "Choose a vehicle or a group.")
	}
	if all {
		h.unlimited = true
		return h, nil
	}
	// The grants that give the actor at least lvl over the target: on the
	// group and its ancestors, and (for a vehicle) on the vehicle itself.
	seed := `SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?`
	direct := `SELECT NULL WHERE 1 = 0`
	args := []any{id, a.AccountID}
	if kind == "vehicle" {
		seed = `SELECT group_id FROM vehicles WHERE id = ? AND account_id = ? AND group_id IS NOT NULL`
		direct = `SELECT ends_at FROM member_vehicle_grants WHERE member_id = ? AND vehicle_id = ? AND ` + levelSQL("level") + ` >= ? AND (ends_at IS NULL OR ends_at > ?)`
	}
	args = append(args, a.MemberID, int(lvl), now)
	if kind == "vehicle" {
		args = append(args, a.MemberID, id, int(lvl), now)
	}
	var unlimited sql.NullBool
	var until sql.NullString
	err = q.QueryRowContext(ctx, `WITH RECURSIVE up(group_id) AS (
			`+seed+`
			UNION SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.group_id WHERE g.parent_id IS NOT NULL)
		SELECT MAX(CASE WHEN ends_at IS NULL THEN 1 ELSE 0 END), MAX(ends_at) FROM (
			SELECT ends_at FROM member_group_grants WHERE member_id = ? AND group_id IN (SELECT group_id FROM up)
			   AND `+levelSQL("level")+` >= ? AND (ends_at IS NULL OR ends_at > ?)
			UNION ALL `+direct+`) AS held`, args...).Scan(&unlimited, &until)
	if err != nil {
		return h, err
	}
	h.unlimited = unlimited.Valid && unlimited.Bool
	h.until = until.String
	return h, nil
}

// checkGivable refuses a grant the actor may not give: a level above their
// own, or an end later than their own access.
func (d *DB) checkGivable(ctx context.Context, q queryer, a *Actor, in GrantInput) (holding, error) {
	h, err := d.holds(ctx, q, a, in.Kind, in.TargetID, in.Level)
	if err != nil {
		return h, err
	}
	if h.level < in.Level {
		if h.level == NoAccess {
			return h, &Error{Code: EForbidden, Field: "level", Message: "You cannot give access to " + h.name + ": your own group grants do not cover it."}
		}
		return h, &Error{Code: EForbidden, Field: "level", Message: "You can give only view access to " + h.name + ", since that is what you hold."}
	}
	if !h.unlimited && (in.EndsAt == nil || timeKey(*in.EndsAt) > h.until) {
		t, _ := time.Parse(time.RFC3339, h.until)
		return h, &Error{Code: EForbidden, Field: "ends_on", Message: "Your own access to " + h.name + " ends after " + lastDay(&t) +
			"; give it until then at the latest."}
	}
	return h, nil
}

// Grant gives a member access to a vehicle or a group (or changes the
// level or end of an existing grant).
func (d *DB) Grant(ctx context.Context, a *Actor, memberID int64, in GrantInput) error {
	if in.Level != View && in.Level != Manage {
		return FieldError("level", "Choose view or manage.")
	}
	if in.EndsAt != nil && !in.EndsAt.After(d.Now()) {
		return FieldError("ends_on", "The last day must be today or later.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		grantee, err := member(ctx, tx, a.AccountID, memberID)
		if err != nil {
			return err
		}
		if err := d.checkAccessWithin(ctx, tx, a, memberID, grantee.Name()); err != nil {
			return err
		}
		h, err := d.checkGivable(ctx, tx, a, in)
		if err != nil {
			return err
		}
		table, col := grantTable(in.Kind)
		var ends any
		if in.EndsAt != nil {
			ends = timeKey(*in.EndsAt)
		}
		var beforeLevel, beforeEnds sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT level, ends_at FROM `+table+` WHERE member_id = ? AND `+col+` = ?`, memberID, in.TargetID).
			Scan(&beforeLevel, &beforeEnds)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (member_id, `+col+`, level, ends_at, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (member_id, `+col+`) DO UPDATE SET level = excluded.level, ends_at = excluded.ends_at`,
			memberID, in.TargetID, in.Level.String(), ends, d.stamp()); err != nil {
			return err
		}
		target, err := memberEmail(ctx, tx, memberID)
		if err != nil {
			return err
		}
		after := map[string]any{in.Kind: h.name, "level": in.Level.String(), "last_day": lastDay(in.EndsAt)}
		var before any
		summary := "Access given: " + in.Kind + " " + h.name + ", " + in.Level.String()
		if beforeLevel.Valid {
			before = map[string]any{in.Kind: h.name, "level": beforeLevel.String, "last_day": lastDay(parseEnds(beforeEnds))}
			summary = "Access changed: " + in.Kind + " " + h.name + ", " + in.Level.String()
		}
		if in.EndsAt != nil {
			summary += " until " + lastDay(in.EndsAt)
		}
		e := Event{Kind: "access.grant", Target: target, Summary: summary, Before: before, After: after}
		e.about(in.Kind, in.TargetID)
		if err := d.audit(ctx, tx, a, e); err != nil {
			return err
		}
		what := fmt.Sprintf("%s access to the %s %s", in.Level.String(), in.Kind, h.name)
		if in.EndsAt != nil {
			what += ", until " + lastDay(in.EndsAt) + " (included)"
		}
		if beforeLevel.Valid {
			what = "Changed to " + what + " (was " + beforeLevel.String + ")."
		} else {
			what = "Given " + what + "."
		}
		return d.mailAccessChanged(ctx, tx, a, memberID, what, in.Kind, in.TargetID)
	})
}

// Revoke takes a grant away. The actor must be able to give that grant.
func (d *DB) Revoke(ctx context.Context, a *Actor, memberID int64, kind string, targetID int64) error {
	table, col := grantTable(kind)
	if table == "" {
		return FieldError("kind", "Choose a vehicle or a group.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		var level string
		var ends sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT level, ends_at FROM `+table+` WHERE member_id = ? AND `+col+` = ?`, memberID, targetID).Scan(&level, &ends)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Grant")
		}
		if err != nil {
			return err
		}
		lvl, _ := ParseLevel(level)
		h, err := d.holds(ctx, tx, a, kind, targetID, lvl)
		if err != nil {
			return err
		}
		if h.level < lvl {
			return Errorf(EForbidden, "You cannot take away %s access to %s: you do not hold it yourself.", level, h.name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE member_id = ? AND `+col+` = ?`, memberID, targetID); err != nil {
			return err
		}
		target, err := memberEmail(ctx, tx, memberID)
		if err != nil {
			return err
		}
		e := Event{Kind: "access.revoke", Target: target, Summary: "Access taken away: " + kind + " " + h.name,
			Before: map[string]any{kind: h.name, "level": level, "last_day": lastDay(parseEnds(ends))}}
		e.about(kind, targetID)
		if err := d.audit(ctx, tx, a, e); err != nil {
			return err
		}
		return d.mailAccessChanged(ctx, tx, a, memberID, fmt.Sprintf("Taken away: %s access to the %s %s.", level, kind, h.name), kind, targetID)
	})
}

func grantTable(kind string) (table, col string) {
	switch kind {
	case "vehicle":
		return "member_vehicle_grants", "vehicle_id"
	case "group":
		return "member_group_grants", "group_id"
	}
	return "", ""
}

func memberEmail(ctx context.Context, q queryer, memberID int64) (string, error) {
	var e string
	err := q.QueryRowContext(ctx, `SELECT u.email FROM members m JOIN users u ON u.id = m.user_id WHERE m.id = ?`, memberID).Scan(&e)
	return e, err
}

// Reason is why a member sees a vehicle.
type Reason struct {
	Kind      string // "all", "group" or "direct"
	GroupName string // for "group": the granted group, as the viewer sees it
	Level     Level
	EndsAt    *time.Time
}

// String reads e.g. "all vehicles", "group Chicago, manage", "direct, view
// until 2026-03-06".
func (r Reason) String() string {
	s := ""
	switch r.Kind {
	case "all":
		return "all vehicles"
	case "group":
		s = "group " + r.GroupName + ", " + r.Level.String()
	default:
		s = "direct, " + r.Level.String()
	}
	if r.EndsAt != nil {
		s += " until " + lastDay(r.EndsAt)
	}
	return s
}

// ExplainedVehicle is a vehicle a member sees, with why.
type ExplainedVehicle struct {
	Vehicle
	Reasons []Reason
}

// MemberVehicles answers "what can this person see?": a page of the
// vehicles in the member's scope (those the actor sees too), with the
// member's level and the reasons.
func (d *DB) MemberVehicles(ctx context.Context, a *Actor, memberID int64, f VehicleFilter) ([]ExplainedVehicle, int, error) {
	now := d.nowKey()
	ms, err := memberScopeOf(ctx, d.r, a.AccountID, memberID, now)
	if err != nil {
		return nil, 0, err
	}
	m := ms.as("m_")
	sc := d.scopeOf(a)
	from, level := m.vehicles()
	from = strings.ReplaceAll(from, "visible s", "m_visible s")
	ctes, where, cteArgs, condArgs, _ := d.vehicleWhere(a, f, "v.status")
	where = "v.account_id = ? AND " + where
	args := append(append(append([]any{}, cteArgs...), a.AccountID), condArgs...)
	ctes = append([]string{m.cte}, ctes...)
	all := append(sc.argsWith(m.args...), args...)
	cond := sc.sees() + " AND " + where
	var out []ExplainedVehicle
	total, err := readPage(ctx, d.r, sc.with(ctes...)+`SELECT `+strings.Replace(vehicleColumns, "LEVEL", level, 1)+`, COUNT(*) OVER ()
		  FROM `+from+` LEFT JOIN vehicle_groups g ON g.id = v.group_id
		 WHERE `+cond+` ORDER BY v.name, v.id LIMIT ? OFFSET ?`, all, pageOf(f.Page, f.PerPage, 25),
		func(rows *sql.Rows, total *int) error {
			v, err := scanVehicle(rows, total)
			if err != nil {
				return err
			}
			out = append(out, ExplainedVehicle{Vehicle: v})
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("member vehicles: %w", err)
	}
	reasons, err := d.reasons(ctx, a, []int64{memberID}, vehicleIDs(explainedVehicles(out)))
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Reasons = reasons[memberID][out[i].ID]
	}
	return out, total, nil
}

func explainedVehicles(es []ExplainedVehicle) []Vehicle {
	out := make([]Vehicle, len(es))
	for i, e := range es {
		out[i] = e.Vehicle
	}
	return out
}

// reasons explains, for members and vehicles of the actor's account, why
// each member sees each vehicle (only the pairs where they do).
func (d *DB) reasons(ctx context.Context, a *Actor, members, vehicles []int64) (map[int64]map[int64][]Reason, error) {
	out := map[int64]map[int64][]Reason{}
	if len(members) == 0 || len(vehicles) == 0 {
		return out, nil
	}
	add := func(m, v int64, r Reason) {
		if out[m] == nil {
			out[m] = map[int64][]Reason{}
		}
		out[m][v] = append(out[m][v], r)
	}
	paths, err := d.groupPaths(ctx, a)
	if err != nil {
		return nil, err
	}
	now := d.nowKey()
	var args []any
	args = append(args, a.AccountID)
	for _, id := range members {
		args = append(args, id)
	}
	// Members with all vehicles (and the Owner) see every vehicle for that reason alone.
	rows, err := d.r.QueryContext(ctx, `SELECT m.id FROM members m JOIN accounts ac ON ac.id = m.account_id
		WHERE m.account_id = ? AND m.id IN (`+marks(len(members))+`) AND (m.vehicle_access = 'all' OR m.id = ac.owner_member_id)`, args...)
	if err != nil {
		return nil, err
	}
	allMembers := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		allMembers[id] = true
		for _, v := range vehicles {
			add(id, v, Reason{Kind: "all", Level: Manage})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vargs := make([]any, 0, len(vehicles)+len(members)*2+4)
	for _, id := range vehicles {
		vargs = append(vargs, id)
	}
	vargs = append(vargs, a.AccountID)
	margs := make([]any, 0, len(members))
	for _, id := range members {
		margs = append(margs, id)
	}
	q := `WITH RECURSIVE up(vehicle_id, group_id) AS (
			SELECT id, group_id FROM vehicles WHERE id IN (` + marks(len(vehicles)) + `) AND account_id = ? AND group_id IS NOT NULL
			UNION SELECT up.vehicle_id, g.parent_id FROM up JOIN vehicle_groups g ON g.id = up.group_id WHERE g.parent_id IS NOT NULL)
		SELECT gg.member_id, up.vehicle_id, gg.group_id, gg.level, gg.ends_at FROM up JOIN member_group_grants gg ON gg.group_id = up.group_id
		 WHERE gg.member_id IN (` + marks(len(members)) + `) AND (gg.ends_at IS NULL OR gg.ends_at > ?)
		UNION ALL
		SELECT vg.member_id, vg.vehicle_id, 0, vg.level, vg.ends_at FROM member_vehicle_grants vg
		 WHERE vg.vehicle_id IN (` + marks(len(vehicles)) + `) AND vg.member_id IN (` + marks(len(members)) + `) AND (vg.ends_at IS NULL OR vg.ends_at > ?)
		ORDER BY 1, 2, 3 DESC`
	qargs := append(append(append([]any{}, vargs...), margs...), now)
	qargs = append(append(append(qargs, vargs[:len(vehicles)]...), margs...), now)
	rows, err = d.r.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m, v, g int64
		var level string
		var ends sql.NullString
		if err := rows.Scan(&m, &v, &g, &level, &ends); err != nil {
			return nil, err
		}
		if allMembers[m] {
			continue // their grants add nothing while they have all vehicles
		}
		r := Reason{Kind: "direct", EndsAt: parseEnds(ends)}
		r.Level, _ = ParseLevel(level)
		if g != 0 {
			r.Kind = "group"
			if p, ok := paths[g]; ok {
				r.GroupName = p
			} else {
				r.GroupName = "(a group outside your access)"
			}
		}
		add(m, v, r)
	}
	return out, rows.Err()
}

// VehicleMember is a member who sees a vehicle, with why.
type VehicleMember struct {
	MemberID int64
	Name     string
	Email    string
	RoleName string
	Status   string
	Reasons  []Reason
}

// Level is the member's highest level on the vehicle.
func (m VehicleMember) Level() Level {
	l := NoAccess
	for _, r := range m.Reasons {
		l = max(l, r.Level)
	}
	return l
}

// VehicleMembers answers "who can see this vehicle?": a page of the
// members (not deactivated, whose role may view vehicles) who see a
// vehicle the actor sees, with the reasons, by name.
func (d *DB) VehicleMembers(ctx context.Context, a *Actor, vehicleID int64, page, per int) ([]VehicleMember, int, error) {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return nil, 0, err
	}
	now := d.nowKey()
	who := `WITH RECURSIVE up(group_id) AS (
			SELECT group_id FROM vehicles WHERE id = ? AND group_id IS NOT NULL
			UNION SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.group_id WHERE g.parent_id IS NOT NULL),
		granted(member_id) AS (
			SELECT member_id FROM member_group_grants WHERE group_id IN (SELECT group_id FROM up) AND (ends_at IS NULL OR ends_at > ?)
			UNION SELECT member_id FROM member_vehicle_grants WHERE vehicle_id = ? AND (ends_at IS NULL OR ends_at > ?)),
		who(member_id) AS (
			SELECT m.id FROM members m JOIN accounts ac ON ac.id = m.account_id
			 WHERE m.account_id = ? AND m.status != 'deactivated'
			   AND (m.id = ac.owner_member_id OR EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = m.role_id AND rp.permission = ?))
			   AND (m.id = ac.owner_member_id OR m.vehicle_access = 'all' OR m.id IN (SELECT member_id FROM granted)))
		`
	args := []any{vehicleID, now, vehicleID, now, a.AccountID, string(perm.VehiclesView)}
	var out []VehicleMember
	var ids []int64
	total, err := readPage(ctx, d.r, who+`SELECT m.id, u.first_name, u.last_name, u.email, r.name, m.status, COUNT(*) OVER ()
		  FROM who JOIN members m ON m.id = who.member_id JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id
		 ORDER BY m.sort_name, m.id LIMIT ? OFFSET ?`, args, pageOf(page, per, 25),
		func(rows *sql.Rows, total *int) error {
			var m VehicleMember
			var first, last string
			if err := rows.Scan(&m.MemberID, &first, &last, &m.Email, &m.RoleName, &m.Status, total); err != nil {
				return err
			}
			m.Name = displayName(first, last, m.Email)
			out = append(out, m)
			ids = append(ids, m.MemberID)
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("vehicle members: %w", err)
	}
	reasons, err := d.reasons(ctx, a, ids, []int64{vehicleID})
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Reasons = reasons[out[i].MemberID][vehicleID]
	}
	return out, total, nil
}
