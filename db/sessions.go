package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// Session lifetimes by default: a session ends after IdleTimeout without a
// request, and at the latest MaxAge after login. Each account can choose
// its own in its settings (shorter than MaxAge, which also bounds the cookie).
const (
	IdleTimeout = 12 * time.Hour
	MaxAge      = 7 * 24 * time.Hour
)

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewToken returns a random URL-safe token of 32 bytes.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session of a login working in one membership and
// returns the token for the cookie. Only its hash is stored.
func (d *DB) CreateSession(ctx context.Context, userID, memberID int64, userAgent, ip string) (string, error) {
	token := NewToken()
	now := d.Now()
	err := d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, member_id, created_at, last_seen_at, expires_at, user_agent, ip)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, hashToken(token), userID, memberID,
			now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), now.Add(MaxAge).Format(time.RFC3339Nano),
			truncate(userAgent, 200), truncate(ip, 64)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE members SET last_login_at = ? WHERE id = ?`, now.Format(time.RFC3339), memberID)
		return err
	})
	return token, err
}

// SessionActor loads the actor of a session token. A missing, expired or
// idle session, or a member who may no longer use the console, answers
// ENotFound: the caller treats the visitor as logged out.
func (d *DB) SessionActor(ctx context.Context, token string) (*Actor, error) {
	var preview sql.NullInt64
	var lastSeen, expires, created string
	var maxMin, idleMin int64
	a := &Actor{}
	var ends string
	var perms sql.NullString
	// One statement reads the session and its member as an actor. The
	// account's settings bound the session too: its lifetime counts from
	// login, its idle timeout from the last request.
	err := d.readRow(ctx, sessionActorQuery, minutes(MaxAge), minutes(IdleTimeout), hashToken(token)).
		Scan(append([]any{&preview, &lastSeen, &expires, &created, &maxMin, &idleMin}, a.scanTargets(&ends, &perms)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Session")
	}
	if err != nil {
		return nil, err
	}
	a.finish(ends, perms)
	now := d.Now()
	seen, _ := time.Parse(time.RFC3339Nano, lastSeen)
	exp, _ := time.Parse(time.RFC3339Nano, expires)
	born, _ := time.Parse(time.RFC3339Nano, created)
	if now.After(exp) || now.Sub(born) > time.Duration(maxMin)*time.Minute || now.Sub(seen) > time.Duration(idleMin)*time.Minute {
		_ = d.EndSession(ctx, token)
		return nil, notFound("Session")
	}
	if WebRefusal(a.Status, a.Channel, a.Builtin) != "" {
		_ = d.EndSession(ctx, token)
		return nil, notFound("Session")
	}
	// Touch at most once a minute so that reads stay reads.
	if now.Sub(seen) > time.Minute {
		_, _ = d.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now.Format(time.RFC3339Nano), hashToken(token))
	}
	if preview.Valid {
		p, err := d.loadActor(ctx, preview.Int64)
		if err == nil && p.AccountID == a.AccountID {
			// The every-request rule: the preview is allowed again on every request; once
			// it is not, the session is the real person's own again.
			if _, err := d.checkPreview(ctx, d.r, a, p.MemberID); err == nil {
				p.PreviewBy = a
				return p, nil
			} else if ErrorCode(err) == "" {
				return nil, err
			}
			_ = d.EndPreview(ctx, token)
		}
	}
	return a, nil
}

const sessionActorQuery = `SELECT s.preview_member_id, s.last_seen_at, s.expires_at, s.created_at,
		COALESCE(st.session_max_minutes, ?), COALESCE(st.session_idle_minutes, ?), ` + actorColumns + `
	  FROM sessions s CROSS JOIN ` + actorFrom + `
	 WHERE s.id_hash = ? AND m.id = s.member_id`

// EndSession deletes one session (logout).
func (d *DB) EndSession(ctx context.Context, token string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashToken(token))
	return err
}

// EndUserSessions deletes every session of a login but the one with
// keepToken (pass "" to end all): "log out everywhere".
func (d *DB) EndUserSessions(ctx context.Context, userID int64, keepToken string) (int64, error) {
	keep := []byte{}
	if keepToken != "" {
		keep = hashToken(keepToken)
	}
	res, err := d.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash != ?`, userID, keep)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// SwitchAccount moves a session to another membership of the same login.
func (d *DB) SwitchAccount(ctx context.Context, token string, userID, memberID int64) error {
	res, err := d.w.ExecContext(ctx, `UPDATE sessions SET member_id = ?, preview_member_id = NULL
		WHERE id_hash = ? AND user_id = ? AND EXISTS (SELECT 1 FROM members WHERE id = ? AND user_id = ?)`,
		memberID, hashToken(token), userID, memberID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("Account")
	}
	return nil
}

// SessionInfo is one of a login's sessions, for "My sessions".
type SessionInfo struct {
	Current    bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	IP         string
	Ref        string // a short public reference: the first bytes of the hash
}

// Sessions lists the live sessions of a login, newest first: those past
// their end or idle too long are over (SessionActor refuses them) and are
// not listed, even before Prune deletes them.
func (d *DB) Sessions(ctx context.Context, userID int64, currentToken string) ([]SessionInfo, error) {
	now := d.Now()
	// A login has a handful of sessions: they are all read, and the
	// moments compared as times here (the stored texts may differ in
	// their fractions of a second, so text order is not time order).
	rows, err := d.r.QueryContext(ctx, `SELECT id_hash, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions
		WHERE user_id = ? ORDER BY last_seen_at DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cur := hashToken(currentToken)
	var out []SessionInfo
	for rows.Next() {
		var h []byte
		var s SessionInfo
		var expires time.Time
		if err := rows.Scan(&h, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt}, timeCol{&expires}, &s.UserAgent, &s.IP); err != nil {
			return nil, err
		}
		if expires.Before(now) || s.LastSeenAt.Before(now.Add(-IdleTimeout)) {
			continue
		}
		s.Current = string(h) == string(cur)
		s.Ref = base64.RawURLEncoding.EncodeToString(h[:9])
		out = append(out, s)
	}
	return out, rows.Err()
}

// EndSessionByRef ends one of the login's own sessions by its reference.
func (d *DB) EndSessionByRef(ctx context.Context, userID int64, ref string) error {
	prefix, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil || len(prefix) != 9 {
		return notFound("Session")
	}
	res, err := d.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND substr(id_hash, 1, 9) = ?`, userID, prefix)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("Session")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
