package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/field"
)

// API tokens for integrations: any member makes named tokens on My
// profile, whatever their channel. A token acts with the member's rights
// of the moment (loaded on every request like a session); a read-only one
// may only read. It is shown once (only its hash is kept), ends at its
// expiry, when revoked, when the member is deactivated and when the
// login's password changes.

// Token kinds.
const (
	TokenMobile      = "mobile"      // the app's token, from POST /api/v1/tokens (needs the mobile channel)
	TokenIntegration = "integration" // made on My profile, for scripts and integrations
)

// TokenUse is what a request's API token says about itself.
type TokenUse struct {
	ID       int64
	Kind     string
	ReadOnly bool
}

// TokenLifetimes are the expiries an integration token may be given, in days.
var TokenLifetimes = []int{30, 90, 365}

// DefaultTokenDays is the expiry offered first.
const DefaultTokenDays = 90

// TokenInfo is one of a login's API tokens, as My profile lists it.
type TokenInfo struct {
	ID         int64
	Name       string
	Kind       string
	ReadOnly   bool
	Account    string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
}

// NewTokenProblems checks the fields of a new integration token.
func NewTokenProblems(name string, days int) map[string]string {
	errs := map[string]string{}
	name = strings.TrimSpace(name)
	if name == "" {
		errs["name"] = "Name the token after what will use it, e.g. “Accounting export”."
	} else if m := field.Line(name, "token's name", 60, true); m != "" {
		errs["name"] = m
	}
	ok := false
	for _, d := range TokenLifetimes {
		ok = ok || d == days
	}
	if !ok {
		errs["days"] = "Choose 30, 90 or 365 days."
	}
	return errs
}

// CreateIntegrationToken makes a named token for the actor's membership and
// returns it (to be shown once) with its expiry.
func (d *DB) CreateIntegrationToken(ctx context.Context, a *Actor, name string, days int, readOnly bool) (string, time.Time, error) {
	name = strings.TrimSpace(name)
	if errs := NewTokenProblems(name, days); len(errs) > 0 {
		for _, f := range []string{"name", "days"} {
			if m, ok := errs[f]; ok {
				return "", time.Time{}, FieldError(f, "%s", m)
			}
		}
	}
	token := "fgt_" + NewToken()
	expires := d.Now().Add(time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Second)
	err := d.update(ctx, func(tx *sql.Tx) error {
		id, err := insertID(ctx, tx, `INSERT INTO api_tokens (member_id, name, token_hash, created_at, expires_at, kind, read_only)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.MemberID, name, hashToken(token), d.stamp(), expires.Format(time.RFC3339), TokenIntegration, readOnly)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		access := "read and write (your rights)"
		if readOnly {
			access = "read only"
		}
		return d.audit(ctx, tx, a, Event{Kind: "token.create", Target: a.Name(), Summary: "Created the API token “" + name + "”",
			After: map[string]any{"token": id, "name": name, "access": access, "expires_at": expires.Format(time.RFC3339)}})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// OwnTokens lists the API tokens of the actor's login, in every account,
// newest first.
func (d *DB) OwnTokens(ctx context.Context, a *Actor) ([]TokenInfo, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT t.id, t.name, t.kind, t.read_only, ac.name, t.created_at, COALESCE(t.expires_at, ''), t.last_used_at
		  FROM api_tokens t JOIN members m ON m.id = t.member_id JOIN accounts ac ON ac.id = m.account_id
		 WHERE m.user_id = ? ORDER BY t.id DESC`, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var created, expires string
		var last sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.ReadOnly, &t.Account, &created, &expires, &last); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		t.ExpiresAt, _ = time.Parse(time.RFC3339, expires)
		if last.Valid {
			if lt, err := time.Parse(time.RFC3339Nano, last.String); err == nil {
				t.LastUsedAt = &lt
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeOwnToken ends one API token of the actor's login; a token of
// anyone else is "not found". The event goes to the token's account.
func (d *DB) RevokeOwnToken(ctx context.Context, a *Actor, id int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		var memberID int64
		var name, kind string
		err := tx.QueryRowContext(ctx, `SELECT t.member_id, t.name, t.kind FROM api_tokens t JOIN members m ON m.id = t.member_id
			WHERE t.id = ? AND m.user_id = ?`, id, a.UserID).Scan(&memberID, &name, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Token")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id); err != nil {
			return err
		}
		who := a
		if memberID != a.MemberID {
			if who, err = d.loadActor(ctx, memberID); err != nil {
				return err
			}
		}
		return d.audit(ctx, tx, who, Event{Kind: "token.revoke", Target: who.Name(), Summary: "Revoked the API token “" + name + "”",
			Before: map[string]any{"token": id, "name": name, "kind": kind}, After: map[string]any{"token": "revoked"}})
	})
}
