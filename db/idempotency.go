package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Idempotency keys of API creates. A client that sends the same create
// twice under one Idempotency-Key (a retry after a lost answer) gets the
// first answer again, and nothing is created twice. The key is the
// member's: any of their tokens may retry.
//
// The first request reserves its key before the create runs and stores
// the answer once the create succeeded; a refused create releases the key,
// so that the corrected request may use it. A reservation whose answer
// never came (the server stopped in between) is taken over after
// IdempotencyStale.

// IdempotencyKeep is how long a key and its answer are kept (Prune).
const IdempotencyKeep = 24 * time.Hour

// IdempotencyStale is how long a reservation without an answer holds its key.
const IdempotencyStale = time.Minute

// IdempotentAnswer is the stored answer of the first request under a key.
type IdempotentAnswer struct {
	Status      int // 0: the first request is still being answered
	ContentType string
	Location    string
	Body        []byte
}

// ReserveIdempotency claims key for the member's request (a hash of what
// was asked). A first use answers (nil, nil): go on and create. A key used
// before answers its stored answer; a key used for another request is
// EInvalid; a key whose first request is still running is EConflict.
func (d *DB) ReserveIdempotency(ctx context.Context, memberID int64, key, request string) (*IdempotentAnswer, error) {
	var out *IdempotentAnswer
	err := d.update(ctx, func(tx *sql.Tx) error {
		var seen, created string
		var ans IdempotentAnswer
		err := tx.QueryRowContext(ctx, `SELECT request, status, content_type, location, body, created_at FROM api_idempotency
			WHERE member_id = ? AND key = ?`, memberID, key).Scan(&seen, &ans.Status, &ans.ContentType, &ans.Location, &ans.Body, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err := tx.ExecContext(ctx, `INSERT INTO api_idempotency (member_id, key, request, created_at) VALUES (?, ?, ?, ?)`,
				memberID, key, request, d.stamp())
			return err
		case err != nil:
			return err
		case seen != request:
			return &Error{Code: EInvalid, Field: "Idempotency-Key",
				Message: "This Idempotency-Key was used for a different request; use a new key for a new request."}
		case ans.Status != 0:
			out = &ans
			return nil
		}
		if t, err := time.Parse(time.RFC3339Nano, created); err == nil && d.Now().Sub(t) < IdempotencyStale {
			return &Error{Code: EConflict, Field: "Idempotency-Key",
				Message: "The first request under this Idempotency-Key is still being answered; retry in a moment."}
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_idempotency SET created_at = ? WHERE member_id = ? AND key = ?`, d.stamp(), memberID, key)
		return err
	})
	return out, err
}

// StoreIdempotency keeps the answer of the request that reserved key.
func (d *DB) StoreIdempotency(ctx context.Context, memberID int64, key string, ans IdempotentAnswer) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_idempotency SET status = ?, content_type = ?, location = ?, body = ? WHERE member_id = ? AND key = ?`,
			ans.Status, ans.ContentType, ans.Location, ans.Body, memberID, key)
		return err
	})
}

// ReleaseIdempotency frees a key whose request was refused or failed.
func (d *DB) ReleaseIdempotency(ctx context.Context, memberID int64, key string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM api_idempotency WHERE member_id = ? AND key = ? AND status = 0`, memberID, key)
		return err
	})
}
