package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// What a member leaves behind in vehicles: their manage grants (on groups
// and on single vehicles) that cover vehicles no other active member
// manages through a grant. (The Owner and members with all-vehicles access
// manage every vehicle anyway.) Handing over gives the chosen member the
// same grants, a group staying a group so that vehicles added to it later
// are covered too, as far as the acting member holds them; revoking leaves
// those vehicles to the Owner and the members with all vehicles.
func init() {
	leftoverHandlers = append(leftoverHandlers, leftoverKind{
		list: func(ctx context.Context, d *DB, q queryer, a *Actor, memberID int64, now string) (Leftover, error) {
			l := Leftover{Kind: "vehicles", Label: "Vehicle access no one else holds"}
			gs, err := soleGrants(ctx, q, a.AccountID, memberID, timeKeyOf(now))
			if err != nil || len(gs) == 0 {
				return l, err
			}
			names, err := d.grantNames(ctx, q, a, gs)
			if err != nil {
				return l, err
			}
			hidden := 0
			for i, g := range gs {
				if names[i] == "" {
					hidden++
					continue
				}
				l.Items = append(l.Items, g.describe(names[i]))
			}
			if hidden > 0 {
				l.Items = append(l.Items, fmt.Sprintf("%d grant(s) on vehicles or groups outside your own vehicle access", hidden))
			}
			return l, nil
		},
		settle: func(ctx context.Context, d *DB, tx *sql.Tx, a *Actor, memberID int64, h Handover, now string) (string, error) {
			gs, err := soleGrants(ctx, tx, a.AccountID, memberID, timeKeyOf(now))
			if err != nil || len(gs) == 0 {
				return "", err
			}
			sole := 0
			for _, g := range gs {
				sole += g.sole
			}
			if h.ToMemberID == 0 {
				if h.RefuseLeftovers {
					return "", needsDecision(fmt.Sprintf("%d vehicle(s) no one else manages", sole))
				}
				return fmt.Sprintf("%d vehicle(s) no one else managed stay with the Owner and members with all vehicles", sole), nil
			}
			if err := checkHandover(ctx, tx, a, memberID, h.ToMemberID, "vehicles"); err != nil {
				return "", err
			}
			names, err := d.grantNames(ctx, tx, a, gs)
			if err != nil {
				return "", err
			}
			var given, kept []string
			for i, g := range gs {
				// Only what the actor holds is theirs to give, and no longer than they hold it.
				held, err := d.holds(ctx, tx, a, g.kind, g.targetID, Manage)
				if err != nil || held.level < Manage || names[i] == "" {
					kept = append(kept, "x")
					continue
				}
				ends := g.endsAt
				if !held.unlimited && (!ends.Valid || ends.String > held.until) {
					ends = sql.NullString{String: held.until, Valid: true}
				}
				table, col := grantTable(g.kind)
				// An existing grant of the recipient keeps whichever is wider.
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (member_id, `+col+`, level, ends_at, created_at) VALUES (?, ?, 'manage', ?, ?)
					ON CONFLICT (member_id, `+col+`) DO UPDATE SET level = 'manage',
					  ends_at = CASE WHEN `+table+`.level = 'manage' AND (`+table+`.ends_at IS NULL OR (excluded.ends_at IS NOT NULL AND `+table+`.ends_at > excluded.ends_at))
					                 THEN `+table+`.ends_at ELSE excluded.ends_at END`,
					h.ToMemberID, g.targetID, ends, now); err != nil {
					return "", err
				}
				line := g.kind + " " + names[i] + " (manage"
				if ends.Valid {
					line += ", until " + lastDay(parseEnds(ends))
				}
				given = append(given, line+")")
			}
			to, err := member(ctx, tx, a.AccountID, h.ToMemberID)
			if err != nil {
				return "", err
			}
			from, err := member(ctx, tx, a.AccountID, memberID)
			if err != nil {
				return "", err
			}
			msg := ""
			if len(given) > 0 {
				msg = "Vehicle access handed to " + to.Name() + ": " + strings.Join(given, ", ")
				if err := d.audit(ctx, tx, a, Event{Kind: "access.handover", Target: to.Email,
					Summary: to.Name() + " received from " + from.Name() + ": " + strings.Join(given, ", "),
					After:   map[string]any{"from": from.Name(), "to": to.Name(), "grants": given}}); err != nil {
					return "", err
				}
			}
			if len(kept) > 0 {
				if msg != "" {
					msg += "; "
				}
				msg += fmt.Sprintf("%d grant(s) outside your own vehicle access were not handed over", len(kept))
			}
			return msg, nil
		},
	})
}

// soleGrant is one manage grant of a member that covers vehicles no other
// active member manages through a grant.
type soleGrant struct {
	kind     string // "group" or "vehicle"
	targetID int64
	endsAt   sql.NullString
	vehicles int // active vehicles the grant covers
	sole     int // of which no one else manages
}

func (g soleGrant) describe(name string) string {
	if g.kind == "vehicle" {
		return "Vehicle " + name + " (manage)"
	}
	return fmt.Sprintf("Group %s (manage, sub-groups included): %d of its %d vehicle(s) managed by no one else", name, g.sole, g.vehicles)
}

// soleGrants lists the member's manage grants in force that cover at least
// one vehicle only they manage, groups first.
func soleGrants(ctx context.Context, q queryer, accountID, memberID int64, now string) ([]soleGrant, error) {
	ids, _, err := soleManaged(ctx, q, accountID, memberID, now)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	sole := make(map[int64]bool, len(ids))
	for _, id := range ids {
		sole[id] = true
	}
	rows, err := q.QueryContext(ctx, `SELECT 'group', g.group_id, g.ends_at FROM member_group_grants g JOIN vehicle_groups vg ON vg.id = g.group_id
		 WHERE g.member_id = ? AND vg.account_id = ? AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > ?)
		UNION ALL
		SELECT 'vehicle', g.vehicle_id, g.ends_at FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
		 WHERE g.member_id = ? AND v.account_id = ? AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > ?)
		ORDER BY 1 DESC, 2`, memberID, accountID, now, memberID, accountID, now)
	if err != nil {
		return nil, err
	}
	var all []soleGrant
	for rows.Next() {
		var g soleGrant
		if err := rows.Scan(&g.kind, &g.targetID, &g.endsAt); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []soleGrant
	for _, g := range all {
		if g.kind == "vehicle" {
			if sole[g.targetID] {
				g.vehicles, g.sole = 1, 1
				out = append(out, g)
			}
			continue
		}
		vs, err := q.QueryContext(ctx, `WITH RECURSIVE sub(id) AS (
				SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?
				UNION SELECT c.id FROM vehicle_groups c JOIN sub ON c.parent_id = sub.id)
			SELECT v.id FROM vehicles v WHERE v.account_id = ? AND v.status = 'active' AND v.group_id IN (SELECT id FROM sub)`,
			g.targetID, accountID, accountID)
		if err != nil {
			return nil, err
		}
		for vs.Next() {
			var id int64
			if err := vs.Scan(&id); err != nil {
				vs.Close()
				return nil, err
			}
			g.vehicles++
			if sole[id] {
				g.sole++
			}
		}
		vs.Close()
		if err := vs.Err(); err != nil {
			return nil, err
		}
		if g.sole > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

// grantNames names each grant's group (its path) or vehicle as the actor
// sees it; "" for what the actor does not see.
func (d *DB) grantNames(ctx context.Context, q queryer, a *Actor, gs []soleGrant) ([]string, error) {
	paths, err := d.groupPaths(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(gs))
	for i, g := range gs {
		if g.kind == "group" {
			out[i] = paths[g.targetID]
			continue
		}
		v, err := d.vehicle(ctx, q, a, g.targetID)
		var fe *Error
		if errors.As(err, &fe) && fe.Code == ENotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = v.Name
	}
	return out, nil
}

// soleManaged lists the vehicles the member manages through grants in
// force and no other active member manages through theirs.
func soleManaged(ctx context.Context, q queryer, accountID, memberID int64, now string) ([]int64, []string, error) {
	var all bool
	if err := q.QueryRowContext(ctx, `SELECT m.vehicle_access = 'all' OR m.id = a.owner_member_id
		FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND m.account_id = ?`, memberID, accountID).Scan(&all); err != nil {
		return nil, nil, err
	}
	if all {
		return nil, nil, nil
	}
	s := memberScope(accountID, memberID, false, now)
	rows, err := q.QueryContext(ctx, s.with(`others_walk(group_id) AS (
			SELECT gg.group_id FROM member_group_grants gg JOIN members m ON m.id = gg.member_id
			 WHERE m.account_id = ? AND m.id != ? AND m.status = 'active' AND gg.level = 'manage'
			   AND (gg.ends_at IS NULL OR gg.ends_at > ?)
			UNION
			SELECT g.id FROM others_walk w JOIN vehicle_groups g ON g.parent_id = w.group_id
		)`)+`
		SELECT v.id, v.name FROM visible s JOIN vehicles v ON v.id = s.vehicle_id
		 WHERE s.lvl = 2 AND v.status = 'active'
		   AND (v.group_id IS NULL OR v.group_id NOT IN (SELECT group_id FROM others_walk))
		   AND NOT EXISTS (SELECT 1 FROM member_vehicle_grants x JOIN members m ON m.id = x.member_id
		                    WHERE x.vehicle_id = v.id AND x.member_id != ? AND m.status = 'active' AND x.level = 'manage'
		                      AND (x.ends_at IS NULL OR x.ends_at > ?))
		 ORDER BY v.name, v.id`, s.argsWith(accountID, memberID, now, memberID, now)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []int64
	var names []string
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		names = append(names, name)
	}
	return ids, names, rows.Err()
}

// timeKeyOf turns a stored stamp into the form grant end dates compare with.
func timeKeyOf(stamp string) string {
	if len(stamp) >= 19 {
		return stamp[:19] + "Z"
	}
	return stamp
}

// Deleting a member keeps their trips, under "former member <name>".
func init() {
	deleteHooks = append(deleteHooks, func(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, formerName string) error {
		_, err := tx.ExecContext(ctx, `UPDATE trips SET driver_name = ? WHERE driver_member_id = ? AND account_id = ?`,
			formerName, memberID, a.AccountID)
		return err
	})
}
