package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// The vehicle-scope rule (see Rules of access in doc.go), in one place. A member sees a
// vehicle when they have all-vehicles access, a direct grant on it, or a
// grant on its group or any ancestor group; a grant stops applying at its
// ends_at. Every query of vehicles and of what derives from them (groups,
// clients, pairing, counts) starts with the WITH clause built here, so
// there is exactly one definition of "visible".

// Level is how far a member's access to a vehicle or group goes.
type Level int

const (
	NoAccess Level = iota // not visible at all
	View                  // read only
	Manage                // edit, archive, record and change trips
)

// String is the level as stored and shown: "view" or "manage".
func (l Level) String() string {
	switch l {
	case View:
		return "view"
	case Manage:
		return "manage"
	}
	return "none"
}

// ParseLevel reads "view" or "manage".
func ParseLevel(s string) (Level, bool) {
	switch s {
	case "view":
		return View, true
	case "manage":
		return Manage, true
	}
	return NoAccess, false
}

// levelSQL turns a grant's level column into the Level number.
func levelSQL(col string) string {
	return "(CASE " + col + " WHEN 'manage' THEN 2 ELSE 1 END)"
}

// timeKey formats t the way ends_at is stored: UTC, whole seconds, so
// that text comparison orders moments correctly.
func timeKey(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (d *DB) nowKey() string { return timeKey(d.Now()) }

// scope is the WITH clause (without the keyword) that defines, for one
// member at one moment:
//
//	scope_covered(group_id, lvl)  groups covered by the member's group
//	                              grants (or every group, for all-vehicles
//	                              access), with the highest level: every
//	                              vehicle in them is visible;
//	scope_direct(vehicle_id, lvl) the member's direct grants in force;
//	visible(vehicle_id, lvl)      vehicles the member sees, with the level;
//	scope_at(member_id, now)      the member and the moment (one row), for
//	                              conditions that look one vehicle up in
//	                              vehicle_access (seesVehicle).
//
// args are its parameters; they come first in a query's argument list.
type scope struct {
	cte  string
	args []any
	all  bool
	// member and now are the member and moment of a scope without
	// all-vehicles access, for queries that read vehicle_access directly.
	member int64
	now    string
	prefix string // of the renamed tables (as)
}

// vehicles is the FROM clause of a query over the vehicles v the scope
// sees, and the SQL of the level on v. With all-vehicles access it is the
// vehicles table itself (the query's "v.account_id = ?" is the whole
// scope), so the list runs straight off its index. Otherwise the query is
// driven from the visible set (CROSS JOIN fixes that order in SQLite):
// a member scoped to one group of a large account then reads only that
// group's vehicles, however selective a search is.
func (s scope) vehicles() (from, level string) {
	if s.all {
		return "vehicles v", "2"
	}
	return "visible s CROSS JOIN vehicles v ON v.id = s.vehicle_id", "s.lvl"
}

// sees is a condition that v is a vehicle the scope sees (for queries
// driven by another scope's vehicles).
func (s scope) sees() string { return s.seesVehicle("v.id") }

// seesVehicle is a condition that the vehicle col (of the scope's
// account) is one the scope sees: one look-up in vehicle_access per row,
// never the whole visible set.
func (s scope) seesVehicle(col string) string {
	if s.all {
		return "1 = 1"
	}
	at := s.prefix + "scope_at"
	return `EXISTS (SELECT 1 FROM vehicle_access x WHERE x.member_id = (SELECT member_id FROM ` + at + `) AND x.vehicle_id = ` + col +
		` AND (x.until IS NULL OR x.until > (SELECT now FROM ` + at + `)))`
}

// with starts a statement with the scope and any further CTEs.
func (s scope) with(more ...string) string {
	return "WITH RECURSIVE " + strings.Join(append([]string{s.cte}, more...), ",\n") + "\n"
}

// argsWith returns the scope's arguments followed by the query's.
func (s scope) argsWith(more ...any) []any {
	out := make([]any, 0, len(s.args)+len(more))
	return append(append(out, s.args...), more...)
}

// as renames the scope's tables with a prefix, so that two scopes (the
// actor's and another member's) can sit in one statement.
func (s scope) as(prefix string) scope {
	r := strings.NewReplacer("scope_walk", prefix+"scope_walk", "scope_covered", prefix+"scope_covered",
		"scope_direct", prefix+"scope_direct", "visible(", prefix+"visible(", "scope_at", prefix+"scope_at")
	return scope{cte: r.Replace(s.cte), args: s.args, all: s.all, member: s.member, now: s.now, prefix: prefix + s.prefix}
}

// memberScope builds the scope of a member. all is true for the Owner and
// for members with all-vehicles access.
//
// visible reads the maintained vehicle_access table (see migration 0018):
// one range of its primary key per member, ended grants left out by their
// until, the highest level per vehicle. scope_covered still walks the
// group tree from the member's group grants (a handful of groups, never
// the vehicles), for the questions about groups.
func memberScope(accountID, memberID int64, all bool, now string) scope {
	if all {
		return scope{cte: `scope_at(member_id, now) AS (SELECT ?, ?),
scope_covered(group_id, lvl) AS (SELECT id, 2 FROM vehicle_groups WHERE account_id = ?),
scope_direct(vehicle_id, lvl) AS (SELECT 0, 0 WHERE 1 = 0),
visible(vehicle_id, lvl) AS (SELECT id, 2 FROM vehicles WHERE account_id = ?)`,
			args: []any{memberID, now, accountID, accountID}, all: true, member: memberID, now: now}
	}
	// scope_walk goes down the tree from each granted group; the grant
	// tables' member_id is of this account (a trigger guarantees that
	// their targets are too).
	return scope{cte: `scope_at(member_id, now) AS (SELECT ?, ?),
scope_walk(group_id, lvl) AS (
	SELECT group_id, ` + levelSQL("level") + ` FROM member_group_grants
	 WHERE member_id = ? AND (ends_at IS NULL OR ends_at > ?)
	UNION
	SELECT g.id, w.lvl FROM scope_walk w JOIN vehicle_groups g ON g.parent_id = w.group_id
),
scope_covered(group_id, lvl) AS (SELECT group_id, MAX(lvl) FROM scope_walk GROUP BY group_id),
scope_direct(vehicle_id, lvl) AS (
	SELECT vehicle_id, ` + levelSQL("level") + ` FROM member_vehicle_grants
	 WHERE member_id = ? AND (ends_at IS NULL OR ends_at > ?)
),
visible(vehicle_id, lvl) AS (
	SELECT vehicle_id, MAX(lvl) FROM vehicle_access
	 WHERE member_id = ? AND (until IS NULL OR until > ?)
	 GROUP BY vehicle_id
)`, args: []any{memberID, now, memberID, now, memberID, now, memberID, now}, member: memberID, now: now}
}

// scopeOf is the actor's scope at this moment.
func (d *DB) scopeOf(a *Actor) scope {
	return memberScope(a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey())
}

// VehicleLevel is the actor's level on one vehicle. A vehicle of another
// account, or one outside the actor's scope, is ENotFound: existence is
// not confirmed to those who may not see it.
func (d *DB) VehicleLevel(ctx context.Context, a *Actor, vehicleID int64) (Level, error) {
	return vehicleLevel(ctx, d.reader(), a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), vehicleID)
}

// reader is the reader pool through its prepared statements.
func (d *DB) reader() queryer { return preparedReader{d} }

// preparedReader runs queries on the reader pool through prepared statements.
type preparedReader struct{ d *DB }

func (p preparedReader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.d.readQuery(ctx, q, args...)
}

func (p preparedReader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.d.readRow(ctx, q, args...)
}

func (p preparedReader) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.d.r.ExecContext(ctx, q, args...)
}

// vehicleLevel is one lookup: the vehicles table's primary key for
// all-vehicles access, a range of vehicle_access's primary key otherwise
// (the same rule as memberScope; TestScopeShapesAgree proves the two
// agree). Ended grants are left out by their until.
func vehicleLevel(ctx context.Context, q queryer, accountID, memberID int64, all bool, now string, vehicleID int64) (Level, error) {
	var lvl sql.NullInt64
	var err error
	if all {
		err = q.QueryRowContext(ctx, `SELECT 2 FROM vehicles WHERE id = ? AND account_id = ?`, vehicleID, accountID).Scan(&lvl)
	} else {
		// vehicle_access rows tie a member to vehicles of the member's own
		// account only (the grant triggers refuse anything else), so the
		// account needs no second look-up.
		err = q.QueryRowContext(ctx, `SELECT MAX(lvl) FROM vehicle_access
			WHERE member_id = ? AND vehicle_id = ? AND (until IS NULL OR until > ?)`, memberID, vehicleID, now).Scan(&lvl)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !lvl.Valid) {
		return NoAccess, notFound("Vehicle")
	}
	if err != nil {
		return NoAccess, err
	}
	return Level(lvl.Int64), nil
}

// GroupLevel is the level the actor's group grants give over a whole
// group (its vehicles and sub-groups): Manage for all-vehicles access.
// A direct grant on a vehicle in the group does not count. NoAccess (with
// no error) when the group is the actor's to see but not covered; a group
// of another account is ENotFound.
func (d *DB) GroupLevel(ctx context.Context, a *Actor, groupID int64) (Level, error) {
	return groupLevel(ctx, d.r, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), groupID)
}

func groupLevel(ctx context.Context, q queryer, accountID, memberID int64, all bool, now string, groupID int64) (Level, error) {
	var lvl sql.NullInt64
	err := q.QueryRowContext(ctx, `WITH RECURSIVE up(group_id) AS (
			SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?
			UNION
			SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.group_id WHERE g.parent_id IS NOT NULL
		)
		SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM up) THEN NULL
		            WHEN ? = 1 THEN 2
		            ELSE COALESCE((SELECT MAX(`+levelSQL("level")+`) FROM member_group_grants
		                  WHERE member_id = ? AND group_id IN (SELECT group_id FROM up) AND (ends_at IS NULL OR ends_at > ?)), 0) END`,
		groupID, accountID, all, memberID, now).Scan(&lvl)
	if err != nil {
		return NoAccess, err
	}
	if !lvl.Valid {
		return NoAccess, notFound("Group")
	}
	return Level(lvl.Int64), nil
}

// memberScopeOf builds the scope of any member of the actor's account
// (for the explainer and for checks on the member being edited).
func memberScopeOf(ctx context.Context, q queryer, accountID, memberID int64, now string) (scope, error) {
	var all bool
	err := q.QueryRowContext(ctx, `SELECT m.vehicle_access = 'all' OR m.id = a.owner_member_id
		FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND m.account_id = ?`, memberID, accountID).Scan(&all)
	if errors.Is(err, sql.ErrNoRows) {
		return scope{}, notFound("Member")
	}
	if err != nil {
		return scope{}, err
	}
	return memberScope(accountID, memberID, all, now), nil
}
