package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Scheduled messages: a background job calls SendScheduled now and then
// (every hour by default). Each message is recorded in mail_schedule with
// what it was about and for which period, in the transaction that writes
// it to the outbox, so that a second run, a restart or two servers never
// send it twice:
//
//   - "your access ends in 3 days", to the member, once per grant and end;
//   - "grants end this week", to subscribers, once per grant and end;
//   - "the subscription ends soon" (14 days ahead), to subscribers of each
//     account it covers, once per end date;
//   - the weekly access digest, to the Owner, once per ISO week.
//
// It also drops the watches of members whose access to a vehicle ended.

// Lead times of the scheduled messages.
const (
	AccessEndingNotice       = 3 * 24 * time.Hour
	GrantEndingNotice        = 7 * 24 * time.Hour
	SubscriptionEndingNotice = 14 * 24 * time.Hour
)

// Scheduled counts what one run wrote (messages may be fewer than
// subjects: preferences decide).
type Scheduled struct {
	AccessEnding, GrantsEnding, SubscriptionEnding, Digests int
}

// claim records that kind was handled for subject and period, and reports
// whether it was not yet (false: leave it, it was sent before).
func claim(ctx context.Context, tx *sql.Tx, now string, accountID int64, kind, subject, period string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO mail_schedule (account_id, kind, subject, period, sent_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, accountID, kind, subject, period, now)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// endingGrant is a grant that ends soon.
type endingGrant struct {
	accountID, memberID int64
	account             string
	kind                string // "vehicle" or "group"
	targetID            int64
	target              string
	member              string
	level               string
	endsAt              string
}

func (g endingGrant) subject() string {
	return fmt.Sprintf("%s:%d:member:%d", g.kind, g.targetID, g.memberID)
}

func (g endingGrant) lastDay() string {
	t, err := time.Parse(time.RFC3339, g.endsAt)
	if err != nil {
		return g.endsAt
	}
	return lastDay(&t)
}

// endingGrants lists the grants of active members in force now that end
// before limit, in every account.
func endingGrants(ctx context.Context, q queryer, now, limit string) ([]endingGrant, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT m.account_id, ac.name, m.id, u.first_name, u.last_name, u.email, 'vehicle', v.id, v.name, g.level, g.ends_at
		  FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id JOIN members m ON m.id = g.member_id
		  JOIN users u ON u.id = m.user_id JOIN accounts ac ON ac.id = m.account_id
		 WHERE g.ends_at > ? AND g.ends_at <= ? AND m.status = 'active'
		UNION ALL
		SELECT m.account_id, ac.name, m.id, u.first_name, u.last_name, u.email, 'group', vg.id, vg.name, g.level, g.ends_at
		  FROM member_group_grants g JOIN vehicle_groups vg ON vg.id = g.group_id JOIN members m ON m.id = g.member_id
		  JOIN users u ON u.id = m.user_id JOIN accounts ac ON ac.id = m.account_id
		 WHERE g.ends_at > ? AND g.ends_at <= ? AND m.status = 'active'
		ORDER BY 1, 11, 3`, now, limit, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []endingGrant
	for rows.Next() {
		var g endingGrant
		var first, last, email string
		if err := rows.Scan(&g.accountID, &g.account, &g.memberID, &first, &last, &email, &g.kind, &g.targetID, &g.target, &g.level, &g.endsAt); err != nil {
			return nil, err
		}
		g.member = displayName(first, last, email)
		out = append(out, g)
	}
	return out, rows.Err()
}

// SendScheduled writes the scheduled messages that are due at d.Now()
// and were not written before.
func (d *DB) SendScheduled(ctx context.Context) (Scheduled, error) {
	var out Scheduled
	now := d.Now().UTC()
	nowKey := timeKey(now)

	// Your access ends in 3 days: one transaction per grant.
	soon, err := endingGrants(ctx, d.r, nowKey, timeKey(now.Add(AccessEndingNotice)))
	if err != nil {
		return out, fmt.Errorf("scheduled mail: %w", err)
	}
	for _, g := range soon {
		err := d.update(ctx, func(tx *sql.Tx) error {
			ok, err := claim(ctx, tx, nowKey, g.accountID, KindAccessEnding, g.subject(), g.endsAt)
			if err != nil || !ok {
				return err
			}
			out.AccessEnding++
			path := "/vehicles"
			if g.kind == "vehicle" {
				path = fmt.Sprintf("/vehicles/%d", g.targetID)
			}
			return d.notifyMember(ctx, tx, g.memberID, note{AccountID: g.accountID, Kind: KindAccessEnding,
				Subject: fmt.Sprintf("Your access to %s ends on %s", g.target, g.lastDay()),
				Body: fmt.Sprintf("Your %s access to the %s %s in %s ends after %s (UTC).\nIf you still need it, ask whoever manages your access to extend it.\n",
					g.level, g.kind, g.target, g.account, g.lastDay()),
				Path: path})
		})
		if err != nil {
			return out, fmt.Errorf("scheduled mail: %w", err)
		}
	}

	// Grants ending this week: one message per account and run, listing
	// the grants not announced before.
	week, err := endingGrants(ctx, d.r, nowKey, timeKey(now.Add(GrantEndingNotice)))
	if err != nil {
		return out, fmt.Errorf("scheduled mail: %w", err)
	}
	byAccount := map[int64][]endingGrant{}
	var accounts []int64
	for _, g := range week {
		if _, ok := byAccount[g.accountID]; !ok {
			accounts = append(accounts, g.accountID)
		}
		byAccount[g.accountID] = append(byAccount[g.accountID], g)
	}
	for _, id := range accounts {
		gs := byAccount[id]
		err := d.update(ctx, func(tx *sql.Tx) error {
			var lines []string
			for _, g := range gs {
				ok, err := claim(ctx, tx, nowKey, id, KindGrantEnding, g.subject(), g.endsAt)
				if err != nil {
					return err
				}
				if ok {
					lines = append(lines, fmt.Sprintf("- %s: %s access to the %s %s, last day %s", g.member, g.level, g.kind, g.target, g.lastDay()))
				}
			}
			if len(lines) == 0 {
				return nil
			}
			out.GrantsEnding += len(lines)
			return d.notifySubscribers(ctx, tx, 0, note{AccountID: id, Kind: KindGrantEnding,
				Subject: fmt.Sprintf("%s in %s end this week", plural(len(lines), "grant", "grants"), gs[0].account),
				Body:    "These grants of vehicle access end within the next 7 days:\n\n" + strings.Join(lines, "\n") + "\n",
				Path:    "/users"})
		})
		if err != nil {
			return out, fmt.Errorf("scheduled mail: %w", err)
		}
	}

	// The subscription ends soon.
	if err := d.subscriptionEnding(ctx, now, &out); err != nil {
		return out, fmt.Errorf("scheduled mail: %w", err)
	}
	// The weekly digest.
	if err := d.digests(ctx, now, &out); err != nil {
		return out, fmt.Errorf("scheduled mail: %w", err)
	}
	// Watches of members whose access ended.
	if err := d.pruneEndedWatches(ctx); err != nil {
		return out, fmt.Errorf("scheduled mail: %w", err)
	}
	return out, nil
}

func (d *DB) subscriptionEnding(ctx context.Context, now time.Time, out *Scheduled) error {
	today := now.Format(time.DateOnly)
	rows, err := d.r.QueryContext(ctx, `SELECT a.id, a.name, s.ends_on FROM accounts a JOIN subscriptions s ON s.id = a.subscription_id
		WHERE s.ends_on >= ? AND s.ends_on <= ? ORDER BY a.id`, today, now.Add(SubscriptionEndingNotice).Format(time.DateOnly))
	if err != nil {
		return err
	}
	type row struct {
		id         int64
		name, ends string
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name, &r.ends); err != nil {
			rows.Close()
			return err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rs {
		err := d.update(ctx, func(tx *sql.Tx) error {
			ok, err := claim(ctx, tx, timeKey(now), r.id, KindSubscription, "ends", r.ends)
			if err != nil || !ok {
				return err
			}
			out.SubscriptionEnding++
			end, _ := time.Parse(time.DateOnly, r.ends)
			days := int(end.Sub(now.Truncate(24*time.Hour)).Hours() / 24)
			return d.notifySubscribers(ctx, tx, 0, note{AccountID: r.id, Kind: KindSubscription,
				Subject: fmt.Sprintf("The subscription of %s ends on %s", r.name, end.Format("2 January 2006")),
				Body: fmt.Sprintf("The subscription of %s ends on %s, in %s. After that day the account becomes read-only until it is renewed.\n",
					r.name, end.Format("2 January 2006"), plural(days, "day", "days")),
				Path: "/subscription"})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// digestWeek names the ISO week of t, e.g. "2026-W48".
func digestWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

func (d *DB) digests(ctx context.Context, now time.Time, out *Scheduled) error {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name, owner_member_id FROM accounts ORDER BY id`)
	if err != nil {
		return err
	}
	type acc struct {
		id, owner int64
		name      string
	}
	var as []acc
	for rows.Next() {
		var a acc
		if err := rows.Scan(&a.id, &a.name, &a.owner); err != nil {
			rows.Close()
			return err
		}
		as = append(as, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	period := digestWeek(now)
	for _, a := range as {
		err := d.update(ctx, func(tx *sql.Tx) error {
			ok, err := claim(ctx, tx, timeKey(now), a.id, KindDigest, "owner", period)
			if err != nil || !ok {
				return err
			}
			body, err := d.digestBody(ctx, tx, a.id, now)
			if err != nil {
				return err
			}
			out.Digests++
			return d.notifyMember(ctx, tx, a.owner, note{AccountID: a.id, Kind: KindDigest,
				Subject: fmt.Sprintf("Access digest of %s, week %s", a.name, period), Body: body, Path: "/audit"})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// digestBody is the weekly digest of an account: who joined and left,
// what changed in roles (the last 7 days), and the grants ending in the
// next 7 days.
func (d *DB) digestBody(ctx context.Context, tx *sql.Tx, accountID int64, now time.Time) (string, error) {
	from := now.Add(-7 * 24 * time.Hour).Format(time.RFC3339Nano)
	section := func(title string, kinds ...string) (string, error) {
		rows, err := tx.QueryContext(ctx, `SELECT created_at, actor_name, summary FROM audit_events
			WHERE account_id = ? AND created_at >= ? AND created_at <= ? AND kind IN (`+marks(len(kinds))+`) ORDER BY id`,
			append([]any{accountID, from, now.Format(time.RFC3339Nano)}, anys(kinds)...)...)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var at, who, summary string
			if err := rows.Scan(&at, &who, &summary); err != nil {
				return "", err
			}
			lines = append(lines, fmt.Sprintf("- %s, %s: %s", at[:10], who, summary))
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
		if len(lines) == 0 {
			lines = []string{"- none"}
		}
		return title + "\n" + strings.Join(lines, "\n") + "\n", nil
	}
	var b strings.Builder
	b.WriteString("What changed in who may do what, in the last 7 days.\n\n")
	for _, s := range []struct {
		title string
		kinds []string
	}{
		{"Joined:", []string{"invitation.accept", "member.add"}},
		{"Left (deactivated or deleted):", []string{"member.deactivate", "member.delete"}},
		{"Roles:", []string{"role.create", "role.update", "role.restore", "role.rename", "role.delete"}},
	} {
		text, err := section(s.title, s.kinds...)
		if err != nil {
			return "", err
		}
		b.WriteString(text + "\n")
	}
	gs, err := endingGrants(ctx, tx, timeKey(now), timeKey(now.Add(7*24*time.Hour)))
	if err != nil {
		return "", err
	}
	b.WriteString("Grants ending in the next 7 days:\n")
	n := 0
	for _, g := range gs {
		if g.accountID == accountID {
			fmt.Fprintf(&b, "- %s: %s access to the %s %s, last day %s\n", g.member, g.level, g.kind, g.target, g.lastDay())
			n++
		}
	}
	if n == 0 {
		b.WriteString("- none\n")
	}
	return b.String(), nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// pruneEndedWatches drops the watches of members who no longer see the
// vehicle (a grant ended, access was narrowed).
func (d *DB) pruneEndedWatches(ctx context.Context) error {
	rows, err := d.r.QueryContext(ctx, `SELECT DISTINCT m.account_id, w.member_id FROM vehicle_watches w JOIN members m ON m.id = w.member_id`)
	if err != nil {
		return err
	}
	type mem struct{ account, id int64 }
	var ms []mem
	for rows.Next() {
		var m mem
		if err := rows.Scan(&m.account, &m.id); err != nil {
			rows.Close()
			return err
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if err := d.update(ctx, func(tx *sql.Tx) error { return d.pruneWatches(ctx, tx, m.account, m.id) }); err != nil {
			return err
		}
	}
	return nil
}
