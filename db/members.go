package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/password"
	"fleetgate/db/perm"
)

// MemberDetail is one member as their page shows them.
type MemberDetail struct {
	MemberRow
	UserID        int64
	VehicleAccess string
	CreatedAt     time.Time
	Accounts      int // how many accounts this login belongs to
}

// Member reads a member of the actor's account (ENotFound otherwise).
func (d *DB) Member(ctx context.Context, a *Actor, memberID int64) (MemberDetail, error) {
	return member(ctx, d.r, a.AccountID, memberID)
}

func member(ctx context.Context, q queryer, accountID, memberID int64) (MemberDetail, error) {
	var m MemberDetail
	var b string
	err := q.QueryRowContext(ctx, `
		SELECT m.id, m.user_id, u.first_name, u.last_name, u.email, u.phone, m.role_id, r.name, COALESCE(r.builtin, ''),
		       m.id = a.owner_member_id, m.status, m.channel, m.vehicle_access, m.last_login_at, m.created_at,
		       (SELECT COUNT(*) FROM members x WHERE x.user_id = m.user_id), m.version
		  FROM members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id JOIN accounts a ON a.id = m.account_id
		 WHERE m.id = ? AND m.account_id = ?`, memberID, accountID).Scan(
		&m.ID, &m.UserID, &m.FirstName, &m.LastName, &m.Email, &m.Phone, &m.RoleID, &m.RoleName, &b,
		&m.IsOwner, &m.Status, &m.Channel, &m.VehicleAccess, nullTimeCol{&m.LastLoginAt}, timeCol{&m.CreatedAt}, &m.Accounts, &m.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("Member")
	}
	if err != nil {
		return m, fmt.Errorf("member: %w", err)
	}
	m.Builtin = perm.Builtin(b)
	return m, nil
}

// MemberEdit is the editable part of a member.
type MemberEdit struct {
	FirstName, LastName, Phone string
	RoleID                     int64
	Channel                    string
}

// memberState is what the audit log records of a member.
type memberState struct {
	Name    string `json:"name"`
	Phone   string `json:"phone,omitempty"`
	Role    string `json:"role"`
	Channel string `json:"channel"`
	Status  string `json:"status"`
}

func stateOf(m MemberDetail) memberState {
	return memberState{Name: m.Name(), Phone: m.Phone, Role: m.RoleName, Channel: m.Channel, Status: m.Status}
}

// UpdateMember changes a member's name, phone, role and channel, within the
// actor's reach and grants, from the version the form started from (a
// save from an older version is a StaleError). The change applies on the
// member's next request.
func (d *DB) UpdateMember(ctx context.Context, a *Actor, memberID int64, version int, e MemberEdit) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		return d.updateMember(ctx, tx, a, memberID, version, e)
	})
}

// updateMember is UpdateMember inside tx: the reach and grant checks read
// the same state the write changes.
func (d *DB) updateMember(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, version int, e MemberEdit) error {
	a, err := actorIn(ctx, tx, a, perm.UsersManage)
	if err != nil {
		return err
	}
	if err := checkReach(ctx, tx, a, memberID); err != nil {
		return err
	}
	before, err := member(ctx, tx, a.AccountID, memberID)
	if err != nil {
		return err
	}
	if err := d.checkVersion(ctx, tx, a, "members", memberID, before.Version, version); err != nil {
		return err
	}
	e.Clean()
	errs := e.Validate()
	if e.FirstName == before.FirstName && e.LastName == before.LastName && e.Phone == before.Phone {
		// Unchanged (a role change, a bulk action): stored as it was.
		delete(errs, "first_name")
		delete(errs, "last_name")
		delete(errs, "phone")
	}
	if err := invalid(errs, personOrder...); err != nil {
		return err
	}
	if e.RoleID != before.RoleID {
		if err := checkGrantRole(ctx, tx, a, e.RoleID); err != nil {
			return err
		}
		if err := d.checkAccessWithin(ctx, tx, a, memberID, before.Name()); err != nil {
			return err
		}
	}
	// Name and phone belong to the login. When it works in other accounts
	// too, only its owner changes them (My profile), not this account.
	if before.Accounts > 1 && (strings.TrimSpace(e.FirstName) != before.FirstName ||
		strings.TrimSpace(e.LastName) != before.LastName || strings.TrimSpace(e.Phone) != before.Phone) {
		return &Error{Code: EForbidden, Field: "first_name", Message: "This person's login also works in other accounts: only they can change their name and phone, under My profile."}
	}
	// The WHERE on version makes the check and the bump one step.
	res, err := tx.ExecContext(ctx, `UPDATE members SET role_id = ?, channel = ?, `+setVersioned+` WHERE id = ? AND account_id = ? AND version = ?`,
		append(append([]any{e.RoleID, e.Channel}, d.versionArgs(a)...), memberID, a.AccountID, before.Version)...)
	if err != nil {
		return ruleViolation(err)
	}
	if err := d.updated(ctx, tx, a, res, "members", memberID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET first_name = ?, last_name = ?, phone = ? WHERE id = ?`,
		strings.TrimSpace(e.FirstName), strings.TrimSpace(e.LastName), strings.TrimSpace(e.Phone), before.UserID); err != nil {
		return err
	}
	// A member now limited to the mobile channel leaves the console at once.
	if e.Channel == "mobile" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE member_id = ?`, memberID); err != nil {
			return err
		}
	}
	after, err := member(ctx, tx, a.AccountID, memberID)
	if err != nil {
		return err
	}
	if err := d.audit(ctx, tx, a, Event{Kind: "member.update", Target: after.Name(), Summary: "Member edited",
		Before: stateOf(before), After: stateOf(after)}); err != nil {
		return err
	}
	if e.RoleID != before.RoleID {
		return d.mailRoleChanged(ctx, tx, a, memberID, before.RoleID, e.RoleID)
	}
	return nil
}

// Handover says what to do with what a deactivated member leaves behind:
// revoke it, or hand it to another member (ToMemberID).
type Handover struct {
	ToMemberID int64
	// RefuseLeftovers refuses (instead of revoking) when something needs a
	// decision: bulk deactivation sends such members to their own page.
	RefuseLeftovers bool
	// Report, when set, receives what was done with each kind, as a person
	// reads it (who received what).
	Report *[]string
}

// SetStatus deactivates or reactivates a member. Deactivation ends their
// sessions and API tokens in the same transaction; nothing else of theirs
// (trips, history) is removed, so it can be undone.
func (d *DB) SetStatus(ctx context.Context, a *Actor, memberID int64, status string, h Handover) error {
	if status != "active" && status != "deactivated" {
		return FieldError("status", "Unknown status.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		return d.setStatus(ctx, tx, a, memberID, status, h)
	})
}

// setStatus is SetStatus inside tx, the reach check included.
func (d *DB) setStatus(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, status string, h Handover) error {
	a, err := actorIn(ctx, tx, a, perm.UsersManage)
	if err != nil {
		return err
	}
	if err := checkReach(ctx, tx, a, memberID); err != nil {
		return err
	}
	before, err := member(ctx, tx, a.AccountID, memberID)
	if err != nil {
		return err
	}
	if before.Status == status {
		return nil
	}
	if status == "active" { // back with their role and access: within the actor's own
		if err := d.checkAccessWithin(ctx, tx, a, memberID, before.Name()); err != nil {
			return err
		}
	}
	if h.ToMemberID != 0 {
		to, err := member(ctx, tx, a.AccountID, h.ToMemberID)
		if err != nil || to.Status != "active" || to.ID == memberID {
			return FieldError("handover_to", "Choose an active member to hand over to.")
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE members SET status = ?, `+setVersioned+` WHERE id = ? AND account_id = ?`,
		append(append([]any{status}, d.versionArgs(a)...), memberID, a.AccountID)...); err != nil {
		return ruleViolation(err)
	}
	summary := "Member reactivated"
	if status == "deactivated" {
		summary = "Member deactivated"
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE member_id = ?`, memberID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE member_id = ?`, memberID); err != nil {
			return err
		}
		for _, fn := range leftoverHandlers {
			s, err := fn.settle(ctx, d, tx, a, memberID, h, d.stamp())
			if err != nil {
				return err
			}
			h.report(s)
			if s != "" {
				summary += "; " + s
			}
		}
	}
	after := stateOf(before)
	after.Status = status
	if err := d.audit(ctx, tx, a, Event{Kind: "member." + map[string]string{"active": "reactivate", "deactivated": "deactivate"}[status],
		Target: before.Name(), Summary: summary, Before: stateOf(before), After: after}); err != nil {
		return err
	}
	if status == "deactivated" {
		return d.mailDeactivated(ctx, tx, a, before)
	}
	return nil
}

// Leftover is one kind of thing a member leaves behind when deactivated.
type Leftover struct {
	Kind  string // e.g. "api_tokens"
	Label string // e.g. "API tokens"
	Items []string
}

// leftoverKind lists and settles one kind of leftover. Features register
// theirs (pending invitations, sole vehicle managers) in init().
type leftoverKind struct {
	list   func(ctx context.Context, d *DB, q queryer, a *Actor, memberID int64, now string) (Leftover, error)
	settle func(ctx context.Context, d *DB, tx *sql.Tx, a *Actor, memberID int64, h Handover, now string) (string, error)
}

var leftoverHandlers []leftoverKind

func init() {
	leftoverHandlers = append(leftoverHandlers, leftoverKind{
		list: func(ctx context.Context, _ *DB, q queryer, a *Actor, memberID int64, _ string) (Leftover, error) {
			l := Leftover{Kind: "api_tokens", Label: "API tokens (ended at once)"}
			rows, err := q.QueryContext(ctx, `SELECT name, created_at FROM api_tokens WHERE member_id = ? ORDER BY id`, memberID)
			if err != nil {
				return l, err
			}
			defer rows.Close()
			for rows.Next() {
				var name, created string
				if err := rows.Scan(&name, &created); err != nil {
					return l, err
				}
				if name == "" {
					name = "token"
				}
				l.Items = append(l.Items, fmt.Sprintf("%s (created %s)", name, created[:10]))
			}
			return l, rows.Err()
		},
		settle: func(context.Context, *DB, *sql.Tx, *Actor, int64, Handover, string) (string, error) { return "", nil },
	})
}

// Leftovers lists what deactivating the member would leave behind.
func (d *DB) Leftovers(ctx context.Context, a *Actor, memberID int64) ([]Leftover, error) {
	if _, err := d.Member(ctx, a, memberID); err != nil {
		return nil, err
	}
	var out []Leftover
	for _, k := range leftoverHandlers {
		l, err := k.list(ctx, d, d.r, a, memberID, d.stamp())
		if err != nil {
			return nil, err
		}
		if len(l.Items) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// DeleteMember removes a member from the account for good. Their login
// stays if it belongs to other accounts. What they recorded stays,
// attributed to "former member <name>" (see deleteHooks).
func (d *DB) DeleteMember(ctx context.Context, a *Actor, memberID int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersDelete)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		before, err := member(ctx, tx, a.AccountID, memberID)
		if err != nil {
			return err
		}
		for _, hook := range deleteHooks {
			if err := hook(ctx, tx, a, memberID, "former member "+before.Name()); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE id = ? AND account_id = ?`, memberID, a.AccountID); err != nil {
			return ruleViolation(err)
		}
		// A login that belongs to no account any more is removed with it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ? AND NOT EXISTS (SELECT 1 FROM members WHERE user_id = ?)`,
			before.UserID, before.UserID); err != nil {
			return err
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "member.delete", Target: before.Name(), Summary: "Member deleted permanently", Before: stateOf(before)}); err != nil {
			return err
		}
		return d.mailDeleted(ctx, tx, a, before)
	})
}

// deleteHooks let features keep a deleted member's records, e.g. trips
// renamed to "former member <name>", before the member row goes.
var deleteHooks []func(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, formerName string) error

// TransferOwnership hands the account to another active member. Only the
// Owner may, and only with their password; the former Owner becomes Admin.
func (d *DB) TransferOwnership(ctx context.Context, a *Actor, toMemberID int64, ownerPassword string) error {
	if !a.IsOwner() || a.PreviewBy != nil {
		return Errorf(EForbidden, "Only the account Owner can hand over ownership.")
	}
	// Asked first on a reader, so that the slow password check holds no
	// write lock; the write asks about the new owner again.
	to, err := d.Member(ctx, a, toMemberID)
	if err != nil {
		return err
	}
	if to.ID == a.MemberID {
		return FieldError("member_id", "You already own this account.")
	}
	if to.Status != "active" {
		return FieldError("member_id", "Ownership can only go to an active member.")
	}
	var hash string
	if err := d.r.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, a.UserID).Scan(&hash); err != nil {
		return err
	}
	if !password.Check(ownerPassword, hash) {
		return FieldError("password", "That is not your password.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		to, err := member(ctx, tx, a.AccountID, toMemberID)
		if err != nil {
			return err
		}
		if to.ID == a.MemberID {
			return FieldError("member_id", "You already own this account.")
		}
		if to.Status != "active" {
			return FieldError("member_id", "Ownership can only go to an active member.")
		}
		// One statement: the schema's triggers check the new owner and swap the roles.
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET owner_member_id = ? WHERE id = ? AND owner_member_id = ?`,
			to.ID, a.AccountID, a.MemberID)
		if err != nil {
			return ruleViolation(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(EForbidden, "Only the account Owner can hand over ownership, and you no longer own this account.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET vehicle_access = 'all' WHERE id = ?`, to.ID); err != nil {
			return err
		}
		// Both members' roles changed: forms opened before are out of date.
		for _, id := range []int64{to.ID, a.MemberID} {
			if err := d.touch(ctx, tx, a, "members", id); err != nil {
				return err
			}
		}
		return d.audit(ctx, tx, a, Event{Kind: "account.ownership", Target: to.Name(),
			Summary: fmt.Sprintf("Ownership handed from %s to %s; %s is now Admin", a.Name(), to.Name(), a.Name()),
			Before:  map[string]string{"owner": a.Name()}, After: map[string]string{"owner": to.Name()}})
	})
}

// StartPreview lets the actor see the console as another member of their
// reach, read-only. It is audited with both names.
func (d *DB) StartPreview(ctx context.Context, a *Actor, sessionToken string, memberID int64) error {
	if a.PreviewBy != nil {
		return Errorf(EForbidden, "You are already previewing; exit the preview first.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		target, err := d.checkPreview(ctx, tx, a, memberID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET preview_member_id = ? WHERE id_hash = ? AND member_id = ?`,
			memberID, hashToken(sessionToken), a.MemberID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "member.preview", Target: target.Name(),
			Summary: fmt.Sprintf("%s previewed the console as %s", a.Name(), target.Name())})
	})
}

// checkPreview refuses a preview the actor may not start or go on with:
// of themselves, of a member out of their reach, or of a member who sees
// vehicles or groups the actor does not (the preview would show them).
// SessionActor asks again on every request of a previewing session.
func (d *DB) checkPreview(ctx context.Context, q queryer, a *Actor, memberID int64) (MemberDetail, error) {
	target, err := member(ctx, q, a.AccountID, memberID)
	if err != nil {
		return target, err
	}
	if memberID == a.MemberID {
		return target, Errorf(EForbidden, "You already see the console as yourself.")
	}
	if !target.IsOwner {
		if err := checkReach(ctx, q, a, memberID); err != nil {
			return target, err
		}
	} else if !a.IsOwner() {
		return target, Errorf(EForbidden, "Nobody can preview the console as the account Owner.")
	}
	if !a.Can(perm.UsersManage) {
		return target, Errorf(EForbidden, "Previewing needs '%s'.", perm.Label(perm.UsersManage))
	}
	wider, err := d.accessWider(ctx, q, a, memberID)
	if err != nil {
		return target, err
	}
	if wider {
		return target, Errorf(EForbidden, "%s sees vehicles outside your own vehicle access, so you cannot preview the console as them.", target.Name())
	}
	return target, nil
}

// EndPreview returns the session to its own member.
func (d *DB) EndPreview(ctx context.Context, sessionToken string) error {
	_, err := d.w.ExecContext(ctx, `UPDATE sessions SET preview_member_id = NULL WHERE id_hash = ?`, hashToken(sessionToken))
	return err
}

// BulkResult tells what a bulk action did.
type BulkResult struct {
	Changed int
	Skipped []string // "<name>: <reason>"
}

// Bulk applies one action to many members, each under the same rules as
// one at a time; members the actor may not change are skipped with a reason.
func (d *DB) Bulk(ctx context.Context, a *Actor, action string, roleID int64, memberIDs []int64) (BulkResult, error) {
	var res BulkResult
	if action != "deactivate" && action != "reactivate" && action != "role" {
		return res, FieldError("action", "Choose an action.")
	}
	if action == "role" { // said once up front; each change checks it again
		if err := d.CheckGrantRole(ctx, a, roleID); err != nil {
			return res, err
		}
	}
	for _, id := range memberIDs {
		// Each member in a transaction of its own, checked and changed
		// there, from the member as they are at that moment.
		var name string
		err := d.update(ctx, func(tx *sql.Tx) error {
			m, err := member(ctx, tx, a.AccountID, id)
			if err != nil {
				return err
			}
			name = m.Name()
			switch action {
			case "deactivate":
				return d.setStatus(ctx, tx, a, id, "deactivated", Handover{RefuseLeftovers: true})
			case "reactivate":
				return d.setStatus(ctx, tx, a, id, "active", Handover{})
			case "role":
				return d.updateMember(ctx, tx, a, id, m.Version, MemberEdit{FirstName: m.FirstName, LastName: m.LastName, Phone: m.Phone, RoleID: roleID, Channel: m.Channel})
			}
			return nil
		})
		if name == "" && ErrorCode(err) == ENotFound {
			continue // not in this account: nothing to say about it
		}
		var fe *Error
		switch {
		case err == nil:
			res.Changed++
		case errors.As(err, &fe):
			res.Skipped = append(res.Skipped, name+": "+fe.Message)
		default:
			return res, err
		}
	}
	return res, nil
}
