package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// What a member leaves behind in vehicles: the vehicles that they alone
// manage through their grants (members with all-vehicles access aside).
// Handing over gives the chosen member a direct manage grant on each of
// them that the acting member may give; revoking leaves them unassigned.
func init() {
	leftoverHandlers = append(leftoverHandlers, leftoverKind{
		list: func(ctx context.Context, q queryer, a *Actor, memberID int64, now string) (Leftover, error) {
			l := Leftover{Kind: "vehicles", Label: "Vehicles only they manage"}
			ids, names, err := soleManaged(ctx, q, a.AccountID, memberID, timeKeyOf(now))
			if err != nil || a.VehicleAccess == "all" {
				l.Items = names
				return l, err
			}
			// Only the vehicles the actor sees are named; the others are counted.
			sc := memberScope(a.AccountID, a.MemberID, false, timeKeyOf(now))
			rows, err := q.QueryContext(ctx, sc.with()+`SELECT vehicle_id FROM visible`, sc.args...)
			if err != nil {
				return l, err
			}
			defer rows.Close()
			seen := map[int64]bool{}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return l, err
				}
				seen[id] = true
			}
			if err := rows.Err(); err != nil {
				return l, err
			}
			hidden := 0
			for i, id := range ids {
				if seen[id] {
					l.Items = append(l.Items, names[i])
				} else {
					hidden++
				}
			}
			if hidden > 0 {
				l.Items = append(l.Items, fmt.Sprintf("%d vehicle(s) outside your own vehicle access", hidden))
			}
			return l, nil
		},
		settle: func(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, h Handover, now string) (string, error) {
			ids, _, err := soleManaged(ctx, tx, a.AccountID, memberID, timeKeyOf(now))
			if err != nil || len(ids) == 0 {
				return "", err
			}
			if h.ToMemberID == 0 {
				return fmt.Sprintf("%d vehicle(s) left without a manager", len(ids)), nil
			}
			var toAll bool
			if err := tx.QueryRowContext(ctx, `SELECT m.vehicle_access = 'all' OR m.id = a.owner_member_id
				FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND m.account_id = ?`,
				h.ToMemberID, a.AccountID).Scan(&toAll); err != nil {
				return "", err
			}
			if toAll {
				return fmt.Sprintf("%d vehicle(s) stay with the new manager, who has all vehicles", len(ids)), nil
			}
			// Giving vehicle access is changing that member: the no-escalation rule applies.
			if err := checkReach(ctx, tx, a, h.ToMemberID); err != nil {
				var fe *Error
				if errors.As(err, &fe) {
					return "", &Error{Code: EInvalid, Field: "handover_to", Message: "You cannot hand vehicles to this member: " + fe.Message}
				}
				return "", err
			}
			given := 0
			for _, id := range ids {
				lvl, err := vehicleLevel(ctx, tx, a.AccountID, a.MemberID, a.VehicleAccess == "all", timeKeyOf(now), id)
				if err != nil || lvl < Manage {
					continue // not the actor's to give
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, created_at) VALUES (?, ?, 'manage', ?)
					ON CONFLICT (member_id, vehicle_id) DO UPDATE SET level = 'manage', ends_at = NULL`, h.ToMemberID, id, now); err != nil {
					return "", err
				}
				given++
			}
			return fmt.Sprintf("%d vehicle(s) handed over", given), nil
		},
	})
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
