package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// The access overview: who holds what, and what looks wrong. Every
// finding is computed in SQL over the whole account (counts) and read for
// one page of members at a time (details), so that an account of ten
// thousand members answers in one page's time. The fixes the overview
// offers are the ordinary writes (SetStatus, SetAccessMode, Grant, Revoke,
// RevokeInvitation, RevokeMemberToken): the same rules of reach and no
// escalation, checked in their write's transaction, audited.

// Windows of the findings.
const (
	UnusedWindow     = 90 * 24 * time.Hour // a permission not used this long is "unused"
	TokenUnusedAfter = 30 * 24 * time.Hour // an API token not used this long is "unused"
	EndingWithin     = 14 * 24 * time.Hour // a grant ending this soon is "ending"
	DefaultStaleDays = 60
	DefaultEveryDays = 90
)

// Finding is a kind of finding of the access overview.
type Finding string

const (
	FindStale         Finding = "stale"        // active, not signed in for the account's N days
	FindAllVehicles   Finding = "all_vehicles" // access to all vehicles (the Owner aside)
	FindWiderThanRole Finding = "wider"        // manage grants on a role that cannot use them
	FindEnding        Finding = "ending"       // a grant ends within EndingWithin
	FindEnded         Finding = "ended"        // a grant that already ended is still on record
	FindUnusedPerms   Finding = "unused"       // permissions of the role not used in UnusedWindow
	FindUnusedTokens  Finding = "tokens"       // API tokens not used in TokenUnusedAfter
)

// Findings lists the member findings in the order pages show them.
var Findings = []Finding{FindStale, FindAllVehicles, FindWiderThanRole, FindEnding, FindEnded, FindUnusedPerms, FindUnusedTokens}

// ParseFinding reads a finding's name ("" and unknown names: none).
func ParseFinding(s string) Finding {
	for _, f := range Findings {
		if string(f) == s {
			return f
		}
	}
	return ""
}

// ReviewSettings are the account's settings of the access review.
type ReviewSettings struct {
	StaleDays    int    // a member not signed in this long is a finding
	EveryDays    int    // a review is due this long after the last one
	NextReviewOn string // YYYY-MM-DD in the account's time zone; "" before the first review
	Version      int    // the account settings' version
}

// Validate returns a message per field that cannot be saved.
func (s ReviewSettings) Validate() map[string]string {
	errs := map[string]string{}
	if s.StaleDays < 7 || s.StaleDays > 365 {
		errs["stale_days"] = "Choose between 7 and 365 days."
	}
	if s.EveryDays < 7 || s.EveryDays > 730 {
		errs["every_days"] = "Choose between 7 and 730 days."
	}
	return errs
}

// AccessReviewSettings reads the account's review settings.
func (d *DB) AccessReviewSettings(ctx context.Context, a *Actor) (ReviewSettings, error) {
	return reviewSettings(ctx, d.r, a.AccountID)
}

func reviewSettings(ctx context.Context, q queryer, accountID int64) (ReviewSettings, error) {
	s := ReviewSettings{StaleDays: DefaultStaleDays, EveryDays: DefaultEveryDays}
	var next sql.NullString
	err := q.QueryRowContext(ctx, `SELECT stale_after_days, review_every_days, next_review_on, version FROM account_settings WHERE account_id = ?`,
		accountID).Scan(&s.StaleDays, &s.EveryDays, &next, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	s.NextReviewOn = next.String
	return s, err
}

// SaveAccessReviewSettings stores the review settings from the version the
// form started from (a stale save is an EConflict), audited.
func (d *DB) SaveAccessReviewSettings(ctx context.Context, a *Actor, in ReviewSettings) (ReviewSettings, error) {
	errs := in.Validate()
	for _, f := range []string{"stale_days", "every_days"} {
		if m, ok := errs[f]; ok {
			return in, FieldError(f, "%s", m)
		}
	}
	var cur ReviewSettings
	err := d.update(ctx, func(tx *sql.Tx) error {
		fresh, err := actorIn(ctx, tx, a, perm.AccountSettings)
		if err != nil {
			return err
		}
		if cur, err = reviewSettings(ctx, tx, fresh.AccountID); err != nil {
			return err
		}
		if cur.Version != in.Version {
			return Errorf(EConflict, "Someone saved the account settings after you opened this page. The form now shows the current values.")
		}
		if cur.StaleDays == in.StaleDays && cur.EveryDays == in.EveryDays {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id) VALUES (?) ON CONFLICT (account_id) DO NOTHING`, fresh.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_settings SET stale_after_days = ?, review_every_days = ?, version = version + 1 WHERE account_id = ?`,
			in.StaleDays, in.EveryDays, fresh.AccountID); err != nil {
			return err
		}
		before := cur
		cur.StaleDays, cur.EveryDays, cur.Version = in.StaleDays, in.EveryDays, cur.Version+1
		return d.audit(ctx, tx, fresh, Event{Kind: "account.settings", Target: fresh.AccountName, Summary: "Changed the access review settings",
			Before: map[string]int{"stale_after_days": before.StaleDays, "review_every_days": before.EveryDays},
			After:  map[string]int{"stale_after_days": cur.StaleDays, "review_every_days": cur.EveryDays}})
	})
	if ErrorCode(err) == EConflict {
		latest, rerr := d.AccessReviewSettings(ctx, a)
		if rerr != nil {
			return in, rerr
		}
		return latest, err
	}
	return cur, err
}

// findingArgs are the moments every finding is judged against, as named
// parameters of the finding SQL.
type findingArgs struct {
	account            int64
	now, stale, unused string // keys: now; not signed in since; used since (a day)
	soon, tokenCut     string
	measured           string // JSON array of the permissions requests are checked for
}

func (d *DB) findingArgs(a *Actor, s ReviewSettings, measured []perm.Key) findingArgs {
	now := d.Now()
	keys := make([]string, len(measured))
	for i, k := range measured {
		keys[i] = string(k)
	}
	m, _ := json.Marshal(keys)
	return findingArgs{account: a.AccountID, now: timeKey(now), stale: timeKey(now.AddDate(0, 0, -s.StaleDays)),
		unused: now.Add(-UnusedWindow).UTC().Format(time.DateOnly), soon: timeKey(now.Add(EndingWithin)),
		tokenCut: timeKey(now.Add(-TokenUnusedAfter)), measured: string(m)}
}

func (f findingArgs) named() []any {
	return []any{sql.Named("account", f.account), sql.Named("now", f.now), sql.Named("stale", f.stale), sql.Named("unused", f.unused),
		sql.Named("soon", f.soon), sql.Named("tokcut", f.tokenCut), sql.Named("measured", f.measured), sql.Named("manageperms", manageKeysJSON)}
}

var manageKeysJSON = func() string {
	b, _ := json.Marshal([]perm.Key{perm.VehiclesEdit, perm.VehiclesArchive, perm.PairingManage, perm.TripsRecord, perm.TripsEdit})
	return string(b)
}()

// findingSQL is, per finding, a condition on a member m of the account
// (joined with its account ac): the one definition of each finding, used
// for the counts, the filter and the badges alike. Only active members
// other than the Owner have findings (the Owner cannot be deactivated or
// narrowed; deactivated members hold nothing).
//
// The lists of permissions (:manageperms, :measured) and of members
// (:ids) are JSON arrays, read by the dialect's jsonEach.
func (d *DB) findingSQL() map[Finding]string {
	return map[Finding]string{
		FindStale: `m.created_at < :stale AND COALESCE(m.last_login_at, '') < :stale
		AND COALESCE((SELECT MAX(s.at) FROM sign_ins s WHERE s.member_id = m.id AND s.outcome = 'ok'), '') < :stale`,
		FindAllVehicles: `m.vehicle_access = 'all'`,
		FindWiderThanRole: `NOT EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = m.role_id AND rp.permission IN (` + d.dia.jsonEach(":manageperms", false) + `))
		AND (EXISTS (SELECT 1 FROM member_group_grants g WHERE g.member_id = m.id AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > :now))
		  OR EXISTS (SELECT 1 FROM member_vehicle_grants g WHERE g.member_id = m.id AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > :now)))`,
		FindEnding: `(EXISTS (SELECT 1 FROM member_group_grants g WHERE g.member_id = m.id AND g.ends_at > :now AND g.ends_at <= :soon)
		OR EXISTS (SELECT 1 FROM member_vehicle_grants g WHERE g.member_id = m.id AND g.ends_at > :now AND g.ends_at <= :soon))`,
		FindEnded: `(EXISTS (SELECT 1 FROM member_group_grants g WHERE g.member_id = m.id AND g.ends_at <= :now)
		OR EXISTS (SELECT 1 FROM member_vehicle_grants g WHERE g.member_id = m.id AND g.ends_at <= :now))`,
		FindUnusedPerms: `m.created_at < :unused AND ` + d.unusedSQL(),
		FindUnusedTokens: `EXISTS (SELECT 1 FROM api_tokens t WHERE t.member_id = m.id AND (t.expires_at IS NULL OR t.expires_at > :now)
		AND COALESCE(t.last_used_at, t.created_at) < :tokcut)`,
	}
}

// unusedSQL is whether m's role holds a permission that requests are
// checked for and that m has not used since :unused.
func (d *DB) unusedSQL() string {
	return `EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = m.role_id
	AND rp.permission IN (` + d.dia.jsonEach(":measured", false) + `)
	AND NOT EXISTS (SELECT 1 FROM permission_uses u WHERE u.member_id = m.id AND u.permission = rp.permission AND u.day >= :unused))`
}

// findingBase is the FROM and WHERE of members that can have findings.
const findingBase = `FROM members m JOIN accounts ac ON ac.id = m.account_id JOIN roles r ON r.id = m.role_id
	WHERE m.account_id = :account AND m.status = 'active' AND m.id != ac.owner_member_id AND COALESCE(r.builtin, '') != 'notifications'`

// Overview is the head of the access overview: the counts of each finding
// over the whole account, the roles with permissions no holder used, and
// the invitations nobody accepted.
type Overview struct {
	Settings    ReviewSettings
	Members     int // members of the account (any status)
	Counts      map[Finding]int
	RolesUnused []RoleUnused
	NeverJoined []Invitation
	Measured    int // permissions whose use is recorded
}

// RoleUnused is a role some of whose permissions no active holder used.
type RoleUnused struct {
	RoleID  int64
	Name    string
	Holders int
	Unused  []perm.Key
}

// AccessOverview reads the overview's head. measured are the permissions
// requests are checked for by name (the route table's): others are never
// "used" and would always show as unused.
func (d *DB) AccessOverview(ctx context.Context, a *Actor, measured []perm.Key) (Overview, error) {
	o := Overview{Counts: map[Finding]int{}, Measured: len(measured)}
	var err error
	if o.Settings, err = d.AccessReviewSettings(ctx, a); err != nil {
		return o, err
	}
	fa := d.findingArgs(a, o.Settings, measured)
	var cols []string
	findingSQL := d.findingSQL()
	for _, f := range Findings {
		cols = append(cols, "COUNT(CASE WHEN "+findingSQL[f]+" THEN 1 END)")
	}
	dest := make([]any, len(Findings))
	counts := make([]int, len(Findings))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := d.r.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` `+findingBase, fa.named()...).Scan(dest...); err != nil {
		return o, fmt.Errorf("count findings: %w", err)
	}
	for i, f := range Findings {
		o.Counts[f] = counts[i]
	}
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE account_id = ?`, a.AccountID).Scan(&o.Members); err != nil {
		return o, err
	}
	if o.RolesUnused, err = d.rolesUnused(ctx, fa); err != nil {
		return o, err
	}
	o.NeverJoined, err = d.neverJoined(ctx, a, fa)
	return o, err
}

// rolesUnused lists, per role with active holders, the permissions that
// none of them used in the window.
func (d *DB) rolesUnused(ctx context.Context, fa findingArgs) ([]RoleUnused, error) {
	rows, err := d.r.QueryContext(ctx, `WITH holders(role_id, n) AS (
			SELECT m.role_id, COUNT(*) `+findingBase+` GROUP BY m.role_id)
		SELECT r.id, r.name, h.n, rp.permission
		  FROM holders h JOIN roles r ON r.id = h.role_id JOIN role_permissions rp ON rp.role_id = r.id
		 WHERE rp.permission IN (`+d.dia.jsonEach(":measured", false)+`)
		   AND NOT EXISTS (SELECT 1 FROM members m JOIN permission_uses u ON u.member_id = m.id
		                    WHERE m.role_id = r.id AND m.status = 'active' AND u.permission = rp.permission AND u.day >= :unused)
		 ORDER BY r.name, r.id, rp.permission`, fa.named()...)
	if err != nil {
		return nil, fmt.Errorf("unused role permissions: %w", err)
	}
	defer rows.Close()
	var out []RoleUnused
	for rows.Next() {
		var r RoleUnused
		var k string
		if err := rows.Scan(&r.RoleID, &r.Name, &r.Holders, &k); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].RoleID != r.RoleID {
			out = append(out, r)
		}
		out[len(out)-1].Unused = append(out[len(out)-1].Unused, perm.Key(k))
	}
	return out, rows.Err()
}

// neverJoinedMax bounds the invitations the overview lists.
const neverJoinedMax = 100

// neverJoined lists the open invitations that ran out or were sent longer
// ago than the account's "not signed in" days: people who never joined.
func (d *DB) neverJoined(ctx context.Context, a *Actor, fa findingArgs) ([]Invitation, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+invitationColumns+invitationFrom+`
		WHERE i.account_id = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND (i.expires_at <= ? OR i.created_at < ?)
		ORDER BY i.created_at, i.id LIMIT ?`, a.AccountID, fa.now, fa.stale, neverJoinedMax)
	if err != nil {
		return nil, fmt.Errorf("invitations never accepted: %w", err)
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

// ReviewMember is one member of the overview's list: their role, vehicle
// reach and findings.
type ReviewMember struct {
	ID         int64
	Name       string
	Email      string
	RoleID     int64
	RoleName   string
	Status     string
	IsOwner    bool
	LastSignIn *time.Time

	AllVehicles   bool
	GroupGrants   int // group grants in force
	VehicleGrants int // direct grants in force
	ViaGroups     int // vehicles covered by the group grants

	Findings map[Finding]bool
	Unused   []perm.Key    // permissions of the role not used in the window
	Grants   []ReviewGrant // grants ending soon, ended, or manage on a role that cannot use it
	Tokens   []ReviewToken // API tokens unused for TokenUnusedAfter
}

// ReviewGrant is a grant a finding is about.
type ReviewGrant struct {
	Kind     string // "vehicle" or "group"
	TargetID int64
	Name     string
	Level    Level
	EndsAt   *time.Time
	Ended    bool
	Ending   bool
	Wider    bool // manage on a role that cannot use it
}

// ReviewToken is an API token unused for a while.
type ReviewToken struct {
	ID       int64
	Name     string
	LastUsed *time.Time
	Created  time.Time
}

// ReviewFilter pages the overview's member list, optionally to the
// members with one finding.
type ReviewFilter struct {
	Finding       Finding
	Page, PerPage int
}

// ReviewMembers reads one page of the account's members, grouped by role
// (ordered by role name, then name), with their reach and findings.
func (d *DB) ReviewMembers(ctx context.Context, a *Actor, measured []perm.Key, f ReviewFilter) ([]ReviewMember, int, error) {
	s, err := d.AccessReviewSettings(ctx, a)
	if err != nil {
		return nil, 0, err
	}
	fa := d.findingArgs(a, s, measured)
	active := `(m.status = 'active' AND m.id != ac.owner_member_id AND COALESCE(r.builtin, '') != 'notifications')`
	var flags []string
	findingSQL := d.findingSQL()
	for _, fd := range Findings {
		flags = append(flags, "("+active+" AND "+findingSQL[fd]+")")
	}
	where := "m.account_id = :account"
	if f.Finding != "" {
		where += " AND " + active + " AND " + findingSQL[f.Finding]
	}
	p := pageOf(f.Page, f.PerPage, 50)
	// The page's members are chosen first (through the filter, in order),
	// and only their rows get the badges: the findings of the whole
	// account are counted once, by AccessOverview.
	q := `WITH page(id, n, total) AS MATERIALIZED (
			SELECT m.id, ROW_NUMBER() OVER (ORDER BY r.name, r.id, m.sort_name, m.id), COUNT(*) OVER ()
			  FROM members m JOIN accounts ac ON ac.id = m.account_id JOIN roles r ON r.id = m.role_id
			 WHERE ` + where + `
			 ORDER BY r.name, r.id, m.sort_name, m.id LIMIT :limit OFFSET :offset)
		SELECT m.id, u.first_name, u.last_name, u.email, m.role_id, r.name, m.status, m.id = ac.owner_member_id,
		       m.vehicle_access = 'all' OR m.id = ac.owner_member_id,
		       m.last_login_at, (SELECT MAX(s.at) FROM sign_ins s WHERE s.member_id = m.id AND s.outcome = 'ok'),
		       ` + strings.Join(flags, ", ") + `, page.total
		  FROM page JOIN members m ON m.id = page.id JOIN accounts ac ON ac.id = m.account_id JOIN roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id
		 ORDER BY page.n`
	var out []ReviewMember
	rows, err := d.r.QueryContext(ctx, q, append(fa.named(), sql.Named("limit", p.limit), sql.Named("offset", p.offset))...)
	if err != nil {
		return nil, 0, fmt.Errorf("review members: %w", err)
	}
	total := 0
	for rows.Next() {
		var m ReviewMember
		var first, last string
		var lastLogin, lastSign sql.NullString
		fl := make([]bool, len(Findings))
		dest := []any{&m.ID, &first, &last, &m.Email, &m.RoleID, &m.RoleName, &m.Status, &m.IsOwner, &m.AllVehicles, &lastLogin, &lastSign}
		for i := range fl {
			dest = append(dest, &fl[i])
		}
		if err := rows.Scan(append(dest, &total)...); err != nil {
			rows.Close()
			return nil, 0, err
		}
		m.Name = displayName(first, last, m.Email)
		if lastLogin.String > lastSign.String { // the later of the two
			lastSign = lastLogin
		}
		if lastSign.Valid && lastSign.String != "" {
			if t, err := parseStoredTime(lastSign.String); err == nil {
				m.LastSignIn = &t
			}
		}
		m.Findings = map[Finding]bool{}
		for i, fd := range Findings {
			if fl[i] {
				m.Findings[fd] = true
			}
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) == 0 {
		if p.offset > 0 {
			_ = d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM members m JOIN accounts ac ON ac.id = m.account_id JOIN roles r ON r.id = m.role_id WHERE `+where,
				fa.named()...).Scan(&total)
		}
		return out, total, nil
	}
	if err := d.reviewDetails(ctx, fa, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// reviewDetails fills in the page's vehicle reach, the grants and tokens
// its findings are about and the unused permissions: one query each for
// the whole page.
func (d *DB) reviewDetails(ctx context.Context, fa findingArgs, ms []ReviewMember) error {
	ids := make([]int64, len(ms))
	at := map[int64]*ReviewMember{}
	for i := range ms {
		ids[i] = ms[i].ID
		at[ms[i].ID] = &ms[i]
	}
	idJSON, _ := json.Marshal(ids)
	args := append(fa.named(), sql.Named("ids", string(idJSON)))
	// Vehicle reach: grants in force and the vehicles their groups cover.
	rows, err := d.r.QueryContext(ctx, `WITH RECURSIVE walk(member_id, group_id) AS (
			SELECT g.member_id, g.group_id FROM member_group_grants g
			 WHERE g.member_id IN (`+d.dia.jsonEach(":ids", true)+`) AND (g.ends_at IS NULL OR g.ends_at > :now)
			UNION
			SELECT w.member_id, c.id FROM walk w JOIN vehicle_groups c ON c.parent_id = w.group_id)
		SELECT x.value,
		       (SELECT COUNT(*) FROM member_group_grants g WHERE g.member_id = x.value AND (g.ends_at IS NULL OR g.ends_at > :now)),
		       (SELECT COUNT(*) FROM member_vehicle_grants g WHERE g.member_id = x.value AND (g.ends_at IS NULL OR g.ends_at > :now)),
		       (SELECT COUNT(*) FROM walk w JOIN vehicles v ON v.group_id = w.group_id WHERE w.member_id = x.value AND v.status = 'active')
		  FROM (`+d.dia.jsonEach(":ids", true)+`) AS x`, args...)
	if err != nil {
		return fmt.Errorf("vehicle reach: %w", err)
	}
	for rows.Next() {
		var id int64
		var g, v, via int
		if err := rows.Scan(&id, &g, &v, &via); err != nil {
			rows.Close()
			return err
		}
		m := at[id]
		m.GroupGrants, m.VehicleGrants, m.ViaGroups = g, v, via
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Grants that findings are about.
	rows, err = d.r.QueryContext(ctx, `SELECT g.member_id, 'group', g.group_id, vg.name, g.level, g.ends_at,
		       NOT EXISTS (SELECT 1 FROM role_permissions rp JOIN members m ON m.role_id = rp.role_id
		                    WHERE m.id = g.member_id AND rp.permission IN (`+d.dia.jsonEach(":manageperms", false)+`))
		  FROM member_group_grants g JOIN vehicle_groups vg ON vg.id = g.group_id
		 WHERE g.member_id IN (`+d.dia.jsonEach(":ids", true)+`) AND (g.ends_at <= :soon OR g.level = 'manage')
		UNION ALL
		SELECT g.member_id, 'vehicle', g.vehicle_id, v.name, g.level, g.ends_at,
		       NOT EXISTS (SELECT 1 FROM role_permissions rp JOIN members m ON m.role_id = rp.role_id
		                    WHERE m.id = g.member_id AND rp.permission IN (`+d.dia.jsonEach(":manageperms", false)+`))
		  FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
		 WHERE g.member_id IN (`+d.dia.jsonEach(":ids", true)+`) AND (g.ends_at <= :soon OR g.level = 'manage')
		ORDER BY 1, 2, 4`, args...)
	if err != nil {
		return fmt.Errorf("review grants: %w", err)
	}
	for rows.Next() {
		var id int64
		var g ReviewGrant
		var level string
		var ends sql.NullString
		var noManage bool
		if err := rows.Scan(&id, &g.Kind, &g.TargetID, &g.Name, &level, &ends, &noManage); err != nil {
			rows.Close()
			return err
		}
		g.Level, _ = ParseLevel(level)
		g.EndsAt = parseEnds(ends)
		g.Ended = ends.Valid && ends.String <= fa.now
		g.Ending = ends.Valid && !g.Ended && ends.String <= fa.soon
		g.Wider = !g.Ended && g.Level == Manage && noManage
		m := at[id]
		if m.IsOwner || m.Status != "active" || !(g.Ended || g.Ending || g.Wider) {
			continue
		}
		m.Grants = append(m.Grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Unused API tokens.
	rows, err = d.r.QueryContext(ctx, `SELECT t.member_id, t.id, t.name, t.last_used_at, t.created_at FROM api_tokens t
		 WHERE t.member_id IN (`+d.dia.jsonEach(":ids", true)+`) AND (t.expires_at IS NULL OR t.expires_at > :now)
		   AND COALESCE(t.last_used_at, t.created_at) < :tokcut ORDER BY t.member_id, t.id`, args...)
	if err != nil {
		return fmt.Errorf("review tokens: %w", err)
	}
	for rows.Next() {
		var id int64
		var t ReviewToken
		if err := rows.Scan(&id, &t.ID, &t.Name, nullTimeCol{&t.LastUsed}, timeCol{&t.Created}); err != nil {
			rows.Close()
			return err
		}
		if m := at[id]; m.Findings[FindUnusedTokens] {
			m.Tokens = append(m.Tokens, t)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Unused permissions of the members who have that finding.
	rows, err = d.r.QueryContext(ctx, `SELECT m.id, rp.permission FROM members m JOIN role_permissions rp ON rp.role_id = m.role_id
		 WHERE m.id IN (`+d.dia.jsonEach(":ids", true)+`) AND rp.permission IN (`+d.dia.jsonEach(":measured", false)+`)
		   AND NOT EXISTS (SELECT 1 FROM permission_uses u WHERE u.member_id = m.id AND u.permission = rp.permission AND u.day >= :unused)
		 ORDER BY m.id, rp.permission`, args...)
	if err != nil {
		return fmt.Errorf("unused permissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k string
		if err := rows.Scan(&id, &k); err != nil {
			return err
		}
		if m := at[id]; m.Findings[FindUnusedPerms] {
			m.Unused = append(m.Unused, perm.Key(k))
		}
	}
	return rows.Err()
}

// RevokeMemberToken ends an API token of a member within the actor's
// reach (the access overview's fix for a token nobody uses), audited.
func (d *DB) RevokeMemberToken(ctx context.Context, a *Actor, memberID, tokenID int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		var name, kind string
		err = tx.QueryRowContext(ctx, `SELECT t.name, t.kind FROM api_tokens t JOIN members m ON m.id = t.member_id
			WHERE t.id = ? AND t.member_id = ? AND m.account_id = ?`, tokenID, memberID, a.AccountID).Scan(&name, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Token")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, tokenID); err != nil {
			return err
		}
		target, err := memberEmail(ctx, tx, memberID)
		if err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "token.revoke", Target: target, Summary: "Revoked the unused API token “" + name + "”",
			Before: map[string]any{"token": tokenID, "name": name, "kind": kind}, After: map[string]any{"token": "revoked"}})
	})
}

// NarrowToView turns each manage grant in force of a member into a view
// grant with the same end, one Grant at a time (each with its own checks
// and audit event): the fix for manage grants on a role that cannot use
// them. It reports how many it changed before any refusal.
func (d *DB) NarrowToView(ctx context.Context, a *Actor, memberID int64) (int, error) {
	if err := d.CheckReach(ctx, a, memberID); err != nil {
		return 0, err
	}
	now := d.nowKey()
	rows, err := d.r.QueryContext(ctx, `SELECT 'group', g.group_id, g.ends_at FROM member_group_grants g JOIN members m ON m.id = g.member_id
		 WHERE g.member_id = ? AND m.account_id = ? AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > ?)
		UNION ALL
		SELECT 'vehicle', g.vehicle_id, g.ends_at FROM member_vehicle_grants g JOIN members m ON m.id = g.member_id
		 WHERE g.member_id = ? AND m.account_id = ? AND g.level = 'manage' AND (g.ends_at IS NULL OR g.ends_at > ?)`,
		memberID, a.AccountID, now, memberID, a.AccountID, now)
	if err != nil {
		return 0, err
	}
	var grants []GrantInput
	for rows.Next() {
		var g GrantInput
		var ends sql.NullString
		if err := rows.Scan(&g.Kind, &g.TargetID, &ends); err != nil {
			rows.Close()
			return 0, err
		}
		g.Level, g.EndsAt = View, parseEnds(ends)
		grants = append(grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for i, g := range grants {
		if err := d.Grant(ctx, a, memberID, g); err != nil {
			return i, err
		}
	}
	return len(grants), nil
}
