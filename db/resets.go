package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Password recovery: a single-use link to choose a new password, sent by
// e-mail ("forgot password", or a member's page by someone with
// users.manage). Only the token's SHA-256 is stored. Using it sets the
// password and ends every session and API token of the login.

// ResetTTL is how long a password reset link stays valid.
const ResetTTL = time.Hour

// Throttles of reset requests, per e-mail and per client address: each
// request counts, whether or not the e-mail has a login.
var (
	ResetEmailThrottle = Throttle{Limit: 3, Window: time.Hour, Lock: 5 * time.Minute, MaxLock: time.Hour}
	ResetIPThrottle    = Throttle{Limit: 10, Window: time.Hour, Lock: 5 * time.Minute, MaxLock: time.Hour}
)

// PasswordReset is a reset link as its page shows it.
type PasswordReset struct {
	UserID    int64
	Email     string
	FirstName string
	Purpose   string // "reset" or "setup" (an Owner's first password)
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ResetLink is a link just made, with the only copy of its token.
type ResetLink struct {
	Email     string
	Name      string
	Token     string
	ExpiresAt time.Time
}

// ResetMail composes the e-mail that carries a reset link. It is written
// to the outbox in the transaction that makes the link, to the login's own
// address, and is secret (its body is erased once sent).
type ResetMail func(ResetLink) Mail

// Problem is the sentence for a link that can no longer be used, or "".
func (p PasswordReset) Problem(now time.Time) string {
	switch {
	case p.UsedAt != nil:
		return "This link was already used. If you still need a new password, ask for another link on the login page (Forgot password?)."
	case !now.Before(p.ExpiresAt):
		return "This link expired. Ask for a new one on the login page (Forgot password?)."
	}
	return ""
}

func newReset(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, by string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = ResetTTL
	}
	token := NewToken()
	exp := now.Add(ttl)
	// A new link replaces the older ones of the login.
	if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL AND purpose = 'reset'`,
		now.Format(time.RFC3339Nano), userID); err != nil {
		return "", exp, err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (user_id, token_hash, purpose, requested_by, created_at, expires_at)
		VALUES (?, ?, 'reset', ?, ?, ?)`, userID, hashToken(token), truncate(by, 200), now.Format(time.RFC3339Nano), exp.Format(time.RFC3339Nano))
	return token, exp, err
}

// RequestPasswordReset makes a reset link for the login of email. found
// is false for an e-mail without a login (nothing is made); the caller
// answers the same either way.
// The e-mail is not about an account: it is listed in no account's outbox.
func (d *DB) RequestPasswordReset(ctx context.Context, email, from string, mail ResetMail) (link ResetLink, found bool, err error) {
	err = d.update(ctx, func(tx *sql.Tx) error {
		var id int64
		var first, last string
		err := tx.QueryRowContext(ctx, `SELECT id, email, first_name, last_name FROM users WHERE email = ?`, strings.TrimSpace(email)).
			Scan(&id, &link.Email, &first, &last)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		link.Name = displayName(first, last, link.Email)
		link.Token, link.ExpiresAt, err = newReset(ctx, tx, d.Now(), id, "forgot password form from "+from, ResetTTL)
		if err != nil || mail == nil {
			return err
		}
		m := mail(link)
		m.AccountID, m.MemberID, m.To, m.Secret = 0, 0, link.Email, true
		return d.enqueueMail(ctx, tx, m)
	})
	return link, found, err
}

// SendMemberReset makes a reset link for a member of the actor's account,
// within the actor's reach (not themselves, not the Owner, not a wider
// role). The link goes to the member only, by the e-mail mail composes.
func (d *DB) SendMemberReset(ctx context.Context, a *Actor, memberID int64, mail ResetMail) (ResetLink, error) {
	var link ResetLink
	err := d.update(ctx, func(tx *sql.Tx) error {
		if err := checkReach(ctx, tx, a, memberID); err != nil {
			return err
		}
		var userID int64
		var first, last, status string
		if err := tx.QueryRowContext(ctx, `SELECT u.id, u.email, u.first_name, u.last_name, m.status FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.id = ? AND m.account_id = ?`, memberID, a.AccountID).Scan(&userID, &link.Email, &first, &last, &status); err != nil {
			return err
		}
		if status != "active" {
			return Errorf(EConflict, "Only an active member can be sent a password reset.")
		}
		link.Name = displayName(first, last, link.Email)
		var err error
		if link.Token, link.ExpiresAt, err = newReset(ctx, tx, d.Now(), userID, a.Name()+" of "+a.AccountName, ResetTTL); err != nil {
			return err
		}
		if mail != nil {
			m := mail(link)
			m.AccountID, m.MemberID, m.To, m.Secret = a.AccountID, memberID, link.Email, true
			if err := d.enqueueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return d.audit(ctx, tx, a, Event{Kind: "member.password_reset", Target: link.Email,
			Summary: "Sent a password reset e-mail to " + link.Name,
			After:   map[string]any{"reset_link": "sent to " + link.Email, "expires_at": link.ExpiresAt.Format(time.RFC3339)}})
	})
	return link, err
}

// PasswordResetByToken reads the reset of a link in whatever state; an
// unknown token is ENotFound.
func (d *DB) PasswordResetByToken(ctx context.Context, token string) (PasswordReset, error) {
	return passwordReset(ctx, d.r, token)
}

func passwordReset(ctx context.Context, q queryer, token string) (PasswordReset, error) {
	var p PasswordReset
	err := q.QueryRowContext(ctx, `SELECT r.user_id, u.email, u.first_name, r.purpose, r.expires_at, r.used_at
		FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?`, hashToken(token)).
		Scan(&p.UserID, &p.Email, &p.FirstName, &p.Purpose, timeCol{&p.ExpiresAt}, nullTimeCol{&p.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return p, Errorf(ENotFound, "This link is not valid. Check that you copied the whole link, or ask for a new one on the login page.")
	}
	if err != nil {
		return p, fmt.Errorf("read password reset: %w", err)
	}
	return p, nil
}

// UsePasswordReset sets the login's new password from a valid link, uses
// the link up, and ends every session and API token of the login. It
// returns the login's id and how many sessions and tokens ended.
func (d *DB) UsePasswordReset(ctx context.Context, token, hash string) (userID, sessions, tokens int64, err error) {
	err = d.update(ctx, func(tx *sql.Tx) error {
		p, err := passwordReset(ctx, tx, token)
		if err != nil {
			return err
		}
		if msg := p.Problem(d.Now()); msg != "" {
			return Errorf(EConflict, "%s", msg)
		}
		userID = p.UserID
		now := d.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, now, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, p.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, p.UserID)
		if err != nil {
			return err
		}
		sessions, _ = res.RowsAffected()
		if tokens, err = endLoginTokens(ctx, tx, p.UserID); err != nil {
			return err
		}
		// Every account the login belongs to records it.
		rows, err := tx.QueryContext(ctx, `SELECT m.id, m.account_id, u.first_name, u.last_name FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.user_id = ?`, p.UserID)
		if err != nil {
			return err
		}
		var who []*Actor
		for rows.Next() {
			x := &Actor{UserID: p.UserID, Email: p.Email}
			if err := rows.Scan(&x.MemberID, &x.AccountID, &x.FirstName, &x.LastName); err != nil {
				rows.Close()
				return err
			}
			who = append(who, x)
		}
		rows.Close()
		kind, summary := "password.reset", "Chose a new password with a reset link"
		if p.Purpose == "setup" {
			kind, summary = "password.setup", "Chose a first password with the account's setup link"
		}
		for _, x := range who {
			if err := d.audit(ctx, tx, x, Event{Kind: kind, Target: p.Email, Summary: summary,
				Before: map[string]any{"password": "old"},
				After:  map[string]any{"password": "new", "sessions_ended": sessions, "api_tokens_ended": tokens}}); err != nil {
				return err
			}
		}
		return nil
	})
	return userID, sessions, tokens, err
}
