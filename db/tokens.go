package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"fleetgate/db/perm"
)

// MobileRefusal is Refusal for the mobile channel (the JSON API).
func MobileRefusal(status, channel string, builtin perm.Builtin) string {
	return Refusal(status, channel, builtin, "mobile")
}

// CreateToken issues an API token for a member and returns it; only its
// hash is stored.
func (d *DB) CreateToken(ctx context.Context, memberID int64, name string) (string, error) {
	token := "fgt_" + NewToken()
	_, err := d.w.ExecContext(ctx, `INSERT INTO api_tokens (member_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)`,
		memberID, truncate(name, 60), hashToken(token), d.stamp())
	return token, err
}

// TokenActor loads the actor of an API token, checked like a session on
// every request: a deactivated member or a member without the mobile
// channel gets ENotFound.
func (d *DB) TokenActor(ctx context.Context, token string) (*Actor, error) {
	var memberID int64
	var last sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT member_id, last_used_at FROM api_tokens WHERE token_hash = ?`, hashToken(token)).Scan(&memberID, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Token")
	}
	if err != nil {
		return nil, err
	}
	a, err := d.loadActor(ctx, memberID)
	if err != nil {
		return nil, err
	}
	if MobileRefusal(a.Status, a.Channel, a.Builtin) != "" {
		return nil, notFound("Token")
	}
	now := d.Now()
	if t, _ := time.Parse(time.RFC3339Nano, last.String); !last.Valid || now.Sub(t) > time.Minute {
		_, _ = d.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, now.Format(time.RFC3339Nano), hashToken(token))
	}
	return a, nil
}

// RevokeToken deletes one token.
func (d *DB) RevokeToken(ctx context.Context, token string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM api_tokens WHERE token_hash = ?`, hashToken(token))
	return err
}
