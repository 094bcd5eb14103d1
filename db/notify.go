package db

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fleetgate/db/perm"
)

// Who receives which e-mail. Every message is written to the outbox in
// the transaction of the change that causes it, and only to members of the
// account the change is about, whose preference for its kind is on:
//
//   - messages about the member concerned (their role, their vehicle
//     access, their account, a sign-in from a new device) are on by default
//     for everyone;
//   - account news (members invited, joined, deactivated or deleted; a
//     role saved; a grant ending; the subscription) goes to subscribers:
//     by default the Owner and Admins, and whoever turned it on. A
//     subscriber also needs the permission to see what the news is about
//     (users.view, roles.view, billing.view), except Notifications-only
//     members, whose preferences are set by those with users.manage;
//   - changes of a vehicle go to its watchers who still see it (a watcher
//     who does not is dropped then and there);
//   - the weekly access digest goes to the Owner.
//
// The member whose action causes account news or a vehicle change is not
// told of it. Every message ends with a link that turns its kind off for
// its recipient (a signed token: see UnsubscribeToken).

// MailKind is one kind of message a member can turn on or off.
type MailKind struct {
	Key   string
	Label string
	Group string // "About you", "Account news", "Vehicles", "Digest"
	// forAll: on by default for every member (otherwise for the Owner and
	// Admins only).
	forAll bool
	// need is the permission a subscriber needs (Notifications-only
	// members excepted); "" for none.
	need perm.Key
	// ownerOnly kinds are offered to the Owner alone.
	ownerOnly bool
}

// The kinds of messages.
const (
	KindRoleChanged   = "you.role"
	KindAccessChanged = "you.access"
	KindAccessEnding  = "you.access-ending"
	KindDeactivated   = "you.deactivated"
	KindNewSignIn     = "you.sign-in"

	KindMemberInvited     = "members.invited"
	KindMemberJoined      = "members.joined"
	KindMemberDeactivated = "members.deactivated"
	KindMemberDeleted     = "members.deleted"
	KindRoleSaved         = "roles.saved"
	KindGrantEnding       = "grants.ending"
	KindSubscription      = "subscription"

	KindVehicleWatched = "vehicles.watched"
	KindDigest         = "digest.weekly"
)

// MailKinds is the catalog, in the order preference forms show it.
var MailKinds = []MailKind{
	{Key: KindRoleChanged, Label: "Your role changed", Group: "About you", forAll: true},
	{Key: KindAccessChanged, Label: "Your vehicle access changed", Group: "About you", forAll: true},
	{Key: KindAccessEnding, Label: "Your access ends in 3 days", Group: "About you", forAll: true},
	{Key: KindDeactivated, Label: "Your account was deactivated", Group: "About you", forAll: true},
	{Key: KindNewSignIn, Label: "A sign-in from a new device", Group: "About you", forAll: true},
	{Key: KindMemberInvited, Label: "A member was invited", Group: "Account news", need: perm.UsersView},
	{Key: KindMemberJoined, Label: "A member joined", Group: "Account news", need: perm.UsersView},
	{Key: KindMemberDeactivated, Label: "A member was deactivated", Group: "Account news", need: perm.UsersView},
	{Key: KindMemberDeleted, Label: "A member was deleted", Group: "Account news", need: perm.UsersView},
	{Key: KindRoleSaved, Label: "A role was saved", Group: "Account news", need: perm.RolesView},
	{Key: KindGrantEnding, Label: "A grant ends this week", Group: "Account news", need: perm.UsersView},
	{Key: KindSubscription, Label: "The subscription nears its end or its paid vehicles", Group: "Account news", need: perm.BillingView},
	{Key: KindVehicleWatched, Label: "Changes of the vehicles you watch", Group: "Vehicles", forAll: true},
	{Key: KindDigest, Label: "Weekly access digest", Group: "Digest", ownerOnly: true},
}

// MailKindOf finds a kind by its key.
func MailKindOf(key string) (MailKind, bool) {
	for _, k := range MailKinds {
		if k.Key == key {
			return k, true
		}
	}
	return MailKind{}, false
}

// defaultOn is whether a kind is on for a member who never chose.
func (k MailKind) defaultOn(b perm.Builtin, owner bool) bool {
	switch {
	case k.ownerOnly:
		return owner
	case k.forAll:
		return true
	}
	return owner || b == perm.Owner || b == perm.Admin
}

// offered is whether the kind applies to such a member at all.
func (k MailKind) offered(owner bool) bool { return !k.ownerOnly || owner }

// SetLinkBase sets the console's public address (e.g.
// https://fleet.example.com) that links in e-mails start with; without
// one, links are paths ("/users/4").
func (d *DB) SetLinkBase(base string) { d.linkBase.Store(strings.TrimRight(base, "/")) }

// link is the absolute address of a console path, for e-mails.
func (d *DB) link(path string) string {
	b, _ := d.linkBase.Load().(string)
	return b + path
}

// recipient is one member a message may go to.
type recipient struct {
	memberID int64
	email    string
	name     string
	status   string
	builtin  perm.Builtin
	owner    bool
	roleID   int64
	all      bool // all-vehicles access (or the Owner)
	pref     sql.NullBool
}

const recipientCols = `m.id, u.email, u.first_name, u.last_name, m.status, COALESCE(r.builtin, ''), m.id = a.owner_member_id, m.role_id,
	m.vehicle_access = 'all' OR m.id = a.owner_member_id, p.enabled`

const recipientFrom = `members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id JOIN accounts a ON a.id = m.account_id
	LEFT JOIN mail_preferences p ON p.member_id = m.id AND p.kind = ?`

func scanRecipients(rows *sql.Rows) ([]recipient, error) {
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var r recipient
		var first, last, b string
		if err := rows.Scan(&r.memberID, &r.email, &first, &last, &r.status, &b, &r.owner, &r.roleID, &r.all, &r.pref); err != nil {
			return nil, err
		}
		r.name = displayName(first, last, r.email)
		r.builtin = perm.Builtin(b)
		out = append(out, r)
	}
	return out, rows.Err()
}

// wants is whether the recipient's preference for k is on.
func (r recipient) wants(k MailKind) bool {
	if !k.offered(r.owner) {
		return false
	}
	if r.pref.Valid {
		return r.pref.Bool
	}
	return k.defaultOn(r.builtin, r.owner)
}

// note is one message before it is addressed.
type note struct {
	AccountID int64
	Kind      string
	Subject   string
	Body      string // plain words; the link and the footer are added
	Path      string // the console page it is about
}

// send addresses n to r and writes it to the outbox, with the link back
// to the console and the one-click unsubscribe link for its kind.
func (d *DB) send(ctx context.Context, tx *sql.Tx, r recipient, n note) error {
	k, _ := MailKindOf(n.Kind)
	token, err := d.unsubscribeToken(ctx, tx, r.memberID, n.Kind)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n%s\n", r.name, strings.TrimRight(n.Body, "\n"))
	if n.Path != "" {
		fmt.Fprintf(&b, "\nOpen it in Fleetgate: %s\n", d.link(n.Path))
	}
	fmt.Fprintf(&b, "\n-- \nYou receive this because \"%s\" is on for you.\n"+
		"Stop these e-mails with one click: %s\nAll your e-mail choices: %s\n", k.Label, d.link("/unsubscribe/"+token), d.link("/profile#notifications"))
	return d.enqueueMail(ctx, tx, Mail{AccountID: n.AccountID, MemberID: r.memberID, To: r.email, Kind: n.Kind, Subject: n.Subject, Body: b.String()})
}

// notifyMember writes a message about the member concerned to that member,
// when their preference for its kind is on. A deactivated member receives
// only the message that tells them so.
func (d *DB) notifyMember(ctx context.Context, tx *sql.Tx, memberID int64, n note) error {
	k, ok := MailKindOf(n.Kind)
	if !ok {
		return fmt.Errorf("unknown mail kind %q", n.Kind)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+recipientCols+` FROM `+recipientFrom+` WHERE m.id = ? AND m.account_id = ?`,
		n.Kind, memberID, n.AccountID)
	if err != nil {
		return err
	}
	rs, err := scanRecipients(rows)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.status == "invited" || (r.status == "deactivated" && n.Kind != KindDeactivated) || !r.wants(k) {
			continue
		}
		if err := d.send(ctx, tx, r, n); err != nil {
			return err
		}
	}
	return nil
}

// notifySubscribers writes account news to the active members of the
// account who subscribe to its kind and may see what it is about, except
// the member who caused it (except: 0 for none).
func (d *DB) notifySubscribers(ctx context.Context, tx *sql.Tx, except int64, n note) error {
	k, ok := MailKindOf(n.Kind)
	if !ok {
		return fmt.Errorf("unknown mail kind %q", n.Kind)
	}
	// Only those whose choice is on, or who never chose and are on by
	// default, are read: a large account's other members are not.
	wants := `AND (p.enabled = 1 OR (p.enabled IS NULL AND (m.id = a.owner_member_id OR r.builtin IN ('owner', 'admin'))))`
	if k.forAll {
		wants = `AND COALESCE(p.enabled, 1) = 1`
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+recipientCols+` FROM `+recipientFrom+`
		WHERE m.account_id = ? AND m.status = 'active' AND m.id <> ? `+wants+` ORDER BY m.id`, n.Kind, n.AccountID, except)
	if err != nil {
		return err
	}
	rs, err := scanRecipients(rows)
	if err != nil {
		return err
	}
	sets := map[int64]perm.Set{}
	for _, r := range rs {
		if !r.wants(k) {
			continue
		}
		if k.need != "" && r.builtin != perm.Notifications && !r.owner {
			set, ok := sets[r.roleID]
			if !ok {
				if set, _, err = roleSet(ctx, tx, n.AccountID, r.roleID); err != nil {
					return err
				}
				sets[r.roleID] = set
			}
			if !set.Has(k.need) {
				continue
			}
		}
		if err := d.send(ctx, tx, r, n); err != nil {
			return err
		}
	}
	return nil
}

// --- Preferences ---

// MailPreference is one kind with the member's current choice.
type MailPreference struct {
	MailKind
	On      bool
	Default bool // no choice stored: On is the default
}

// MailPreferences is what a member receives, kind by kind.
func (d *DB) MailPreferences(ctx context.Context, a *Actor) ([]MailPreference, error) {
	return mailPreferences(ctx, d.r, a.AccountID, a.MemberID)
}

// MemberMailPreferences is a Notifications-only member's preferences, for
// those with users.manage (the policy) who reach them.
func (d *DB) MemberMailPreferences(ctx context.Context, a *Actor, memberID int64) ([]MailPreference, error) {
	m, err := member(ctx, d.r, a.AccountID, memberID)
	if err != nil {
		return nil, err
	}
	if m.Builtin != perm.Notifications {
		return nil, Errorf(EForbidden, "Only the member chooses their own e-mails, under My profile.")
	}
	return mailPreferences(ctx, d.r, a.AccountID, memberID)
}

func mailPreferences(ctx context.Context, q queryer, accountID, memberID int64) ([]MailPreference, error) {
	var b string
	var owner bool
	err := q.QueryRowContext(ctx, `SELECT COALESCE(r.builtin, ''), m.id = a.owner_member_id FROM members m JOIN roles r ON r.id = m.role_id
		JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND m.account_id = ?`, memberID, accountID).Scan(&b, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Member")
	}
	if err != nil {
		return nil, err
	}
	chosen := map[string]bool{}
	rows, err := q.QueryContext(ctx, `SELECT kind, enabled FROM mail_preferences WHERE member_id = ?`, memberID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var on bool
		if err := rows.Scan(&k, &on); err != nil {
			return nil, err
		}
		chosen[k] = on
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []MailPreference
	for _, k := range MailKinds {
		if !k.offered(owner) {
			continue
		}
		p := MailPreference{MailKind: k, On: k.defaultOn(perm.Builtin(b), owner), Default: true}
		if on, ok := chosen[k.Key]; ok {
			p.On, p.Default = on, false
		}
		out = append(out, p)
	}
	return out, nil
}

// SetMailPreferences stores the actor's own choices: on holds the kinds
// to receive; every other offered kind is turned off.
func (d *DB) SetMailPreferences(ctx context.Context, a *Actor, on map[string]bool) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, "")
		if err != nil {
			return err
		}
		return d.setPreferences(ctx, tx, a, a.MemberID, on, "Own e-mail choices saved")
	})
}

// SetMemberMailPreferences stores a Notifications-only member's choices,
// by a member with users.manage who reaches them (checked here, in the
// write).
func (d *DB) SetMemberMailPreferences(ctx context.Context, a *Actor, memberID int64, on map[string]bool) error {
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
			return Errorf(EForbidden, "Only %s chooses their own e-mails, under My profile.", m.Name())
		}
		return d.setPreferences(ctx, tx, a, memberID, on, "E-mail choices of "+m.Name()+" saved")
	})
}

func (d *DB) setPreferences(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, on map[string]bool, summary string) error {
	before, err := mailPreferences(ctx, tx, a.AccountID, memberID)
	if err != nil {
		return err
	}
	was, now := map[string]bool{}, map[string]bool{}
	for _, p := range before {
		was[p.Key] = p.On
		now[p.Key] = on[p.Key]
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_preferences (member_id, kind, enabled, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (member_id, kind) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
			memberID, p.Key, on[p.Key], d.stamp()); err != nil {
			return err
		}
	}
	target, err := memberEmail(ctx, tx, memberID)
	if err != nil {
		return err
	}
	return d.audit(ctx, tx, a, Event{Kind: "member.mail_preferences", Target: target, Summary: summary, Before: was, After: now})
}

// --- One-click unsubscribe ---

// The unsubscribe token names a member and a kind, signed with a server
// key: whoever holds it may turn that one kind off for that member, and
// nothing else.

// unsubscribeKey is the signing key, made by the migration that brought
// e-mail choices (so it is committed before any message is written) and
// kept in memory once read.
func (d *DB) unsubscribeKey(ctx context.Context, q queryer) ([]byte, error) {
	if k, ok := d.unsubKey.Load().([]byte); ok {
		return k, nil
	}
	var v []byte
	if err := q.QueryRowContext(ctx, `SELECT value FROM app_secrets WHERE name = 'unsubscribe-key'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("unsubscribe key: %w", err)
	}
	d.unsubKey.Store(v)
	return v, nil
}

func signUnsubscribe(key []byte, memberID int64, kind string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "unsubscribe\x00%d\x00%s", memberID, kind)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (d *DB) unsubscribeToken(ctx context.Context, q queryer, memberID int64, kind string) (string, error) {
	key, err := d.unsubscribeKey(ctx, q)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(memberID, 10) + "." + kind + "." + signUnsubscribe(key, memberID, kind), nil
}

// UnsubscribeToken is the token of the one-click link (for tests and tools).
func (d *DB) UnsubscribeToken(ctx context.Context, memberID int64, kind string) (string, error) {
	var t string
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = d.unsubscribeToken(ctx, tx, memberID, kind)
		return err
	})
	return t, err
}

// Unsubscription is what a valid token stands for.
type Unsubscription struct {
	MemberID    int64
	Email       string
	AccountName string
	Kind        MailKind
	On          bool // the kind is on now
}

func (d *DB) readUnsubscribe(ctx context.Context, q queryer, token string) (Unsubscription, error) {
	var u Unsubscription
	bad := Errorf(ENotFound, "This unsubscribe link is not valid. Choose your e-mails under My profile instead.")
	i, j := strings.IndexByte(token, '.'), strings.LastIndexByte(token, '.')
	if i <= 0 || j <= i {
		return u, bad
	}
	id, err := strconv.ParseInt(token[:i], 10, 64)
	kind := token[i+1 : j]
	k, ok := MailKindOf(kind)
	if err != nil || !ok {
		return u, bad
	}
	key, err := d.unsubscribeKey(ctx, q)
	if err != nil {
		return u, err
	}
	if !hmac.Equal([]byte(token[j+1:]), []byte(signUnsubscribe(key, id, kind))) {
		return u, bad
	}
	var accountID int64
	err = q.QueryRowContext(ctx, `SELECT u.email, a.name, a.id FROM members m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id
		WHERE m.id = ?`, id).Scan(&u.Email, &u.AccountName, &accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, bad
	}
	if err != nil {
		return u, err
	}
	prefs, err := mailPreferences(ctx, q, accountID, id)
	if err != nil {
		return u, err
	}
	for _, p := range prefs {
		if p.Key == kind {
			u.On = p.On
		}
	}
	u.MemberID, u.Kind = id, k
	return u, nil
}

// UnsubscribeInfo reads what a one-click link would turn off.
func (d *DB) UnsubscribeInfo(ctx context.Context, token string) (Unsubscription, error) {
	return d.readUnsubscribe(ctx, d.r, token)
}

// Unsubscribe turns off the kind of a one-click link for its member, and
// records it in the audit log as that member's doing.
func (d *DB) Unsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	var u Unsubscription
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = d.readUnsubscribe(ctx, tx, token); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_preferences (member_id, kind, enabled, updated_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (member_id, kind) DO UPDATE SET enabled = 0, updated_at = excluded.updated_at`, u.MemberID, u.Kind.Key, d.stamp()); err != nil {
			return err
		}
		a, err := loadActorOn(ctx, tx, u.MemberID)
		if err != nil {
			return err
		}
		was := u.On
		u.On = false
		return d.audit(ctx, tx, a, Event{Kind: "member.mail_preferences", Target: u.Email,
			Summary: "Unsubscribed from \"" + u.Kind.Label + "\" by the link in an e-mail",
			Before:  map[string]bool{u.Kind.Key: was}, After: map[string]bool{u.Kind.Key: false}})
	})
	return u, err
}
