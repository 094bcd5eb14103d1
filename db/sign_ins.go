package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SignIn is one sign-in attempt of a login, as its history shows it.
type SignIn struct {
	At        time.Time
	IP        string
	UserAgent string
	Channel   string // "web" or "api"
	Outcome   string // "ok", "wrong_password", "locked", "refused"
	Account   string // the account signed in to (successes)
}

// SignInAttempt is what the login code knows of one attempt.
type SignInAttempt struct {
	UserID, MemberID int64 // MemberID: the account's member signed in as (0 unless ok)
	IP, UserAgent    string
	Channel, Outcome string
}

// RecordSignIn keeps one attempt in the history of its login. A successful
// one is also an audit event of the account signed in to, so the audit log
// shows who came in, when and from where.
func (d *DB) RecordSignIn(ctx context.Context, s SignInAttempt) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		id, err := insertID(ctx, tx, `INSERT INTO sign_ins (user_id, member_id, at, ip, user_agent, channel, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, s.UserID, nullID(s.MemberID), d.stamp(), truncate(s.IP, 64), truncate(s.UserAgent, 200),
			s.Channel, s.Outcome)
		if err != nil {
			return fmt.Errorf("record sign-in: %w", err)
		}
		if s.Outcome != "ok" || s.MemberID == 0 {
			return nil
		}
		a, err := d.loadActor(ctx, s.MemberID)
		if err != nil {
			return fmt.Errorf("record sign-in: %w", err)
		}
		what := "Signed in to the console"
		if s.Channel == "api" {
			what = "Signed in through the API (a token was issued)"
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "signin." + s.Channel, Target: a.Name(), Summary: what + " from " + s.IP,
			After: map[string]any{"ip": s.IP, "user_agent": truncate(s.UserAgent, 200)}}); err != nil {
			return err
		}
		return d.mailNewSignIn(ctx, tx, a, s, id)
	})
}

// OwnSignIns is the actor's own sign-in history, newest first: every
// attempt on their login, failures included, in any account.
func (d *DB) OwnSignIns(ctx context.Context, a *Actor, limit int) ([]SignIn, error) {
	return d.signIns(ctx, `s.user_id = ?`, a.UserID, limit)
}

// MemberSignIns is the history of a member of the actor's account as their
// account sees it: their sign-ins to this account. Attempts on the login
// that name no account (wrong passwords) and sign-ins to other accounts
// are the login holder's own business.
func (d *DB) MemberSignIns(ctx context.Context, a *Actor, memberID int64, limit int) ([]SignIn, error) {
	if _, err := d.Member(ctx, a, memberID); err != nil {
		return nil, err
	}
	return d.signIns(ctx, `s.member_id = ?`, memberID, limit)
}

func (d *DB) signIns(ctx context.Context, cond string, id int64, limit int) ([]SignIn, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT s.at, s.ip, s.user_agent, s.channel, s.outcome, COALESCE(ac.name, '')
		FROM sign_ins s LEFT JOIN members m ON m.id = s.member_id LEFT JOIN accounts ac ON ac.id = m.account_id
		WHERE `+cond+` ORDER BY s.id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	defer rows.Close()
	var out []SignIn
	for rows.Next() {
		var s SignIn
		var at string
		if err := rows.Scan(&at, &s.IP, &s.UserAgent, &s.Channel, &s.Outcome, &s.Account); err != nil {
			return nil, fmt.Errorf("list sign-ins: %w", err)
		}
		if s.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("list sign-ins: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
