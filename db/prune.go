package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Retention says how long records that no longer serve are kept before
// Prune deletes them.
type Retention struct {
	// Invitations: accepted, revoked or expired invitations are deleted
	// this long after that happened (0: 30 days).
	Invitations time.Duration
	// Audit: audit events older than this are deleted (0: kept forever).
	Audit time.Duration
	// SignIns: entries of the sign-in history older than this are deleted
	// (0: 90 days).
	SignIns time.Duration
}

// DefaultInvitationRetention is how long used or expired invitations stay
// listed in the history when Retention does not say.
const DefaultInvitationRetention = 30 * 24 * time.Hour

// DefaultSignInRetention is how long the sign-in history goes back when
// Retention does not say.
const DefaultSignInRetention = 90 * 24 * time.Hour

// Pruned counts what Prune deleted.
type Pruned struct {
	Sessions, Tokens, Throttles, Invitations, SignIns, AuditEvents int64
	IdempotencyKeys                                                int64
	PermissionUses                                                 int64
}

// UseRetention is how far back permission uses are kept: twice the
// window in which the access review looks for unused permissions.
const UseRetention = 2 * UnusedWindow

// Total is the number of rows deleted.
func (p Pruned) Total() int64 {
	return p.Sessions + p.Tokens + p.Throttles + p.Invitations + p.SignIns + p.AuditEvents + p.IdempotencyKeys + p.PermissionUses
}

// pruneBatch bounds each delete so that the writer is never held long.
const pruneBatch = 500

// Prune deletes what can no longer be used: sessions past their end or
// idle too long, API tokens past their expiry or of deactivated members
// (revoked tokens are deleted at once), throttle rows whose window has
// passed and whose lock has ended, invitations used, revoked or expired
// longer ago than the retention, sign-in history older than its
// retention, API idempotency keys older than IdempotencyKeep, permission
// uses older than UseRetention, and, when an audit retention is set,
// older audit events.
// Each kind is deleted in small batches.
func (d *DB) Prune(ctx context.Context, keep Retention) (Pruned, error) {
	if keep.Invitations <= 0 {
		keep.Invitations = DefaultInvitationRetention
	}
	if keep.SignIns <= 0 {
		keep.SignIns = DefaultSignInRetention
	}
	now := d.Now()
	stamp := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	window := max(EmailThrottle.Window, IPThrottle.Window)
	var p Pruned
	var err error
	type job struct {
		n          *int64
		table, key string
		where      string
		args       []any
	}
	t := d.dia.instant
	jobs := []job{
		{&p.Sessions, "sessions", "id_hash", t("expires_at") + ` < ` + t("?") + ` OR ` + t("last_seen_at") + ` < ` + t("?"),
			[]any{stamp(now), stamp(now.Add(-IdleTimeout))}},
		{&p.Tokens, "api_tokens", "id", t("expires_at") + ` <= ` + t("?") + ` OR member_id IN (SELECT id FROM members WHERE status = 'deactivated')`,
			[]any{stamp(now)}},
		{&p.Throttles, "login_failures", "key", t("first_at") + ` < ` + t("?") + ` AND (locked_until IS NULL OR ` + t("locked_until") + ` < ` + t("?") + `)`,
			[]any{stamp(now.Add(-window)), stamp(now)}},
		{&p.Invitations, "invitations", "id", t("COALESCE(accepted_at, revoked_at, expires_at)") + ` < ` + t("?"),
			[]any{stamp(now.Add(-keep.Invitations))}},
		{&p.SignIns, "sign_ins", "id", t("at") + ` < ` + t("?"), []any{stamp(now.Add(-keep.SignIns))}},
		{&p.IdempotencyKeys, "api_idempotency", "id", t("created_at") + ` < ` + t("?"), []any{stamp(now.Add(-IdempotencyKeep))}},
		{&p.PermissionUses, "permission_uses", "(member_id, permission, day)", `day < ?`,
			[]any{now.Add(-UseRetention).UTC().Format(time.DateOnly)}},
	}
	if keep.Audit > 0 {
		jobs = append(jobs, job{&p.AuditEvents, "audit_events", "id", t("created_at") + ` < ` + t("?"), []any{stamp(now.Add(-keep.Audit))}})
	}
	// Each batch is a write transaction of its own: serialized with every
	// other write (across instances on PostgreSQL), so two instances
	// pruning at once delete each row once and count it once.
	for _, j := range jobs {
		q := fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT %d)`, j.table, j.key, strings.Trim(j.key, "()"), j.table, j.where, pruneBatch)
		for {
			var n int64
			err := d.update(ctx, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, q, j.args...)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return p, fmt.Errorf("prune %s: %w", j.table, err)
			}
			*j.n += n
			if n < pruneBatch {
				break
			}
		}
	}
	return p, err
}
