package db

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
)

// Profile is a login's own details, as "My profile" shows them. Name and
// phone belong to the login, so they are the same in every account.
type Profile struct {
	Email, FirstName, LastName, Phone string
}

// Profile reads the actor's own login.
func (d *DB) Profile(ctx context.Context, a *Actor) (Profile, error) {
	var p Profile
	err := d.r.QueryRowContext(ctx, `SELECT email, first_name, last_name, phone FROM users WHERE id = ?`, a.UserID).
		Scan(&p.Email, &p.FirstName, &p.LastName, &p.Phone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("Profile")
	}
	return p, err
}

// UpdateProfile changes the actor's own name and phone.
func (d *DB) UpdateProfile(ctx context.Context, a *Actor, first, last, phone string) error {
	e := ProfileEdit{FirstName: first, LastName: last, Phone: phone}
	e.Clean()
	if err := invalid(e.Validate(), personOrder...); err != nil {
		return err
	}
	first, last, phone = e.FirstName, e.LastName, e.Phone
	return d.update(ctx, func(tx *sql.Tx) error {
		var before Profile
		if err := tx.QueryRowContext(ctx, `SELECT first_name, last_name, phone FROM users WHERE id = ?`, a.UserID).
			Scan(&before.FirstName, &before.LastName, &before.Phone); err != nil {
			return err
		}
		if before.FirstName == first && before.LastName == last && before.Phone == phone {
			return nil // nothing changed, nothing to record
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET first_name = ?, last_name = ?, phone = ? WHERE id = ?`,
			first, last, phone, a.UserID); err != nil {
			return err
		}
		// Name and phone show on the login's member pages: a member form
		// opened before this change is out of date.
		if _, err := tx.ExecContext(ctx, `UPDATE members SET `+setVersioned+` WHERE user_id = ?`,
			append(d.versionArgs(a), a.UserID)...); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "profile.update", Target: a.Email, Summary: "Changed own name or phone",
			Before: map[string]string{"first_name": before.FirstName, "last_name": before.LastName, "phone": before.Phone},
			After:  map[string]string{"first_name": first, "last_name": last, "phone": phone}})
	})
}

// ChangePassword stores the actor's new password hash and ends every other
// session of the login; the session with keepToken stays. It returns how
// many sessions were ended.
func (d *DB) ChangePassword(ctx context.Context, a *Actor, hash, keepToken string) (int64, error) {
	var ended int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, a.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash != ?`, a.UserID, hashToken(keepToken))
		if err != nil {
			return err
		}
		ended, _ = res.RowsAffected()
		// The mobile app logs in again too: a stolen password's tokens end with it.
		tokens, err := endLoginTokens(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "profile.password", Target: a.Email, Summary: "Changed own password",
			Before: map[string]any{"password": "old"}, After: map[string]any{"password": "new", "other_sessions_ended": ended, "api_tokens_ended": tokens}})
	})
	return ended, err
}

// EndOwnSession ends one session of the actor's login by its reference.
func (d *DB) EndOwnSession(ctx context.Context, a *Actor, ref string) error {
	prefix, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil || len(prefix) != 9 {
		return notFound("Session")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		var ua, ip string
		err := tx.QueryRowContext(ctx, `SELECT user_agent, ip FROM sessions WHERE user_id = ? AND substr(id_hash, 1, 9) = ?`,
			a.UserID, prefix).Scan(&ua, &ip)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Session")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND substr(id_hash, 1, 9) = ?`, a.UserID, prefix); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "profile.session_end", Target: a.Email, Summary: "Ended one of own sessions",
			Before: map[string]string{"session": ref, "ip": ip, "device": ua}, After: map[string]string{"session": "ended"}})
	})
}

// EndAllOwnSessions ends every session of the actor's login, this one too:
// "log out everywhere".
func (d *DB) EndAllOwnSessions(ctx context.Context, a *Actor) (int64, error) {
	var ended int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, a.UserID)
		if err != nil {
			return err
		}
		ended, _ = res.RowsAffected()
		tokens, err := endLoginTokens(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "profile.logout_everywhere", Target: a.Email, Summary: "Logged out everywhere",
			After: map[string]any{"sessions_ended": ended, "api_tokens_ended": tokens}})
	})
	return ended, err
}

// Person is a member as the audit log's filter offers it.
type Person struct {
	ID   int64
	Name string
}

// scanPeople reads people (member id, first and last name, e-mail).
func (d *DB) scanPeople(ctx context.Context, q string, args ...any) ([]Person, error) {
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var first, last, email string
		if err := rows.Scan(&p.ID, &first, &last, &email); err != nil {
			return nil, err
		}
		p.Name = displayName(first, last, email)
		out = append(out, p)
	}
	return out, rows.Err()
}

// FindPeople finds the members of the actor's account a text names, for
// a person filter: the member with that e-mail (one look-up by the
// unique e-mail), or else up to limit members, by name, whose names and
// e-mail hold all the text's words (the users list's search). Its cost
// follows limit where matches are common; a text no one matches reads
// the account's members once.
func (d *DB) FindPeople(ctx context.Context, a *Actor, text string, limit int) ([]Person, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	if strings.Contains(text, "@") {
		out, err := d.scanPeople(ctx, `SELECT m.id, u.first_name, u.last_name, u.email FROM users u JOIN members m ON m.user_id = u.id
			WHERE u.email = ? AND m.account_id = ?`, text, a.AccountID)
		if err != nil || len(out) > 0 {
			return out, err
		}
	}
	where := memberWhere(a, MemberFilter{Query: text})
	return d.scanPeople(ctx, `SELECT m.id, u.first_name, u.last_name, u.email FROM members m JOIN users u ON u.id = m.user_id
		WHERE `+where.sql()+` ORDER BY m.sort_name, m.id LIMIT ?`, append(where.args, limit)...)
}

// PeopleByID reads the member of the actor's account with that id (none
// when there is no such member in the account).
func (d *DB) PeopleByID(ctx context.Context, a *Actor, id int64) ([]Person, error) {
	return d.scanPeople(ctx, `SELECT m.id, u.first_name, u.last_name, u.email FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.id = ? AND m.account_id = ?`, id, a.AccountID)
}

// endLoginTokens deletes the API tokens of every membership of a login.
func endLoginTokens(ctx context.Context, tx *sql.Tx, userID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE member_id IN (SELECT id FROM members WHERE user_id = ?)`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
