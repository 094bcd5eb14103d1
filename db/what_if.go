package db

import (
	"context"
	"fmt"

	"fleetgate/db/perm"
)

// What-if: before a member is given a role or a group, what they would
// gain and lose — permissions, and vehicles seen and managed — the way the
// role matrix's impact preview shows a role change for its holders. It
// only reads; giving goes through UpdateMember and Grant, with their rules.

// WhatIf is the difference a change would make to one member.
type WhatIf struct {
	Name                      string
	Gain, Lose                []perm.Key
	VehiclesNow, VehiclesThen int // vehicles seen
	ManageNow, ManageThen     int // vehicles they could change (manage, and a role that uses it)
}

// Changed reports whether the change would change anything.
func (w WhatIf) Changed() bool {
	return len(w.Gain)+len(w.Lose) > 0 || w.VehiclesNow != w.VehiclesThen || w.ManageNow != w.ManageThen
}

// whatIfBase reads the member (of the actor's account) and their
// permissions as they are.
func (d *DB) whatIfBase(ctx context.Context, a *Actor, memberID int64) (MemberDetail, perm.Set, error) {
	m, err := member(ctx, d.r, a.AccountID, memberID)
	if err != nil {
		return m, nil, err
	}
	set, _, err := roleSet(ctx, d.r, a.AccountID, m.RoleID)
	return m, set, err
}

// vehicleCounts counts the vehicles a member sees, and those at manage;
// with extra (a group and level), as if that group were given too.
func (d *DB) vehicleCounts(ctx context.Context, a *Actor, memberID, groupID int64, lvl Level) (seen, manage, seenThen, manageThen int, err error) {
	sc, err := memberScopeOf(ctx, d.r, a.AccountID, memberID, d.nowKey())
	if err != nil {
		return
	}
	err = d.r.QueryRowContext(ctx, sc.with(`sub(group_id) AS (
			SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?
			UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.group_id)`,
		`after(vehicle_id, lvl) AS (SELECT vehicle_id, MAX(lvl) FROM (
			SELECT vehicle_id, lvl FROM visible
			UNION ALL SELECT v.id, ? FROM vehicles v WHERE v.group_id IN (SELECT group_id FROM sub)) AS levels GROUP BY vehicle_id)`)+
		`SELECT (SELECT COUNT(*) FROM visible), (SELECT COUNT(*) FROM visible WHERE lvl = 2),
		        (SELECT COUNT(*) FROM after), (SELECT COUNT(*) FROM after WHERE lvl = 2)`,
		sc.argsWith(groupID, a.AccountID, int(lvl))...).Scan(&seen, &manage, &seenThen, &manageThen)
	if err != nil {
		err = fmt.Errorf("what if: %w", err)
	}
	return
}

// WhatIfRole is what the member would gain and lose with another role of
// the account.
func (d *DB) WhatIfRole(ctx context.Context, a *Actor, memberID, roleID int64) (WhatIf, error) {
	m, now, err := d.whatIfBase(ctx, a, memberID)
	if err != nil {
		return WhatIf{}, err
	}
	then, _, err := roleSet(ctx, d.r, a.AccountID, roleID)
	if err != nil {
		return WhatIf{}, err
	}
	w := WhatIf{Name: m.Name()}
	w.Gain, w.Lose = perm.Diff(now, then)
	seen, manage, _, _, err := d.vehicleCounts(ctx, a, memberID, 0, View)
	if err != nil {
		return w, err
	}
	w.VehiclesNow, w.VehiclesThen = seen, seen
	if RoleUsesManage(now) {
		w.ManageNow = manage
	}
	if RoleUsesManage(then) {
		w.ManageThen = manage
	}
	return w, nil
}

// WhatIfGroup is what the member would gain with a grant on a group the
// actor sees, at a level.
func (d *DB) WhatIfGroup(ctx context.Context, a *Actor, memberID, groupID int64, lvl Level) (WhatIf, error) {
	m, set, err := d.whatIfBase(ctx, a, memberID)
	if err != nil {
		return WhatIf{}, err
	}
	if _, err := d.GroupLevel(ctx, a, groupID); err != nil {
		return WhatIf{}, err
	}
	if ok, err := d.groupVisible(ctx, d.r, a, groupID); err != nil || !ok {
		if err == nil {
			err = notFound("Group")
		}
		return WhatIf{}, err
	}
	w := WhatIf{Name: m.Name()}
	seen, manage, seenThen, manageThen, err := d.vehicleCounts(ctx, a, memberID, groupID, lvl)
	if err != nil {
		return w, err
	}
	w.VehiclesNow, w.VehiclesThen = seen, seenThen
	if RoleUsesManage(set) {
		w.ManageNow, w.ManageThen = manage, manageThen
	}
	return w, nil
}
