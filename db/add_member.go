package db

import (
	"context"
	"database/sql"
	"errors"
)

// NewPerson is a person added directly, with an initial password, for
// teams that do not use e-mail.
type NewPerson struct {
	FirstName, LastName, Phone, Email string
	PasswordHash                      string // unused when the e-mail already has a login
	RoleID                            int64
	Channel                           string
	VehicleAccess                     string
	Grants                            []GroupGrant // groups chosen up front, for selected access
}

// PersonAdded tells what AddPerson did.
type PersonAdded struct {
	MemberID int64
}

// ErrLoginExists answers AddPerson for an e-mail that already has a login:
// a login joins another account only by accepting an invitation, never
// because someone typed its address. The caller invites instead, and says
// the same to the adder as for a new login.
var ErrLoginExists = &Error{Code: EConflict, Field: "email", Message: "This e-mail already has a login; it joins by invitation."}

// AddPerson makes a person with a new login an active member of the
// actor's account. An e-mail that already has a login is ErrLoginExists.
// An open invitation to the same e-mail is withdrawn, since the person is
// now a member.
func (d *DB) AddPerson(ctx context.Context, a *Actor, np NewPerson) (PersonAdded, error) {
	var out PersonAdded
	np.Clean()
	if err := invalid(np.Validate(), personOrder...); err != nil {
		return out, err
	}
	if np.VehicleAccess == "all" {
		np.Grants = nil
	}
	err := d.update(ctx, func(tx *sql.Tx) error {
		if err := checkGrant(ctx, tx, a, np.RoleID, np.VehicleAccess); err != nil {
			return err
		}
		if err := d.checkGroupGrants(ctx, tx, a, np.Grants); err != nil {
			return err
		}
		if err := refuseMember(ctx, tx, a.AccountID, np.Email); err != nil {
			return err
		}
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, np.Email).Scan(&userID)
		switch {
		case err == nil:
			return ErrLoginExists
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case np.PasswordHash == "":
			return FieldError("password", "Enter an initial password.")
		default:
			if userID, err = createUser(ctx, tx, d.stamp(), NewUser{Email: np.Email, PasswordHash: np.PasswordHash,
				FirstName: np.FirstName, LastName: np.LastName, Phone: np.Phone}); err != nil {
				return err
			}
		}
		if out.MemberID, err = addMember(ctx, tx, d.stamp(), a.AccountID, NewMember{UserID: userID, RoleID: np.RoleID,
			Status: "active", Channel: np.Channel, VehicleAccess: np.VehicleAccess}); err != nil {
			return err
		}
		if err := insertGroupGrants(ctx, tx, a.AccountID, out.MemberID, np.Grants, d.stamp()); err != nil {
			return err
		}
		var role, first, last string
		if err := tx.QueryRowContext(ctx, `SELECT r.name, u.first_name, u.last_name FROM members m JOIN roles r ON r.id = m.role_id
			JOIN users u ON u.id = m.user_id WHERE m.id = ?`, out.MemberID).Scan(&role, &first, &last); err != nil {
			return err
		}
		after := map[string]any{"member_id": out.MemberID, "email": np.Email, "name": displayName(first, last, np.Email),
			"role": role, "status": "active", "channel": np.Channel, "vehicle_access": np.VehicleAccess, "groups": np.Grants}
		res, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE account_id = ? AND email = ?
			AND accepted_at IS NULL AND revoked_at IS NULL`, d.stamp(), a.AccountID, np.Email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			after["withdrew_open_invitation"] = true
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "member.add", Target: displayName(first, last, np.Email),
			Summary: "Added " + displayName(first, last, np.Email) + " as " + role, After: after}); err != nil {
			return err
		}
		return d.mailJoined(ctx, tx, a, a.AccountID, out.MemberID)
	})
	return out, err
}
