package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// Actor is the member making a request, loaded fresh from the database on
// every request: their account, role, effective permissions and status.
type Actor struct {
	UserID        int64
	MemberID      int64
	AccountID     int64
	AccountName   string
	OwnerMemberID int64
	Email         string
	FirstName     string
	LastName      string
	RoleID        int64
	RoleName      string
	Builtin       perm.Builtin
	Status        string
	Channel       string
	VehicleAccess string // "all" or "selected"
	Perms         perm.Set

	// Token is set when the request came with an API token: its kind and
	// whether it may only read.
	Token *TokenUse

	// The account's settings that every page needs: dates are shown in
	// TimeZone (an IANA name), distances in DistanceUnit ("km" or "mi").
	TimeZone     string
	DistanceUnit string
	// SubscriptionEnds is the last day of the account's subscription;
	// after it the account is read-only (see ReadOnly).
	SubscriptionEnds time.Time
	SubscriptionID   int64

	// PreviewBy is set while someone previews the console as this member:
	// it is the member who is really at the keyboard. Nothing may change.
	PreviewBy *Actor

	// twoFactorDue, read with the actor (twoFactorRead), tells whether
	// the member's role requires two-factor sign-in the login has not set
	// up (see TwoFactorDueAtLoad).
	twoFactorDue, twoFactorRead bool
}

// IsOwner reports whether the actor owns the account.
func (a *Actor) IsOwner() bool { return a.MemberID == a.OwnerMemberID }

// Can reports whether the actor's role holds k.
func (a *Actor) Can(k perm.Key) bool { return a.Perms.Has(k) }

// ReadOnly reports whether the account's subscription ended before now's
// day: then nothing in the account may change but renewing it.
func (a *Actor) ReadOnly(now time.Time) bool {
	return !a.SubscriptionEnds.IsZero() && now.UTC().Format(time.DateOnly) > a.SubscriptionEnds.Format(time.DateOnly)
}

// Location is the account's time zone (UTC when it cannot be loaded).
func (a *Actor) Location() *time.Location { return LoadZone(a.TimeZone) }

// Name is the actor's display name.
func (a *Actor) Name() string { return displayName(a.FirstName, a.LastName, a.Email) }

func displayName(first, last, email string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return email
}

// loadActor reads the member's row and role: the single place where a
// member's effective permissions are computed.
func (d *DB) loadActor(ctx context.Context, memberID int64) (*Actor, error) {
	a := &Actor{}
	var ends string
	var perms sql.NullString
	if err := d.readRow(ctx, actorByMember, memberID).Scan(a.scanTargets(&ends, &perms)...); err != nil {
		return nil, err
	}
	a.finish(ends, perms)
	return a, nil
}

const actorByMember = `SELECT ` + actorColumns + ` FROM ` + actorFrom + ` WHERE m.id = ?`

func loadActorOn(ctx context.Context, q queryer, memberID int64) (*Actor, error) {
	a := &Actor{}
	var ends string
	var perms sql.NullString
	if err := q.QueryRowContext(ctx, actorByMember, memberID).Scan(a.scanTargets(&ends, &perms)...); err != nil {
		return nil, err
	}
	a.finish(ends, perms)
	return a, nil
}

// actorColumns and actorFrom read a member as an actor in one statement:
// the member, account, subscription, settings, login and role, and the
// role's permissions (each key and its scopes, between ASCII unit and
// record separators, which JSON text never holds unescaped), so that the
// request path reads who is asking and what they may do with one
// indexed statement (SessionActor and TokenActor put their own row in
// front of these). The two-factor column tells whether the member's role
// requires two-factor sign-in that the login has not set up.
const actorColumns = `m.user_id, m.id, m.account_id, a.name, a.owner_member_id, u.email, u.first_name, u.last_name,
		       m.role_id, r.name, COALESCE(r.builtin, ''), m.status, m.channel, m.vehicle_access,
		       COALESCE(st.time_zone, 'UTC'), COALESCE(st.distance_unit, 'km'), sub.ends_on, sub.id,
		       (SELECT string_agg(rp.permission || '` + "\x1f" + `' || rp.scopes, '` + "\x1e" + `') FROM role_permissions rp WHERE rp.role_id = m.role_id),
		       EXISTS (SELECT 1 FROM two_factor_roles tf WHERE tf.account_id = m.account_id AND tf.role_id = m.role_id)
		         AND NOT EXISTS (SELECT 1 FROM totp_secrets ts WHERE ts.user_id = m.user_id AND ts.confirmed_at IS NOT NULL)`

const actorFrom = `members m
		  JOIN accounts a ON a.id = m.account_id
		  JOIN subscriptions sub ON sub.id = a.subscription_id
		  LEFT JOIN account_settings st ON st.account_id = a.id
		  JOIN users u ON u.id = m.user_id
		  JOIN roles r ON r.id = m.role_id`

// scanTargets are the destinations of actorColumns.
func (a *Actor) scanTargets(ends *string, perms *sql.NullString) []any {
	return []any{&a.UserID, &a.MemberID, &a.AccountID, &a.AccountName, &a.OwnerMemberID, &a.Email, &a.FirstName, &a.LastName,
		&a.RoleID, &a.RoleName, (*string)(&a.Builtin), &a.Status, &a.Channel, &a.VehicleAccess,
		&a.TimeZone, &a.DistanceUnit, ends, &a.SubscriptionID, perms, &a.twoFactorDue}
}

// finish completes an actor read by actorColumns: the subscription's end
// and the effective permissions (every permission for the Owner).
func (a *Actor) finish(ends string, perms sql.NullString) {
	a.SubscriptionEnds, _ = time.Parse(time.DateOnly, ends)
	a.twoFactorRead = true
	if a.IsOwner() {
		a.Perms = perm.Everything()
		a.VehicleAccess = "all"
		return
	}
	a.Perms = parsePermissions(perms.String)
}

// TwoFactorDueAtLoad reports what the actor's read found: whether the
// member's role requires two-factor sign-in that the login has not set up
// (due), and whether it was read with the actor at all (known). The
// request's policy check uses it instead of asking again; code that
// changes two-factor sign-in asks MustSetUpTwoFactor.
func (a *Actor) TwoFactorDueAtLoad() (due, known bool) { return a.twoFactorDue, a.twoFactorRead }

// parsePermissions reads the permissions of actorColumns; scopes is a
// JSON object of scope key to integer.
func parsePermissions(s string) perm.Set {
	set := perm.Set{}
	for s != "" {
		line, rest, _ := strings.Cut(s, "\x1e")
		s = rest
		k, scopes, _ := strings.Cut(line, "\x1f")
		set[perm.Key(k)] = parseScopes(scopes)
	}
	return set
}

// parseScopes reads a role permission's scopes ("{}" for none, the usual
// case, which needs no JSON decoder).
func parseScopes(scopes string) map[string]int {
	sc := map[string]int{}
	if scopes != "{}" && scopes != "" {
		_ = json.Unmarshal([]byte(scopes), &sc)
	}
	return sc
}

// actorIn reads the actor again inside a write transaction, so that the
// rules of access judge the write by the actor's role, permissions and
// vehicle access as they are when it happens, not as the request found
// them. It refuses an actor who is no longer active, or whose role no
// longer holds need (the permission the write's route asks for).
func actorIn(ctx context.Context, q queryer, a *Actor, need perm.Key) (*Actor, error) {
	fresh, err := loadActorOn(ctx, q, a.MemberID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(EForbidden, "You are no longer a member of this account.")
	}
	if err != nil {
		return nil, err
	}
	if fresh.Status != "active" {
		return nil, Errorf(EForbidden, "Your membership of this account is no longer active.")
	}
	if need != "" && !fresh.Can(need) {
		return nil, Errorf(EForbidden, "You need '%s' for this; your role changed since the page was opened.", perm.Label(need))
	}
	fresh.PreviewBy = a.PreviewBy
	return fresh, nil
}

// Refusal tells why a member may not use a channel ("web" for the
// console, "mobile" for the JSON API), or "" if they may: "deactivated",
// "inactive" (invited), "notifications" (that role cannot log in), or the
// only channel they have ("mobile" or "web"). Each has its own message.
func Refusal(status, channel string, builtin perm.Builtin, via string) string {
	switch {
	case status == "deactivated":
		return "deactivated"
	case status != "active":
		return "inactive"
	case builtin == perm.Notifications:
		return "notifications"
	case channel != "both" && channel != via:
		return channel
	}
	return ""
}

// WebRefusal is Refusal for the web console.
func WebRefusal(status, channel string, builtin perm.Builtin) string {
	return Refusal(status, channel, builtin, "web")
}

// Membership is one account a login belongs to, for the account switcher.
type Membership struct {
	MemberID    int64
	AccountID   int64
	AccountName string
	RoleName    string
	Builtin     perm.Builtin
	Status      string
	Channel     string
}

// WebUsable reports whether this membership may be used in the console.
func (m Membership) WebUsable() bool { return WebRefusal(m.Status, m.Channel, m.Builtin) == "" }

// Memberships lists the accounts of a login, by account name (every
// page's account switcher: a prepared statement).
func (d *DB) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	rows, err := d.readQuery(ctx, `
		SELECT m.id, a.id, a.name, r.name, COALESCE(r.builtin, ''), m.status, m.channel
		  FROM members m JOIN accounts a ON a.id = m.account_id JOIN roles r ON r.id = m.role_id
		 WHERE m.user_id = ? ORDER BY lower(a.name), a.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var b string
		if err := rows.Scan(&m.MemberID, &m.AccountID, &m.AccountName, &m.RoleName, &b, &m.Status, &m.Channel); err != nil {
			return nil, err
		}
		m.Builtin = perm.Builtin(b)
		out = append(out, m)
	}
	return out, rows.Err()
}

// ActorByMember loads a member as an actor (for tests, tools and the
// demo; requests load actors from their session).
func (d *DB) ActorByMember(ctx context.Context, memberID int64) (*Actor, error) {
	return d.loadActor(ctx, memberID)
}
