package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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
	Page    int
	PerPage int
}

// AuditLog returns a page of the account's audit events, newest first.
func (d *DB) AuditLog(ctx context.Context, a *Actor, f AuditFilter) ([]AuditEntry, int, error) {
	var where conds
	where.add("account_id = ?", a.AccountID)
	if f.ActorID != 0 {
		where.add("actor_member_id = ?", f.ActorID)
	}
	if f.Kind != "" {
		where.add(`kind LIKE ? ESCAPE '\'`, escapeLike(f.Kind)+"%")
	}
	var out []AuditEntry
	total, err := readPage(ctx, d.r, `SELECT id, COALESCE(actor_member_id, 0), actor_name, kind, target, summary, before, after, created_at, COUNT(*) OVER ()
		FROM audit_events WHERE `+where.sql()+` ORDER BY id DESC LIMIT ? OFFSET ?`, where.args, pageOf(f.Page, f.PerPage, 50),
		func(rows *sql.Rows, total *int) error {
			var e AuditEntry
			if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Kind, &e.Target, &e.Summary, &e.Before, &e.After, timeCol{&e.At}, total); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	return out, total, nil
}
