package db

import (
	"context"
	"database/sql"
	"sort"
	"sync"
	"time"

	"fleetgate/db/perm"
)

// Permission use: the access review asks which permissions each member
// has not used lately. A use is a request that passed the route table's
// check for a permission. Remembering one must cost the request next to
// nothing, so RecordUse only notes it in memory; FlushUses writes the
// notes in one transaction (at most one row per member, permission and
// day: ON CONFLICT DO NOTHING on the primary key). The server flushes every
// UseFlushInterval and when the database closes.

// UseFlushInterval is how often the server writes the permission uses
// noted in memory.
const UseFlushInterval = time.Minute

type useKey struct {
	member int64
	perm   perm.Key
	day    int64 // days since 1970-01-01, UTC
}

func (k useKey) date() string { return time.Unix(k.day*86400, 0).UTC().Format(time.DateOnly) }

// useRecorder holds the uses noted since the last flush. seen remembers
// the day's uses already noted (written or pending), so that a member's
// thousandth request of the day with a permission costs one map lookup.
type useRecorder struct {
	mu      sync.Mutex
	day     int64
	seen    map[useKey]struct{}
	pending []useKey
}

// RecordUse notes that the member used the permission now. It never
// touches the database.
func (d *DB) RecordUse(memberID int64, k perm.Key) {
	d.recordUseOn(memberID, k, d.Now())
}

func (d *DB) recordUseOn(memberID int64, k perm.Key, at time.Time) {
	day := at.Unix() / 86400
	if at.Unix() < 0 {
		day = 0
	}
	u := &d.uses
	key := useKey{memberID, k, day}
	u.mu.Lock()
	if u.day != day {
		// A new day: yesterday's notes are either written or pending.
		u.day, u.seen = day, make(map[useKey]struct{}, len(u.seen))
	}
	if _, ok := u.seen[key]; !ok {
		u.seen[key] = struct{}{}
		u.pending = append(u.pending, key)
	}
	u.mu.Unlock()
}

// PendingUses is how many noted uses wait for the next flush.
func (d *DB) PendingUses() int {
	d.uses.mu.Lock()
	defer d.uses.mu.Unlock()
	return len(d.uses.pending)
}

// FlushUses writes the uses noted since the last flush, in one write
// transaction. Uses of members deleted meanwhile are dropped. When the
// write fails, the notes are kept for the next flush.
func (d *DB) FlushUses(ctx context.Context) error {
	u := &d.uses
	u.mu.Lock()
	batch := u.pending
	u.pending = nil
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	sort.Slice(batch, func(i, j int) bool { // primary-key order: the inserts walk the index
		a, b := batch[i], batch[j]
		if a.member != b.member {
			return a.member < b.member
		}
		if a.perm != b.perm {
			return a.perm < b.perm
		}
		return a.day < b.day
	})
	err := d.updateTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO permission_uses (member_id, permission, day)
			SELECT :member, :perm, :day WHERE EXISTS (SELECT 1 FROM members WHERE id = :member)
			ON CONFLICT (member_id, permission, day) DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, k := range batch {
			if _, err := st.ExecContext(ctx, sql.Named("member", k.member), sql.Named("perm", string(k.perm)), sql.Named("day", k.date())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		u.mu.Lock()
		u.pending = append(batch, u.pending...)
		u.mu.Unlock()
	}
	return err
}

// RecordUseAt stores one permission use of a member on a day at once (for
// tests and generators that need a history).
func (d *DB) RecordUseAt(ctx context.Context, memberID int64, k perm.Key, day time.Time) error {
	return d.updateTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO permission_uses (member_id, permission, day) VALUES (?, ?, ?)
			ON CONFLICT (member_id, permission, day) DO NOTHING`,
			memberID, string(k), day.UTC().Format(time.DateOnly))
		return err
	})
}
