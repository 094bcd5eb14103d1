package db

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"
)

// Throttle rules for failed logins. After Limit failures within Window a
// key is locked for Lock, doubling with each further failure up to MaxLock.
type Throttle struct {
	Limit   int
	Window  time.Duration
	Lock    time.Duration
	MaxLock time.Duration
}

// Login throttles: per e-mail a few tries, per client address more (an
// office shares one address).
var (
	EmailThrottle = Throttle{Limit: 5, Window: 15 * time.Minute, Lock: 30 * time.Second, MaxLock: 15 * time.Minute}
	IPThrottle    = Throttle{Limit: 20, Window: 15 * time.Minute, Lock: 30 * time.Second, MaxLock: 15 * time.Minute}
)

// Locked returns how long key is still locked (0 when it is not).
func (d *DB) Locked(ctx context.Context, key string) (time.Duration, error) {
	var until sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT locked_until FROM login_failures WHERE key = ?`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || !until.Valid {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	t, _ := time.Parse(time.RFC3339Nano, until.String)
	if left := t.Sub(d.Now()); left > 0 {
		return left, nil
	}
	return 0, nil
}

// Fail records a failed login for key under rule t.
func (d *DB) Fail(ctx context.Context, key string, t Throttle) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		now := d.Now()
		var failures int
		var first string
		err := tx.QueryRowContext(ctx, `SELECT failures, first_at FROM login_failures WHERE key = ?`, key).Scan(&failures, &first)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		firstAt, _ := time.Parse(time.RFC3339Nano, first)
		if errors.Is(err, sql.ErrNoRows) || now.Sub(firstAt) > t.Window {
			failures, firstAt = 0, now
		}
		failures++
		var locked any
		if failures >= t.Limit {
			lock := time.Duration(float64(t.Lock) * math.Pow(2, float64(failures-t.Limit)))
			if lock > t.MaxLock || lock <= 0 {
				lock = t.MaxLock
			}
			locked = now.Add(lock).Format(time.RFC3339Nano)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at, locked_until = excluded.locked_until`,
			key, failures, firstAt.Format(time.RFC3339Nano), locked)
		return err
	})
}

// ClearFailures forgets the failures of key after a successful login.
func (d *DB) ClearFailures(ctx context.Context, key string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}
