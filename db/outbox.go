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

// The outbox: every e-mail is written in the transaction of the change
// that causes it (enqueueMail), so it exists exactly when the change does.
// The background sender (db/mailer) claims due messages, delivers them and
// marks each sent, or schedules another attempt, or marks it failed with
// the mail server's answer.
//
// A claim is one conditional UPDATE: it takes queued messages whose next
// attempt is due, counts the attempt and moves next_attempt_at past the
// lease. Another sender (in this process or another one on the same file)
// sees them as not due until the lease ends, so two senders never hold one
// message at once. The attempt number is the claim's token: marking a
// message sent or failed names it, and a sender whose lease ran out (its
// message claimed again meanwhile) changes nothing.

// Mail is one e-mail for the outbox.
type Mail struct {
	AccountID int64  // the account it is about; 0 for none
	MemberID  int64  // the recipient when a member of that account; 0 otherwise
	To        string // the address it goes to
	Kind      string // what it is about, e.g. "invitation", "role.changed"
	Subject   string
	Body      string // plain text
	// Secret marks a body holding a single-use link (an invitation, a
	// password reset): it is erased once the message is sent and never
	// shown in the console.
	Secret bool
}

// enqueueMail writes m to the outbox on q, which is the transaction of the
// change that causes it: the message exists exactly when the change does.
// The background sender delivers it; it is woken when the transaction
// commits (MailQueued).
func (d *DB) enqueueMail(ctx context.Context, q queryer, m Mail) error {
	now := d.nowKey()
	_, err := q.ExecContext(ctx, `INSERT INTO outbox (account_id, member_id, to_addr, kind, subject, body, secret, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, nullID(m.AccountID), nullID(m.MemberID), m.To, m.Kind, m.Subject, m.Body, m.Secret, now, d.stamp())
	if err != nil {
		return fmt.Errorf("queue mail %s: %w", m.Kind, err)
	}
	d.mailPending.Store(true)
	return nil
}

// MailQueued is signalled after a transaction that queued a message
// commits: the sender's cheap in-process wake-up. It may also fire without
// anything due (a rolled-back message); the sender then finds nothing.
func (d *DB) MailQueued() <-chan struct{} { return d.mailNudge }

// nudgeMail wakes the sender if the transaction just ended queued a message.
func (d *DB) nudgeMail(committed bool) {
	if !d.mailPending.Swap(false) || !committed {
		return
	}
	select {
	case d.mailNudge <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// OutboxMail is a claimed message, as the sender needs it.
type OutboxMail struct {
	ID        int64
	To        string
	Kind      string
	Subject   string
	Body      string
	Attempt   int // this attempt's number (1 for the first): the claim's token
	CreatedAt time.Time
}

// ClaimMail claims up to limit due messages for the caller until
// leaseUntil, counting an attempt on each, in one statement.
func (d *DB) ClaimMail(ctx context.Context, limit int, leaseUntil time.Time) ([]OutboxMail, error) {
	var out []OutboxMail
	err := d.update(ctx, func(tx *sql.Tx) error {
		now := d.nowKey()
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = :lease, leased_until = :lease
			WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= :now ORDER BY next_attempt_at, id LIMIT :limit)
			  AND state = 'queued' AND next_attempt_at <= :now
			RETURNING id, to_addr, kind, subject, body, attempts, created_at`,
			sql.Named("lease", timeKey(leaseUntil)), sql.Named("now", now), sql.Named("limit", limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m OutboxMail
			if err := rows.Scan(&m.ID, &m.To, &m.Kind, &m.Subject, &m.Body, &m.Attempt, timeCol{&m.CreatedAt}); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	// RETURNING gives no order: deliver oldest first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// NextMailDue is when the next queued message falls due (ok false: none).
func (d *DB) NextMailDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var s sql.NullString
	if err := d.r.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'`).Scan(&s); err != nil {
		return time.Time{}, false, err
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	t, err := parseStoredTime(s.String)
	return t, err == nil, err
}

// ErrLeaseLost is returned when a message's claim was taken over (the lease
// ran out and another sender claimed it): nothing was changed.
var ErrLeaseLost = errors.New("outbox: the claim on the message was lost")

// MailSent marks the claimed message m sent, via "smtp" or "log". A secret
// body is erased: the link it holds is needed no more.
func (d *DB) MailSent(ctx context.Context, m OutboxMail, via string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = ?, via = ?, last_error = '', leased_until = NULL,
			body = CASE WHEN secret <> 0 THEN '' ELSE body END
			WHERE id = ? AND attempts = ? AND state = 'queued'`, d.stamp(), via, m.ID, m.Attempt)
		return leaseHeld(res, err)
	})
}

// MailFailed records a failed attempt with the server's answer: another
// attempt at retryAt, or, with a zero retryAt, the message is failed.
func (d *DB) MailFailed(ctx context.Context, m OutboxMail, answer string, retryAt time.Time) error {
	answer = truncate(strings.ToValidUTF8(answer, "?"), 500)
	return d.update(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if retryAt.IsZero() {
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'failed', last_error = ?, next_attempt_at = ?, leased_until = NULL
				WHERE id = ? AND attempts = ? AND state = 'queued'`, answer, d.nowKey(), m.ID, m.Attempt)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET last_error = ?, next_attempt_at = ?, leased_until = NULL
				WHERE id = ? AND attempts = ? AND state = 'queued'`, answer, timeKey(retryAt), m.ID, m.Attempt)
		}
		return leaseHeld(res, err)
	})
}

// ReleaseMail gives a claimed message back, due at once and without
// counting the attempt (e.g. the sender stops before trying it).
func (d *DB) ReleaseMail(ctx context.Context, m OutboxMail) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts - 1, next_attempt_at = ?, leased_until = NULL
			WHERE id = ? AND attempts = ? AND state = 'queued'`, d.nowKey(), m.ID, m.Attempt)
		return leaseHeld(res, err)
	})
}

// ReclaimMail makes the messages still claimed due at once: their sender
// is gone. Only a caller that knows no other sender runs on the database
// may call it (serve, which holds the database's lock, at start). A message
// the mail server had accepted just before its sender died goes again,
// with the same Message-ID.
func (d *DB) ReclaimMail(ctx context.Context) (int64, error) {
	var n int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, leased_until = NULL
			WHERE state = 'queued' AND leased_until IS NOT NULL`, d.nowKey())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func leaseHeld(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// SentMail is a message as the console lists it: never its body.
type SentMail struct {
	ID            int64
	To            string
	Kind          string
	Subject       string
	State         string // queued, sent, failed
	Via           string // smtp or log, once sent
	Attempts      int
	Sending       bool // a sender holds it now
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// OutboxPage is one page of the account's e-mails, newest first.
type OutboxPage struct {
	Mails []SentMail
	Next  int64 // the id to continue before; 0: no more
}

// Outbox lists the e-mails of the actor's account, newest first, before
// the id before (0: from the newest), a page of limit at a time. Messages
// not about an account (a password reset asked for on the login page) are
// nobody's to list.
func (d *DB) Outbox(ctx context.Context, a *Actor, before int64, limit int) (OutboxPage, error) {
	var p OutboxPage
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, to_addr, kind, subject, state, via, attempts, leased_until IS NOT NULL, next_attempt_at, last_error, created_at, sent_at
		FROM outbox WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, a.AccountID, before, limit+1)
	if err != nil {
		return p, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m SentMail
		if err := rows.Scan(&m.ID, &m.To, &m.Kind, &m.Subject, &m.State, &m.Via, &m.Attempts, &m.Sending, timeCol{&m.NextAttemptAt},
			&m.LastError, timeCol{&m.CreatedAt}, nullTimeCol{&m.SentAt}); err != nil {
			return p, fmt.Errorf("outbox: %w", err)
		}
		p.Mails = append(p.Mails, m)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("outbox: %w", err)
	}
	if len(p.Mails) > limit {
		p.Mails = p.Mails[:limit]
		p.Next = p.Mails[limit-1].ID
	}
	return p, nil
}

// RetryMail queues a failed e-mail of the actor's account again, due at
// once with a fresh round of attempts (audit.view; audited). A message of
// another account, or one not failed, is "not found" or a conflict.
func (d *DB) RetryMail(ctx context.Context, a *Actor, id int64) (SentMail, error) {
	var m SentMail
	err := d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.AuditView)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id, to_addr, kind, subject, state, attempts, last_error FROM outbox WHERE id = ? AND account_id = ?`,
			id, a.AccountID).Scan(&m.ID, &m.To, &m.Kind, &m.Subject, &m.State, &m.Attempts, &m.LastError)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENotFound, "This e-mail does not exist in your account.")
		}
		if err != nil {
			return err
		}
		if m.State != "failed" {
			return Errorf(EConflict, "Only a failed e-mail can be retried; this one is %s.", m.State)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'failed'`,
			d.nowKey(), id); err != nil {
			return err
		}
		d.mailPending.Store(true)
		return d.audit(ctx, tx, a, Event{Kind: "outbox.retry", Target: m.To,
			Summary: "Sent the e-mail \u201c" + m.Subject + "\u201d to " + m.To + " again",
			Before:  map[string]any{"state": "failed", "attempts": m.Attempts, "last_error": m.LastError},
			After:   map[string]any{"state": "queued"}})
	})
	return m, err
}
