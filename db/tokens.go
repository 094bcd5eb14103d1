package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"fleetgate/db/perm"
)

// MobileRefusal is Refusal for the mobile channel (the JSON API).
func MobileRefusal(status, channel string, builtin perm.Builtin) string {
	return Refusal(status, channel, builtin, "mobile")
}

// TokenTTL is how long an API token works after it is issued; then the
// app signs in again.
var TokenTTL = 90 * 24 * time.Hour

// CreateToken issues an API token for a member and returns it with its
// expiry; only its hash is stored.
func (d *DB) CreateToken(ctx context.Context, memberID int64, name string) (string, time.Time, error) {
	token := "fgt_" + NewToken()
	expires := d.Now().Add(TokenTTL).UTC().Truncate(time.Second)
	_, err := d.w.ExecContext(ctx, `INSERT INTO api_tokens (member_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		memberID, truncate(name, 60), hashToken(token), d.stamp(), expires.Format(time.RFC3339))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create token: %w", err)
	}
	return token, expires, nil
}

// TokenActor loads the actor of an API token, checked like a session on
// every request: a deactivated member gets ENotFound, and so does a member
// without the mobile channel for a mobile app's token (an integration
// token, made on My profile, works whatever the channel).
func (d *DB) TokenActor(ctx context.Context, token string) (*Actor, error) {
	var last, expires sql.NullString
	use := &TokenUse{}
	a := &Actor{}
	var ends string
	var perms sql.NullString
	// One statement reads the token and its member as an actor.
	err := d.readRow(ctx, tokenActorQuery, hashToken(token)).
		Scan(append([]any{&use.ID, &last, &expires, &use.Kind, &use.ReadOnly}, a.scanTargets(&ends, &perms)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token")
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	a.finish(ends, perms)
	if expires.Valid {
		t, err := time.Parse(time.RFC3339, expires.String)
		if err != nil {
			return nil, fmt.Errorf("read token expiry: %w", err)
		}
		if !d.Now().Before(t) {
			return nil, notFound("Token") // expired: the app signs in again
		}
	}
	channel := a.Channel
	if use.Kind == TokenIntegration {
		channel = "both" // the channel is about the app and the console, not integrations
	}
	if MobileRefusal(a.Status, channel, a.Builtin) != "" {
		return nil, notFound("Token")
	}
	a.Token = use
	now := d.Now()
	if t, _ := time.Parse(time.RFC3339Nano, last.String); !last.Valid || now.Sub(t) > time.Minute {
		_, _ = d.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, now.Format(time.RFC3339Nano), hashToken(token))
	}
	return a, nil
}

const tokenActorQuery = `SELECT t.id, t.last_used_at, t.expires_at, t.kind, t.read_only, ` + actorColumns + `
	  FROM api_tokens t CROSS JOIN ` + actorFrom + `
	 WHERE t.token_hash = ? AND m.id = t.member_id`

// RevokeToken deletes one token.
func (d *DB) RevokeToken(ctx context.Context, token string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE token_hash = ?`, hashToken(token))
	return err
}
