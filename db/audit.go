package db

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Event is one audit entry: who did what to whom, with before and after.
type Event struct {
	Kind    string // e.g. "role.update", "member.deactivate"
	Target  string // what was acted on, as a person reads it
	Summary string
	Before  any // marshalled to JSON; nil for none
	After   any
}

// audit writes an event in the same transaction as the change it records.
func (d *DB) audit(ctx context.Context, q queryer, a *Actor, e Event) error {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	var actorID any
	name := "system"
	if a != nil {
		actorID = a.MemberID
		name = a.Name()
	}
	account := int64(0)
	if a != nil {
		account = a.AccountID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_events (account_id, actor_member_id, actor_name, kind, target, summary, before, after, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, account, actorID, name, e.Kind, e.Target, e.Summary, enc(e.Before), enc(e.After), d.stamp())
	return err
}

// AuditEntry is an audit event as the log page shows it.
type AuditEntry struct {
	ID        int64
	ActorID   int64
	ActorName string
	Kind      string
	Target    string
	Summary   string
	Before    string
	After     string
	At        time.Time
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID int64
	Kind    string // a prefix such as "role." or a whole kind
	From    string // first day "2006-01-02" (UTC), "" for no start
	To      string // last day, included, "" for no end
	Page    int
	PerPage int
}

// AuditLog returns a page of the account's audit events, newest first.
func (d *DB) AuditLog(ctx context.Context, a *Actor, f AuditFilter) ([]AuditEntry, int, error) {
	where := []string{"account_id = ?"}
	args := []any{a.AccountID}
	if f.ActorID != 0 {
		where = append(where, "actor_member_id = ?")
		args = append(args, f.ActorID)
	}
	if f.Kind != "" {
		where = append(where, `kind LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(f.Kind)+"%")
	}
	if f.From != "" {
		where = append(where, "created_at >= ?")
		args = append(args, f.From)
	}
	if f.To != "" { // stamps of the last day sort below the next day's date
		if t, err := time.Parse(time.DateOnly, f.To); err == nil {
			where = append(where, "created_at < ?")
			args = append(args, t.AddDate(0, 0, 1).Format(time.DateOnly))
		}
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	per := f.PerPage
	if per <= 0 {
		per = 50
	}
	page := max(f.Page, 1)
	rows, err := d.r.QueryContext(ctx, `SELECT id, COALESCE(actor_member_id, 0), actor_name, kind, target, summary, before, after, created_at
		FROM audit_events WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, per, (page-1)*per)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Kind, &e.Target, &e.Summary, &e.Before, &e.After, &at); err != nil {
			return nil, 0, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, total, rows.Err()
}
