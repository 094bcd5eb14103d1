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

// InviteTTL is how long an invitation link stays valid unless the server
// is configured otherwise.
const InviteTTL = 7 * 24 * time.Hour

// InviteState is where an invitation stands. Each state but pending has
// its own message on the accept page.
type InviteState string

const (
	InvitePending  InviteState = "pending"
	InviteExpired  InviteState = "expired"
	InviteAccepted InviteState = "accepted"
	InviteRevoked  InviteState = "revoked"
)

// Invitation is an invitation as the pending list and the accept page
// show it. The token itself is never stored, only its hash.
type Invitation struct {
	ID            int64
	AccountID     int64
	AccountName   string
	Email         string
	RoleID        int64
	RoleName      string
	RoleBuiltin   perm.Builtin
	Channel       string
	VehicleAccess string // "all" or "selected"
	Grants        string // JSON list of vehicle grants chosen up front
	InvitedBy     string
	CreatedAt     time.Time
	SentAt        time.Time // when the current link was issued
	ExpiresAt     time.Time
	AcceptedAt    *time.Time
	RevokedAt     *time.Time
}

// State tells whether the invitation can still be accepted at now.
func (i Invitation) State(now time.Time) InviteState {
	switch {
	case i.AcceptedAt != nil:
		return InviteAccepted
	case i.RevokedAt != nil:
		return InviteRevoked
	case !now.Before(i.ExpiresAt):
		return InviteExpired
	}
	return InvitePending
}

// StateMessage is the plain sentence the accept page shows for a link
// that can no longer be used.
func (i Invitation) StateMessage(now time.Time) string {
	switch i.State(now) {
	case InviteAccepted:
		return "This invitation has already been used. Log in with the e-mail " + i.Email + " instead."
	case InviteRevoked:
		return "This invitation was withdrawn by " + i.AccountName + ". Ask them for a new one if you still need access."
	case InviteExpired:
		return "This invitation expired on " + i.ExpiresAt.UTC().Format("2 January 2006, 15:04 UTC") + ". Ask " + i.AccountName + " to send you a new one."
	}
	return ""
}

// NewInvitation is what the invite form asks for.
type NewInvitation struct {
	Email         string
	RoleID        int64
	Channel       string
	VehicleAccess string
	Grants        []GroupGrant  // groups chosen up front, for selected access
	TTL           time.Duration // 0 means InviteTTL
	// Mail, when set, writes the invitation e-mail (with the link of the
	// token) to the outbox in the transaction that makes the invitation.
	Mail InvitationMail
}

// InvitationMail composes the e-mail of an invitation and its token.
type InvitationMail func(inv Invitation, token string) Mail

const invitationColumns = `i.id, i.account_id, a.name, i.email, i.role_id, r.name, COALESCE(r.builtin, ''), i.channel,
	i.vehicle_access, i.grants, i.invited_by_name, i.created_at, i.sent_at, i.expires_at, i.accepted_at, i.revoked_at`

const invitationFrom = ` FROM invitations i JOIN accounts a ON a.id = i.account_id JOIN roles r ON r.id = i.role_id `

func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var i Invitation
	var b string
	err := row.Scan(&i.ID, &i.AccountID, &i.AccountName, &i.Email, &i.RoleID, &i.RoleName, &b, &i.Channel,
		&i.VehicleAccess, &i.Grants, &i.InvitedBy, timeCol{&i.CreatedAt}, timeCol{&i.SentAt}, timeCol{&i.ExpiresAt},
		nullTimeCol{&i.AcceptedAt}, nullTimeCol{&i.RevokedAt})
	if err != nil {
		return i, err
	}
	i.RoleBuiltin = perm.Builtin(b)
	return i, nil
}

// CheckGrantAccess refuses, on the "vehicle_access" field, a vehicle
// access the actor may not give: all vehicles only by one who has them.
func CheckGrantAccess(a *Actor, access string) error {
	switch access {
	case "selected":
		return nil
	case "all":
		if a.VehicleAccess == "all" {
			return nil
		}
		return &Error{Code: EForbidden, Field: "vehicle_access", Message: "You can give access to all vehicles only if you have it yourself."}
	}
	return FieldError("vehicle_access", "Choose one of the offered vehicle accesses.")
}

// checkGrant is the no-escalation rule for a new member or an invitation: the role and the
// vehicle access must both be within the actor's own.
func checkGrant(ctx context.Context, q queryer, a *Actor, roleID int64, access string) error {
	if err := checkGrantRole(ctx, q, a, roleID); err != nil {
		return err
	}
	return CheckGrantAccess(a, access)
}

// CreateInvitation invites an e-mail into the actor's account and returns
// the invitation with its token, the only time the token is known.
func (d *DB) CreateInvitation(ctx context.Context, a *Actor, ni NewInvitation) (Invitation, string, error) {
	ni.Email = strings.TrimSpace(ni.Email)
	if ni.Channel == "" {
		ni.Channel = "web"
	}
	if err := invalid(ni.Validate(), personOrder...); err != nil {
		return Invitation{}, "", err
	}
	if ni.VehicleAccess == "all" {
		ni.Grants = nil
	}
	ttl := ni.TTL
	if ttl <= 0 {
		ttl = InviteTTL
	}
	token := NewToken()
	var inv Invitation
	err := d.update(ctx, func(tx *sql.Tx) error {
		if err := checkGrant(ctx, tx, a, ni.RoleID, ni.VehicleAccess); err != nil {
			return err
		}
		if err := d.checkGroupGrants(ctx, tx, a, ni.Grants); err != nil {
			return err
		}
		if err := refuseMember(ctx, tx, a.AccountID, ni.Email); err != nil {
			return err
		}
		now := d.Now()
		// An open invitation to the same e-mail: a valid one is refused, an
		// expired one is replaced (and marked withdrawn).
		var oldID int64
		var oldExpires time.Time
		replaced := int64(0)
		err := tx.QueryRowContext(ctx, `SELECT id, expires_at FROM invitations
			WHERE account_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL`, a.AccountID, ni.Email).Scan(&oldID, timeCol{&oldExpires})
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case now.Before(oldExpires):
			return FieldError("email", "An invitation to this e-mail is already pending. Resend or revoke it in the list of pending invitations.")
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ?`, d.stamp(), oldID); err != nil {
				return err
			}
			replaced = oldID
		}
		id, err := insertID(ctx, tx, `INSERT INTO invitations (account_id, email, role_id, channel, vehicle_access, grants,
			token_hash, invited_by, invited_by_name, created_at, sent_at, expires_at)
			SELECT ?, ?, r.id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM roles r WHERE r.id = ? AND r.account_id = ?`,
			a.AccountID, ni.Email, ni.Channel, ni.VehicleAccess, encodeGrants(ni.Grants), hashToken(token), a.MemberID, a.Name(),
			now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), now.Add(ttl).Format(time.RFC3339Nano), ni.RoleID, a.AccountID)
		if isUnique(err) {
			return FieldError("email", "An invitation to this e-mail is already pending. Resend or revoke it in the list of pending invitations.")
		}
		if errors.Is(err, sql.ErrNoRows) {
			return FieldError("role_id", "Choose one of the offered roles.")
		}
		if err != nil {
			return err
		}
		if inv, err = scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.id = ?`, id)); err != nil {
			return err
		}
		after := map[string]any{"email": inv.Email, "role": inv.RoleName, "channel": inv.Channel,
			"vehicle_access": inv.VehicleAccess, "groups": ni.Grants, "expires_at": inv.ExpiresAt.Format(time.RFC3339)}
		if replaced != 0 {
			after["replaces_expired_invitation"] = replaced
		}
		if ni.Mail != nil {
			if err := d.enqueueInvitation(ctx, tx, ni.Mail, inv, token); err != nil {
				return err
			}
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "invitation.create", Target: inv.Email,
			Summary: "Invited " + inv.Email + " as " + inv.RoleName, After: after}); err != nil {
			return err
		}
		return d.mailInvited(ctx, tx, a, inv)
	})
	return inv, token, err
}

// refuseMember refuses an e-mail whose login is already a member of the account.
func refuseMember(ctx context.Context, q queryer, accountID int64, email string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = ? AND u.email = ?`, accountID, strings.TrimSpace(email)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return FieldError("email", "This person is already a member of the account.")
}

// PendingInvitations lists the account's invitations not yet accepted or
// revoked (expired ones included, so they can be resent), newest first.
func (d *DB) PendingInvitations(ctx context.Context, a *Actor) ([]Invitation, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.account_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.id DESC`, a.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// openInvitation reads an invitation of the actor's account that is still
// open (not accepted, not revoked) and that the actor could have made:
// resending or revoking one with a wider role than the actor's is refused,
// because a fresh link to it would be an escalation.
func (d *DB) openInvitation(ctx context.Context, tx *sql.Tx, a *Actor, id int64) (Invitation, error) {
	inv, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+
		` WHERE i.id = ? AND i.account_id = ?`, id, a.AccountID))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, notFound("Invitation")
	}
	if err != nil {
		return inv, err
	}
	switch inv.State(d.Now()) {
	case InviteAccepted:
		return inv, Errorf(EConflict, "%s has already accepted this invitation.", inv.Email)
	case InviteRevoked:
		return inv, Errorf(EConflict, "This invitation was already revoked.")
	}
	if err := checkGrant(ctx, tx, a, inv.RoleID, inv.VehicleAccess); err != nil {
		if ErrorCode(err) == EForbidden {
			return inv, Errorf(EForbidden, "This invitation gives more than you may give (%s), so you cannot resend or revoke it.", strings.TrimSuffix(SafeMessage(err), "."))
		}
		return inv, err
	}
	return inv, nil
}

// RenewInvitation issues a fresh link for an open invitation (the old link
// stops working) and restarts its validity. kind is the audit kind:
// "invitation.resend" when it is e-mailed again (mail writes the e-mail to
// the outbox in the same transaction), "invitation.link" when the link is
// only shown to be copied (mail nil).
func (d *DB) RenewInvitation(ctx context.Context, a *Actor, id int64, ttl time.Duration, kind string, mail InvitationMail) (Invitation, string, error) {
	if ttl <= 0 {
		ttl = InviteTTL
	}
	token := NewToken()
	var inv Invitation
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		if inv, err = d.openInvitation(ctx, tx, a, id); err != nil {
			return err
		}
		before := map[string]any{"expires_at": inv.ExpiresAt.Format(time.RFC3339), "state": string(inv.State(d.Now()))}
		now := d.Now()
		inv.SentAt, inv.ExpiresAt = now, now.Add(ttl)
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET token_hash = ?, sent_at = ?, expires_at = ? WHERE id = ?`,
			hashToken(token), now.Format(time.RFC3339Nano), inv.ExpiresAt.Format(time.RFC3339Nano), id); err != nil {
			return err
		}
		summary := "Issued a new invitation link for " + inv.Email
		if kind == "invitation.resend" {
			summary = "Resent the invitation to " + inv.Email
		}
		if mail != nil {
			if err := d.enqueueInvitation(ctx, tx, mail, inv, token); err != nil {
				return err
			}
		}
		return d.audit(ctx, tx, a, Event{Kind: kind, Target: inv.Email, Summary: summary, Before: before,
			After: map[string]any{"expires_at": inv.ExpiresAt.Format(time.RFC3339), "state": "pending", "previous_link": "no longer valid"}})
	})
	return inv, token, err
}

// RevokeInvitation withdraws an open invitation: its link stops working.
func (d *DB) RevokeInvitation(ctx context.Context, a *Actor, id int64) (Invitation, error) {
	var inv Invitation
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		if inv, err = d.openInvitation(ctx, tx, a, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ?`, d.stamp(), id); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "invitation.revoke", Target: inv.Email,
			Summary: "Revoked the invitation to " + inv.Email + " as " + inv.RoleName,
			Before:  map[string]any{"state": string(inv.State(d.Now())), "role": inv.RoleName},
			After:   map[string]any{"state": "revoked"}})
	})
	return inv, err
}

// InvitationByToken finds the invitation of a link, in whatever state.
// An unknown token is ENotFound.
func (d *DB) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	inv, err := scanInvitation(d.r.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.token_hash = ?`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, Errorf(ENotFound, "This invitation link is not valid. Check that you copied the whole link, or ask for a new one.")
	}
	return inv, err
}

// Acceptance is what the person accepting an invitation gave: a new
// login's names and password hash, or Existing when the invitee joins with
// the e-mail's existing login (whose password the handler has checked).
type Acceptance struct {
	Existing     bool
	FirstName    string
	LastName     string
	PasswordHash string
}

// Accepted tells who the accepted invitation made a member.
type Accepted struct {
	UserID, MemberID, AccountID int64
	AccountName                 string
}

// AcceptInvitation turns an open invitation into an active member with the
// invited role and vehicle access, creating the login if the e-mail has
// none, and uses the link up.
func (d *DB) AcceptInvitation(ctx context.Context, token string, acc Acceptance) (Accepted, error) {
	var out Accepted
	acc.FirstName, acc.LastName = strings.TrimSpace(acc.FirstName), strings.TrimSpace(acc.LastName)
	if err := invalid(acc.Validate(), personOrder...); err != nil {
		return out, err
	}
	var refused error
	err := d.update(ctx, func(tx *sql.Tx) error {
		inv, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.token_hash = ?`, hashToken(token)))
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENotFound, "This invitation link is not valid.")
		}
		if err != nil {
			return err
		}
		if msg := inv.StateMessage(d.Now()); msg != "" {
			return Errorf(EConflict, "%s", msg)
		}
		if inv.RoleBuiltin == perm.Owner {
			return Errorf(EForbidden, "Nobody can be invited as Owner.")
		}
		if why, err := d.inviterStillMay(ctx, tx, inv); err != nil {
			return err
		} else if why != "" {
			// The link dies and the account learns why, in its audit log;
			// the refusal itself is committed, so it is not an error here.
			if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ?`, d.stamp(), inv.ID); err != nil {
				return err
			}
			refused = Errorf(EForbidden, "This invitation can no longer be accepted: %s Ask %s for a new invitation.", why, inv.AccountName)
			return d.audit(ctx, tx, &Actor{AccountID: inv.AccountID}, Event{Kind: "invitation.refused", Target: inv.Email,
				Summary: "The invitation of " + inv.Email + " as " + inv.RoleName + " was withdrawn at acceptance: " + why,
				Before:  map[string]any{"state": "pending", "invited_by": inv.InvitedBy, "role": inv.RoleName, "vehicle_access": inv.VehicleAccess},
				After:   map[string]any{"state": "revoked"}})
		}
		var userID int64
		var first, last string
		err = tx.QueryRowContext(ctx, `SELECT id, first_name, last_name FROM users WHERE email = ?`, inv.Email).Scan(&userID, &first, &last)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		switch {
		case found && !acc.Existing:
			return &Error{Code: EConflict, Field: "password", Message: "This address already has a Fleetgate login. Choose \"I already use Fleetgate\" and enter that login's password to join."}
		case !found && acc.Existing:
			return &Error{Code: EConflict, Field: "password", Message: "This address has no Fleetgate login any more. Choose \"I am new to Fleetgate\" to create one."}
		case !found:
			first, last = acc.FirstName, acc.LastName
			if userID, err = createUser(ctx, tx, d.stamp(), NewUser{Email: inv.Email, PasswordHash: acc.PasswordHash, FirstName: first, LastName: last}); err != nil {
				return err
			}
		}
		memberID, err := addMember(ctx, tx, d.stamp(), inv.AccountID, NewMember{UserID: userID, RoleID: inv.RoleID,
			Status: "active", Channel: inv.Channel, VehicleAccess: "selected"})
		if err != nil {
			if ErrorCode(err) == EConflict {
				return Errorf(EConflict, "You are already a member of %s. Log in with %s.", inv.AccountName, inv.Email)
			}
			return err
		}
		if err := applyInvitationAccess(ctx, tx, inv, memberID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = ?, member_id = ? WHERE id = ?`, d.stamp(), memberID, inv.ID); err != nil {
			return err
		}
		out = Accepted{UserID: userID, MemberID: memberID, AccountID: inv.AccountID, AccountName: inv.AccountName}
		newcomer := &Actor{MemberID: memberID, AccountID: inv.AccountID, UserID: userID, Email: inv.Email, FirstName: first, LastName: last}
		if err := d.audit(ctx, tx, newcomer, Event{Kind: "invitation.accept", Target: inv.Email,
			Summary: displayName(first, last, inv.Email) + " accepted the invitation as " + inv.RoleName,
			Before:  map[string]any{"state": "pending"},
			After: map[string]any{"state": "accepted", "member_id": memberID, "role": inv.RoleName, "status": "active",
				"channel": inv.Channel, "vehicle_access": inv.VehicleAccess, "existing_login": found, "invited_by": inv.InvitedBy}}); err != nil {
			return err
		}
		return d.mailJoined(ctx, tx, nil, inv.AccountID, memberID)
	})
	if err == nil && refused != nil {
		return out, refused
	}
	return out, err
}

// inviterStillMay re-checks, at acceptance, that the member who sent the
// invitation may still give what it gives: they are still an active member
// of the account, and the role and vehicle access are still within their
// own. Rights are those of the moment of acceptance, not of sending: an
// Admin demoted since then no longer makes Admins. It answers why not, or
// "" when the invitation may be accepted.
func (d *DB) inviterStillMay(ctx context.Context, tx *sql.Tx, inv Invitation) (string, error) {
	var inviterID sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT invited_by FROM invitations WHERE id = ?`, inv.ID).Scan(&inviterID); err != nil {
		return "", fmt.Errorf("read inviter: %w", err)
	}
	if !inviterID.Valid {
		if inv.InvitedBy != "" {
			return "the person who sent it is no longer a member.", nil
		}
		return "", nil // sent by the system (account set-up), not by a member
	}
	// Read in the write transaction, like every check that guards a write.
	inviter, err := loadActorOn(ctx, tx, inviterID.Int64)
	if errors.Is(err, sql.ErrNoRows) {
		return "the person who sent it is no longer a member.", nil
	}
	if err != nil {
		return "", fmt.Errorf("load inviter: %w", err)
	}
	if inviter.AccountID != inv.AccountID || inviter.Status != "active" {
		return "the person who sent it is no longer an active member.", nil
	}
	if !inviter.Can(perm.UsersManage) {
		return "the person who sent it may no longer invite people.", nil
	}
	if err := checkGrant(ctx, tx, inviter, inv.RoleID, inv.VehicleAccess); err != nil {
		if ErrorCode(err) == "" {
			return "", err
		}
		return "the person who sent it may no longer give this role or vehicle access.", nil
	}
	if inv.VehicleAccess != "all" {
		if err := d.checkGroupGrants(ctx, tx, inviter, decodeGrants(inv.Grants)); err != nil {
			if ErrorCode(err) == "" {
				return "", err
			}
			return "the person who sent it may no longer give access to the groups it names.", nil
		}
	}
	return "", nil
}

// applyInvitationAccess gives the new member the vehicle access chosen up
// front: the mode ("all" or "selected") now, and the grants listed in the
// invitation's grants column.
//
// applyInvitationAccess gives the new member the vehicle access chosen up
// front, in the transaction that accepts the invitation.
func applyInvitationAccess(ctx context.Context, tx *sql.Tx, inv Invitation, memberID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE members SET vehicle_access = ? WHERE id = ? AND account_id = ?`,
		inv.VehicleAccess, memberID, inv.AccountID); err != nil {
		return err
	}
	if inv.VehicleAccess == "all" {
		return nil
	}
	return insertGroupGrants(ctx, tx, inv.AccountID, memberID, decodeGrants(inv.Grants), time.Now().UTC().Format(time.RFC3339))
}

// enqueueInvitation queues the e-mail of an invitation, to its address,
// about its account; its body holds the link, so it is secret.
func (d *DB) enqueueInvitation(ctx context.Context, tx *sql.Tx, mail InvitationMail, inv Invitation, token string) error {
	m := mail(inv, token)
	m.AccountID, m.To, m.Secret = inv.AccountID, inv.Email, true
	if m.Kind == "" {
		m.Kind = "invitation"
	}
	return d.enqueueMail(ctx, tx, m)
}
