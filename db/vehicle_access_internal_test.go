package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"
)

// ruleScopeCTE is the vehicle-scope rule computed from the grants and
// the group tree alone, as the scope was before vehicle_access existed:
// the reference the maintained table is compared with. It is a table
// rule(vehicle_id, lvl) of one member at one time, to sit beside the
// member's scope in one statement; its arguments are ruleArgs.
var ruleScopeCTE = `rule_walk(group_id, lvl) AS (
	SELECT group_id, ` + levelSQL("level") + ` FROM member_group_grants
	 WHERE member_id = ? AND (ends_at IS NULL OR ends_at > ?)
	UNION
	SELECT g.id, w.lvl FROM rule_walk w JOIN vehicle_groups g ON g.parent_id = w.group_id
),
rule_covered(group_id, lvl) AS (SELECT group_id, MAX(lvl) FROM rule_walk GROUP BY group_id),
rule_direct(vehicle_id, lvl) AS (
	SELECT vehicle_id, ` + levelSQL("level") + ` FROM member_vehicle_grants
	 WHERE member_id = ? AND (ends_at IS NULL OR ends_at > ?)
),
rule(vehicle_id, lvl) AS (
	SELECT vehicle_id, MAX(lvl) FROM (
		SELECT v.id AS vehicle_id, c.lvl AS lvl FROM rule_covered c JOIN vehicles v ON v.group_id = c.group_id
		UNION ALL
		SELECT vehicle_id, lvl FROM rule_direct
	) GROUP BY vehicle_id)`

func ruleArgs(memberID int64, now string) []any { return []any{memberID, now, memberID, now} }

// accessRebuilt is vehicle_access as it would be built from scratch
// (the migration's own filling).
const accessRebuilt = `
SELECT g.member_id, v.id, 0, CASE g.level WHEN 'manage' THEN 2 ELSE 1 END, g.ends_at, v.status, v.name
  FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
UNION ALL
SELECT * FROM (
WITH RECURSIVE walk(granted, id) AS (
    SELECT DISTINCT group_id, group_id FROM member_group_grants
    UNION SELECT w.granted, g.id FROM walk w JOIN vehicle_groups g ON g.parent_id = w.id
)
SELECT gg.member_id, v.id, gg.group_id, CASE gg.level WHEN 'manage' THEN 2 ELSE 1 END, gg.ends_at, v.status, v.name
  FROM member_group_grants gg JOIN walk w ON w.granted = gg.group_id JOIN vehicles v ON v.group_id = w.id)`

// rowQueryer is what rowsOf reads from: the reader pool, or a prepared
// statement (stmtQueryer).
type rowQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func rowsOf(t *testing.T, q rowQueryer, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func ids(t *testing.T, d *DB, query string) []int64 {
	t.Helper()
	rows, err := d.r.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// TestVehicleAccessFollowsTheRule applies random changes of grants (with
// ends in the past and the future), groups, the group tree, vehicles and
// members' vehicle access, and after each one compares vehicle_access
// with a rebuild from scratch and every member's scope (the list's set,
// VehicleLevel of each vehicle) with the rule computed from the grants.
func TestVehicleAccessFollowsTheRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return clock }
	rng := propertyRNG(t)
	c := newPreparedReads(t, d)
	pick := func(xs []int64) int64 {
		if len(xs) == 0 {
			return 0
		}
		return xs[rng.IntN(len(xs))]
	}
	ends := func() any {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return timeKey(clock.Add(-time.Duration(rng.IntN(48)+1) * time.Hour))
		}
		return timeKey(clock.Add(time.Duration(rng.IntN(48)+1) * time.Hour))
	}
	level := func() string { return []string{"view", "manage"}[rng.IntN(2)] }
	// The table against its rebuild, and each member's scope against the
	// rule, each in one statement: rows only where they differ.
	tableVsRebuilt := sameRowsSQL(`SELECT member_id, vehicle_id, via, lvl, until, status, name || '' FROM vehicle_access`,
		`WITH r(member_id, vehicle_id, via, lvl, until, status, name) AS (`+accessRebuilt+`)
		SELECT member_id, vehicle_id, via, lvl, until, status, name || '' FROM r`, 7)
	ruleOnly := `WITH RECURSIVE ` + ruleScopeCTE + ` SELECT vehicle_id, lvl FROM rule`
	steps := rounds(250, 5)
	for step := 0; step < steps; step++ {
		members := c.ids(`SELECT id FROM members WHERE account_id = 1`)
		vehicles := c.ids(`SELECT id FROM vehicles WHERE account_id = 1`)
		groups := c.ids(`SELECT id FROM vehicle_groups WHERE account_id = 1`)
		var what string
		var q string
		var args []any
		switch k := rng.IntN(14); k {
		case 0, 1:
			what, q, args = "direct grant", `INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, ends_at, created_at) VALUES (?, ?, ?, ?, '')
				ON CONFLICT (member_id, vehicle_id) DO UPDATE SET level = excluded.level, ends_at = excluded.ends_at`,
				[]any{pick(members), pick(vehicles), level(), ends()}
		case 2:
			what, q, args = "direct grants removed", `DELETE FROM member_vehicle_grants WHERE member_id = ? AND vehicle_id % 3 = ?`,
				[]any{pick(members), rng.IntN(3)}
		case 3:
			what, q, args = "direct grant changed", `UPDATE member_vehicle_grants SET level = ?, ends_at = ? WHERE member_id = ?`, []any{level(), ends(), pick(members)}
		case 4, 5:
			what, q, args = "group grant", `INSERT INTO member_group_grants (member_id, group_id, level, ends_at, created_at) VALUES (?, ?, ?, ?, '')
				ON CONFLICT (member_id, group_id) DO UPDATE SET level = excluded.level, ends_at = excluded.ends_at`,
				[]any{pick(members), pick(groups), level(), ends()}
		case 6:
			what, q, args = "group grant removed", `DELETE FROM member_group_grants WHERE member_id = ? AND group_id = ?`, []any{pick(members), pick(groups)}
			if rng.IntN(2) == 0 {
				q, args = `DELETE FROM member_group_grants WHERE member_id = ?`, []any{pick(members)}
			}
		case 7:
			what, q, args = "group grant changed", `UPDATE member_group_grants SET level = ?, ends_at = ? WHERE member_id = ?`, []any{level(), ends(), pick(members)}
		case 8:
			g := any(pick(groups))
			if rng.IntN(4) == 0 {
				g = nil
			}
			what, q, args = "vehicle moved", `UPDATE vehicles SET group_id = ? WHERE id = ?`, []any{g, pick(vehicles)}
		case 9:
			what, q, args = "vehicle renamed or archived", `UPDATE vehicles SET name = ?, status = ? WHERE id = ?`,
				[]any{fmt.Sprintf("Car %d", rng.IntN(1000)), []string{"active", "archived"}[rng.IntN(2)], pick(vehicles)}
		case 10:
			// A group under another that is not in its own subtree, or to the top.
			g, p := pick(groups), any(pick(groups))
			if rng.IntN(3) == 0 {
				p = nil
			}
			what, q, args = "group moved", `UPDATE vehicle_groups SET parent_id = :parent, name = name || '.' || :id WHERE id = :id
				AND (:parent IS NULL OR :parent NOT IN (WITH RECURSIVE sub(id) AS (SELECT :id UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id) SELECT id FROM sub))`,
				[]any{sql.Named("parent", p), sql.Named("id", g)}
		case 11:
			g := any(pick(groups))
			if rng.IntN(4) == 0 {
				g = nil
			}
			what, q, args = "vehicle added", `INSERT INTO vehicles (account_id, group_id, name, created_at, updated_at) VALUES (1, ?, ?, '', '')`,
				[]any{g, fmt.Sprintf("New %d", step)}
		case 12:
			what, q, args = "group added", `INSERT INTO vehicle_groups (account_id, parent_id, name, created_at) VALUES (1, ?, ?, '')`,
				[]any{pick(groups), fmt.Sprintf("G %d", step)}
		case 13:
			switch rng.IntN(3) {
			case 0:
				what, q, args = "vehicle deleted", `DELETE FROM vehicles WHERE id = ? AND NOT EXISTS (SELECT 1 FROM trips WHERE vehicle_id = vehicles.id)`, []any{pick(vehicles)}
			case 1:
				what, q, args = "vehicle access mode", `UPDATE members SET vehicle_access = ? WHERE id = ? AND id != 1`,
					[]any{[]string{"all", "selected"}[rng.IntN(2)], pick(members)}
			default:
				what = "time passes"
				clock = clock.Add(time.Duration(rng.IntN(12)+1) * time.Hour)
			}
		}
		if q != "" {
			err := d.update(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err })
			if err != nil && !isUnique(err) && !isTriggerAbort(err) && !isForeignKey(err) {
				t.Fatalf("step %d (%s): %v", step, what, err)
			}
		}
		if diff := c.diff(tableVsRebuilt); diff != "" {
			t.Fatalf("step %d (%s): vehicle_access (first) differs from its rebuild (second):\n%s", step, what, diff)
		}
		now := d.nowKey()
		vehicles = c.ids(`SELECT id FROM vehicles WHERE account_id = 1`)
		for _, m := range members {
			s := memberScope(1, m, false, now)
			if diff := c.diff(s.with(ruleScopeCTE)+sameRowsSQL(`SELECT vehicle_id, lvl FROM visible`, `SELECT vehicle_id, lvl FROM rule`, 2),
				s.argsWith(ruleArgs(m, now)...)...); diff != "" {
				t.Fatalf("step %d (%s): member %d: the scope (first) differs from the rule (second):\n%s", step, what, m, diff)
			}
			if step%5 != 0 {
				continue // VehicleLevel of every vehicle, on every fifth step
			}
			want := c.rows(ruleOnly, ruleArgs(m, now)...)
			var levels []string
			for _, v := range vehicles {
				lvl, err := vehicleLevel(ctx, d.r, 1, m, false, now, v)
				if (lvl == NoAccess) != (err != nil) {
					t.Fatalf("step %d: vehicle %d: level %v, error %v", step, v, lvl, err)
				}
				if lvl != NoAccess {
					levels = append(levels, fmt.Sprint(v, int64(lvl)))
				}
			}
			slices.Sort(levels)
			if !slices.Equal(levels, want) {
				t.Fatalf("step %d (%s): VehicleLevel of member %d gives %v, the rule says %v", step, what, m, levels, want)
			}
		}
	}
}
