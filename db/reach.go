package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"fleetgate/db/perm"
)

// The no-escalation rule (see Rules of access in doc.go), in one place: whoever manages
// users or roles can only hand out what they hold themselves, cannot act
// on their own role, access or status, and cannot touch the Owner or a
// member whose role is wider than their own.

// RoleSet reads the permissions of a role of the actor's account. The
// Owner role always holds everything.
func (d *DB) RoleSet(ctx context.Context, a *Actor, roleID int64) (perm.Set, perm.Builtin, error) {
	return roleSet(ctx, d.r, a.AccountID, roleID)
}

func roleSet(ctx context.Context, q queryer, accountID, roleID int64) (perm.Set, perm.Builtin, error) {
	var b sql.NullString
	err := q.QueryRowContext(ctx, `SELECT builtin FROM roles WHERE id = ? AND account_id = ?`, roleID, accountID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound("Role")
	}
	if err != nil {
		return nil, "", err
	}
	if perm.Builtin(b.String) == perm.Owner {
		return perm.Everything(), perm.Owner, nil
	}
	set, err := rolePermissions(ctx, q, roleID)
	return set, perm.Builtin(b.String), err
}

// GrantableRoles lists the roles the actor may give to someone: every role
// of the account but Owner whose permissions the actor holds too. A custom
// role without any permission yet (just created, not saved with one) is
// not offered: a role needs at least one permission to be saved, and to
// be given.
func (d *DB) GrantableRoles(ctx context.Context, a *Actor) ([]RoleOption, error) {
	all, err := d.roleOptions(ctx, a, false)
	if err != nil {
		return nil, err
	}
	// Every role's permissions in one statement, instead of two per role.
	sets := map[int64]perm.Set{}
	rows, err := d.readQuery(ctx, `SELECT rp.role_id, rp.permission, rp.scopes
		  FROM roles r JOIN role_permissions rp ON rp.role_id = r.id WHERE r.account_id = ?`, a.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, scopes string
		if err := rows.Scan(&id, &k, &scopes); err != nil {
			return nil, err
		}
		if sets[id] == nil {
			sets[id] = perm.Set{}
		}
		sets[id][perm.Key(k)] = parseScopes(scopes)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []RoleOption
	for _, r := range all {
		if r.Builtin == perm.Owner {
			continue
		}
		set := sets[r.ID]
		if r.Builtin == "" && len(set) == 0 {
			continue
		}
		if a.Perms.Covers(set) {
			out = append(out, r)
		}
	}
	return out, nil
}

// CheckGrantRole refuses a role the actor may not give (EForbidden on the
// "role_id" field), or one of another account (ENotFound).
func (d *DB) CheckGrantRole(ctx context.Context, a *Actor, roleID int64) error {
	return checkGrantRole(ctx, d.r, a, roleID)
}

// checkGrantRole is CheckGrantRole on any connection: writes call it
// inside their transaction, so the role they give is the role checked.
func checkGrantRole(ctx context.Context, q queryer, a *Actor, roleID int64) error {
	set, b, err := roleSet(ctx, q, a.AccountID, roleID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return FieldError("role_id", "Choose one of the offered roles.")
		}
		return err
	}
	if b == perm.Owner {
		return &Error{Code: EForbidden, Field: "role_id", Message: "Nobody can be given the Owner role; the Owner hands over ownership from their own page."}
	}
	if missing := a.Perms.Missing(set); len(missing) > 0 {
		return &Error{Code: EForbidden, Field: "role_id", Message: "You cannot give a role with permissions you do not hold yourself (" + perm.Label(missing[0]) + ")."}
	}
	if b == "" && len(set) == 0 {
		return FieldError("role_id", "This role has no permission yet: turn at least one on under Roles and save it before giving it to anyone.")
	}
	return nil
}

// CheckReach refuses when the actor may not act on the member: the
// member's own row, the Owner, or a member whose role is wider than the
// actor's. A member of another account is ENotFound. It answers what a
// page may offer; every write asks checkReach again inside its own
// transaction, so a change committed in between cannot slip through.
func (d *DB) CheckReach(ctx context.Context, a *Actor, memberID int64) error {
	return checkReach(ctx, d.r, a, memberID)
}

// checkReach is CheckReach on any connection (inside a write transaction too).
func checkReach(ctx context.Context, q queryer, a *Actor, memberID int64) error {
	var roleID int64
	err := q.QueryRowContext(ctx, `SELECT role_id FROM members WHERE id = ? AND account_id = ?`, memberID, a.AccountID).Scan(&roleID)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("Member")
	}
	if err != nil {
		return err
	}
	switch {
	case memberID == a.OwnerMemberID:
		return Errorf(EForbidden, "Nobody can change the account Owner; only the Owner can hand over ownership.")
	case memberID == a.MemberID:
		return Errorf(EForbidden, "You cannot change your own role, access or status. Ask another Admin or the Owner.")
	}
	set, _, err := roleSet(ctx, q, a.AccountID, roleID)
	if err != nil {
		return err
	}
	if !a.Perms.Covers(set) {
		return Errorf(EForbidden, "This member's role has permissions you do not hold, so you cannot change them.")
	}
	return nil
}

// accessWider reports whether the member sees a vehicle or covers a group
// that the actor does not: then changing their rights would act beyond
// the actor's own vehicle access.
func (d *DB) accessWider(ctx context.Context, q queryer, a *Actor, memberID int64) (bool, error) {
	if a.VehicleAccess == "all" {
		return false, nil
	}
	ts, err := memberScopeOf(ctx, q, a.AccountID, memberID, d.nowKey())
	if err != nil {
		return false, err
	}
	t := ts.as("t_")
	sc := d.scopeOf(a)
	var wider bool
	err = q.QueryRowContext(ctx, sc.with(t.cte)+`SELECT
		EXISTS (SELECT 1 FROM t_visible WHERE vehicle_id NOT IN (SELECT vehicle_id FROM visible))
		OR EXISTS (SELECT 1 FROM t_scope_covered WHERE group_id NOT IN (SELECT group_id FROM scope_covered)
		   AND group_id NOT IN (SELECT v.group_id FROM visible s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.group_id IS NOT NULL))`,
		sc.argsWith(t.args...)...).Scan(&wider)
	if err != nil {
		return false, fmt.Errorf("compare vehicle access: %w", err)
	}
	return wider, nil
}

// AccessWithin is checkAccessWithin for a page deciding which controls to
// offer: nil when a change widening the member's rights would be within
// the actor's own vehicle access. The change itself checks again.
func (d *DB) AccessWithin(ctx context.Context, a *Actor, memberID int64, name string) error {
	return d.checkAccessWithin(ctx, d.r, a, memberID, name)
}

// checkAccessWithin is the no-escalation rule for what a change leaves a
// member with: a new role, a new grant or a reactivation widens what they
// may do, so their vehicle access must lie within the actor's own. Without
// it, a Manager of one region could promote a Driver who also manages a
// vehicle of another region, and the promoted Driver would edit it.
func (d *DB) checkAccessWithin(ctx context.Context, q queryer, a *Actor, memberID int64, name string) error {
	wider, err := d.accessWider(ctx, q, a, memberID)
	if err != nil {
		return err
	}
	if wider {
		return Errorf(EForbidden, "%s has access to vehicles outside your own vehicle access, so you cannot widen their role or access. Ask a member with access to all vehicles.", name)
	}
	return nil
}
