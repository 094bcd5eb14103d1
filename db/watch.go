package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"fleetgate/db/perm"
)

// Vehicle watchers: a member who sees a vehicle may watch it and then
// receives an e-mail for each change of it (edits, archive, pairing,
// access given or taken, a finalized month reopened or finalized again).
// A watch lasts while its member sees the vehicle: it is dropped when
// their access ends, and before any message would go out to a member who
// no longer sees the vehicle.

// Watching reports whether the actor watches the vehicle.
func (d *DB) Watching(ctx context.Context, a *Actor, vehicleID int64) (bool, error) {
	var n int
	err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM vehicle_watches WHERE member_id = ? AND vehicle_id = ?`, a.MemberID, vehicleID).Scan(&n)
	return n > 0, err
}

// Watch starts (on) or stops watching a vehicle the actor sees.
func (d *DB) Watch(ctx context.Context, a *Actor, vehicleID int64, on bool) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.VehiclesView)
		if err != nil {
			return err
		}
		v, err := d.vehicle(ctx, tx, a, vehicleID)
		if err != nil {
			return err
		}
		return d.setWatch(ctx, tx, a, a.MemberID, a.Email, v, on)
	})
}

// WatchFor makes a Notifications-only member watch a vehicle (or stop),
// by a member with users.manage who reaches them and could give them
// access to the vehicle. The member must see the vehicle themselves.
func (d *DB) WatchFor(ctx context.Context, a *Actor, memberID, vehicleID int64, on bool) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		m, err := member(ctx, tx, a.AccountID, memberID)
		if err != nil {
			return err
		}
		if m.Builtin != perm.Notifications {
			return Errorf(EForbidden, "Only %s chooses which vehicles they watch, on the vehicle's page.", m.Name())
		}
		h, err := d.holds(ctx, tx, a, "vehicle", vehicleID, View)
		if err != nil {
			return err
		}
		if h.level < View {
			return notFound("Vehicle")
		}
		v, err := d.vehicle(ctx, tx, a, vehicleID)
		if err != nil {
			return err
		}
		if on {
			if _, err := vehicleLevel(ctx, tx, a.AccountID, memberID, m.VehicleAccess == "all" || m.IsOwner, d.nowKey(), vehicleID); err != nil {
				return &Error{Code: EInvalid, Field: "vehicle_id", Message: fmt.Sprintf("%s does not see %s: give them access to it first.", m.Name(), v.Name)}
			}
		}
		return d.setWatch(ctx, tx, a, memberID, m.Email, v, on)
	})
}

func (d *DB) setWatch(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, email string, v Vehicle, on bool) error {
	var res sql.Result
	var err error
	summary := "Watches " + v.Name
	if on {
		res, err = tx.ExecContext(ctx, `INSERT INTO vehicle_watches (member_id, vehicle_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			memberID, v.ID, d.stamp())
	} else {
		summary = "Stopped watching " + v.Name
		res, err = tx.ExecContext(ctx, `DELETE FROM vehicle_watches WHERE member_id = ? AND vehicle_id = ?`, memberID, v.ID)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return d.audit(ctx, tx, a, Event{Kind: "vehicle.watch", Target: email, Summary: summary,
		After: map[string]any{"vehicle": v.Name, "watching": on}, Vehicle: v.ID})
}

// WatchedVehicle is one vehicle a member watches.
type WatchedVehicle struct {
	ID   int64
	Name string
}

// MemberWatches lists the vehicles a member watches, among those the
// actor sees.
func (d *DB) MemberWatches(ctx context.Context, a *Actor, memberID int64) ([]WatchedVehicle, error) {
	s := d.scopeOf(a)
	rows, err := d.r.QueryContext(ctx, s.with()+`SELECT v.id, v.name FROM vehicle_watches w JOIN vehicles v ON v.id = w.vehicle_id
		JOIN members m ON m.id = w.member_id
		WHERE w.member_id = ? AND m.account_id = ? AND v.account_id = ? AND `+s.sees()+` ORDER BY v.name, v.id`,
		s.argsWith(memberID, a.AccountID, a.AccountID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WatchedVehicle
	for rows.Next() {
		var w WatchedVehicle
		if err := rows.Scan(&w.ID, &w.Name); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// notifyWatchers writes a vehicle's change to its watchers who still see
// it, except the member who made the change. A watcher who no longer sees
// the vehicle (or is no longer active) loses the watch here.
func (d *DB) notifyWatchers(ctx context.Context, tx *sql.Tx, vehicleID, except int64, n note, alsoExcept ...int64) error {
	// Whether each watcher sees the vehicle is the rule of vehicleLevel
	// (all vehicles, a grant in force on its group or an ancestor, or on
	// the vehicle), answered for all watchers in one statement.
	now := d.nowKey()
	rows, err := tx.QueryContext(ctx, `WITH RECURSIVE up(group_id) AS (
			SELECT group_id FROM vehicles WHERE id = ? AND account_id = ? AND group_id IS NOT NULL
			UNION
			SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.group_id WHERE g.parent_id IS NOT NULL
		)
		SELECT `+recipientCols+`,
		       m.vehicle_access = 'all' OR m.id = a.owner_member_id
		       OR EXISTS (SELECT 1 FROM member_group_grants gg WHERE gg.member_id = m.id AND gg.group_id IN (SELECT group_id FROM up)
		                  AND (gg.ends_at IS NULL OR gg.ends_at > ?))
		       OR EXISTS (SELECT 1 FROM member_vehicle_grants vg WHERE vg.member_id = m.id AND vg.vehicle_id = w.vehicle_id
		                  AND (vg.ends_at IS NULL OR vg.ends_at > ?))
		  FROM vehicle_watches w CROSS JOIN `+recipientFrom+`
		 WHERE m.id = w.member_id AND w.vehicle_id = ? AND m.account_id = ? ORDER BY m.id`,
		vehicleID, n.AccountID, now, now, KindVehicleWatched, vehicleID, n.AccountID)
	if err != nil {
		return err
	}
	var rs []recipient
	var sees []bool
	for rows.Next() {
		var r recipient
		var first, last, b string
		var s bool
		if err := rows.Scan(&r.memberID, &r.email, &first, &last, &r.status, &b, &r.owner, &r.roleID, &r.all, &r.pref, &s); err != nil {
			rows.Close()
			return err
		}
		r.name = displayName(first, last, r.email)
		r.builtin = perm.Builtin(b)
		rs = append(rs, r)
		sees = append(sees, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	k, _ := MailKindOf(KindVehicleWatched)
	for i, r := range rs {
		if r.status != "active" || !sees[i] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM vehicle_watches WHERE member_id = ? AND vehicle_id = ?`, r.memberID, vehicleID); err != nil {
				return err
			}
			continue
		}
		if r.memberID == except || slices.Contains(alsoExcept, r.memberID) || !r.wants(k) {
			continue
		}
		if err := d.send(ctx, tx, r, n); err != nil {
			return err
		}
	}
	return nil
}

// pruneWatches drops the watches of a member on vehicles they no longer
// see (after their access changed).
func (d *DB) pruneWatches(ctx context.Context, tx *sql.Tx, accountID, memberID int64) error {
	s, err := memberScopeOf(ctx, tx, accountID, memberID, d.nowKey())
	if err != nil {
		return err
	}
	if s.all {
		return nil
	}
	_, err = tx.ExecContext(ctx, s.with()+`DELETE FROM vehicle_watches WHERE member_id = ? AND vehicle_id NOT IN (SELECT vehicle_id FROM visible)`,
		s.argsWith(memberID)...)
	return err
}

// vehicleNote is a change of a vehicle, for its watchers.
func vehicleNote(accountID int64, v Vehicle, subject, body string) note {
	return note{AccountID: accountID, Kind: KindVehicleWatched, Subject: subject, Body: body, Path: fmt.Sprintf("/vehicles/%d", v.ID)}
}
