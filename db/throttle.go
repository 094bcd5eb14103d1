package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Throttle rules for password attempts. After Limit attempts within Window
// a key is locked for Lock, doubling with each further attempt up to MaxLock.
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

// ThrottleKey is one counter a password attempt is charged to.
type ThrottleKey struct {
	Key  string // "email:ana@acme.test", "ip:192.0.2.7"
	Rule Throttle
}

// AttemptResult is what Attempt found and did.
type AttemptResult struct {
	Wait      time.Duration // > 0: LockedKey is locked for that long, nothing was charged
	LockedKey string
	Locks     []Lock // keys this attempt locked (it reached their limit)
}

// Lock is a key locked for a while.
type Lock struct {
	Key string
	For time.Duration
}

// Attempt charges one password attempt to every key before the password
// is checked. The check of the locks and the count are one write
// transaction, so a burst of parallel attempts cannot all read "not
// locked" before any of them is counted: at most Limit attempts per key
// reach the (slow) password check in a window. It answers how long the
// first locked key is still locked (Wait 0 means go ahead), and which keys
// this attempt locked. A locked key charges nothing.
func (d *DB) Attempt(ctx context.Context, keys ...ThrottleKey) (AttemptResult, error) {
	var res AttemptResult
	err := d.update(ctx, func(tx *sql.Tx) error {
		res = AttemptResult{}
		now := d.Now()
		type row struct {
			failures int
			firstAt  time.Time
		}
		rows := make([]row, len(keys))
		for i, k := range keys {
			var failures int
			var first string
			var until sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT failures, first_at, locked_until FROM login_failures WHERE key = ?`, k.Key).
				Scan(&failures, &first, &until)
			if errors.Is(err, sql.ErrNoRows) {
				rows[i] = row{0, now}
				continue
			}
			if err != nil {
				return fmt.Errorf("read throttle %s: %w", k.Key, err)
			}
			if until.Valid {
				t, err := time.Parse(time.RFC3339Nano, until.String)
				if err != nil {
					return fmt.Errorf("read throttle %s: %w", k.Key, err)
				}
				if left := t.Sub(now); left > 0 {
					res.Wait, res.LockedKey = left, k.Key
					return nil
				}
			}
			firstAt, err := time.Parse(time.RFC3339Nano, first)
			if err != nil {
				return fmt.Errorf("read throttle %s: %w", k.Key, err)
			}
			if now.Sub(firstAt) > k.Rule.Window {
				failures, firstAt = 0, now
			}
			rows[i] = row{failures, firstAt}
		}
		for i, k := range keys {
			failures := rows[i].failures + 1
			var locked any
			if failures >= k.Rule.Limit {
				lock := time.Duration(float64(k.Rule.Lock) * math.Pow(2, float64(failures-k.Rule.Limit)))
				if lock > k.Rule.MaxLock || lock <= 0 {
					lock = k.Rule.MaxLock
				}
				locked = now.Add(lock).Format(time.RFC3339Nano)
				res.Locks = append(res.Locks, Lock{Key: k.Key, For: lock})
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES (?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at, locked_until = excluded.locked_until`,
				k.Key, failures, rows[i].firstAt.Format(time.RFC3339Nano), locked); err != nil {
				return fmt.Errorf("count attempt %s: %w", k.Key, err)
			}
		}
		return nil
	})
	return res, err
}

// Succeeded takes back an attempt whose password was right: the e-mail's
// counter is cleared (its owner is back), the address's counter loses just
// this attempt (an office's colleagues may still be guessing), and a lock
// that this attempt set is lifted.
func (d *DB) Succeeded(ctx context.Context, email ThrottleKey, others ...ThrottleKey) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, email.Key); err != nil {
			return fmt.Errorf("clear throttle: %w", err)
		}
		for _, k := range others {
			if _, err := tx.ExecContext(ctx, `UPDATE login_failures SET failures = CASE WHEN failures > 1 THEN failures - 1 ELSE 0 END,
				locked_until = CASE WHEN failures - 1 < ? THEN NULL ELSE locked_until END WHERE key = ?`,
				k.Rule.Limit, k.Key); err != nil {
				return fmt.Errorf("take back attempt: %w", err)
			}
		}
		return nil
	})
}
