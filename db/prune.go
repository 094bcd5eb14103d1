package db

import (
	"context"
	"fmt"
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
}

// Total is the number of rows deleted.
func (p Pruned) Total() int64 {
	return p.Sessions + p.Tokens + p.Throttles + p.Invitations + p.SignIns + p.AuditEvents + p.IdempotencyKeys
}

// pruneBatch bounds each delete so that the writer is never held long.
const pruneBatch = 500

// Prune deletes what can no longer be used: sessions past their end or
// idle too long, API tokens past their expiry or of deactivated members
// (revoked tokens are deleted at once), throttle rows whose window has
// passed and whose lock has ended, invitations used, revoked or expired
// longer ago than the retention, sign-in history older than its
// retention, API idempotency keys older than IdempotencyKeep, and, when
// an audit retention is set, older audit events.
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
	jobs := []job{
		{&p.Sessions, "sessions", "id_hash", `julianday(expires_at) < julianday(?) OR julianday(last_seen_at) < julianday(?)`,
			[]any{stamp(now), stamp(now.Add(-IdleTimeout))}},
		{&p.Tokens, "api_tokens", "id", `julianday(expires_at) <= julianday(?) OR member_id IN (SELECT id FROM members WHERE status = 'deactivated')`,
			[]any{stamp(now)}},
		{&p.Throttles, "login_failures", "key", `julianday(first_at) < julianday(?) AND (locked_until IS NULL OR julianday(locked_until) < julianday(?))`,
			[]any{stamp(now.Add(-window)), stamp(now)}},
		{&p.Invitations, "invitations", "id", `julianday(COALESCE(accepted_at, revoked_at, expires_at)) < julianday(?)`,
			[]any{stamp(now.Add(-keep.Invitations))}},
		{&p.SignIns, "sign_ins", "id", `julianday(at) < julianday(?)`, []any{stamp(now.Add(-keep.SignIns))}},
		{&p.IdempotencyKeys, "api_idempotency", "id", `julianday(created_at) < julianday(?)`, []any{stamp(now.Add(-IdempotencyKeep))}},
	}
	if keep.Audit > 0 {
		jobs = append(jobs, job{&p.AuditEvents, "audit_events", "id", `julianday(created_at) < julianday(?)`, []any{stamp(now.Add(-keep.Audit))}})
	}
	for _, j := range jobs {
		q := fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT %d)`, j.table, j.key, j.key, j.table, j.where, pruneBatch)
		for {
			res, err := d.w.ExecContext(ctx, q, j.args...)
			if err != nil {
				return p, fmt.Errorf("prune %s: %w", j.table, err)
			}
			n, _ := res.RowsAffected()
			*j.n += n
			if n < pruneBatch {
				break
			}
		}
	}
	return p, err
}
