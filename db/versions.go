package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Versions: every editable record (member, vehicle, client, group; roles
// keep their own history in role_versions) carries a version. An edit
// names the version it started from; the UPDATE matches on it and bumps
// it in the same statement, so a save made from an older version changes
// nothing and is refused with a StaleError instead of silently
// overwriting what someone else saved meanwhile. Changes not made from a
// form (status, access mode, ownership, bulk actions) bump the version
// too, so a form opened before them is refused as well.

// VersionField is the Field of the error a stale save gets: forms show
// the current values beside the typed ones instead of a field message.
const VersionField = "version"

// versioned names the tables that carry a version, and how a message
// calls their records.
var versioned = map[string]string{
	"members":        "member",
	"vehicles":       "vehicle",
	"clients":        "client",
	"vehicle_groups": "group",
}

// IsStale reports whether err refuses a save made from an old version.
func IsStale(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == EConflict && e.Field == VersionField
}

// setVersioned is the SET part every versioned UPDATE adds: the bump and
// who made it, when. Its arguments follow with versionArgs.
const setVersioned = `version = version + 1, changed_by = ?, changed_at = ?`

func (d *DB) versionArgs(a *Actor) []any {
	name := "system"
	if a != nil {
		name = a.Name()
	}
	return []any{name, d.stamp()}
}

// touch bumps a record's version for a change not made from its form.
func (d *DB) touch(ctx context.Context, q queryer, a *Actor, table string, id int64) error {
	if _, ok := versioned[table]; !ok {
		panic("touch: table without version: " + table)
	}
	_, err := q.ExecContext(ctx, `UPDATE `+table+` SET `+setVersioned+` WHERE id = ? AND account_id = ?`,
		append(d.versionArgs(a), id, a.AccountID)...)
	return err
}

// stale is the refusal of a save of table's record id made from an old
// version: it names who saved the current version, and when.
func (d *DB) stale(ctx context.Context, q queryer, a *Actor, table string, id int64) error {
	what, ok := versioned[table]
	if !ok {
		panic("stale: table without version: " + table)
	}
	var by string
	var at sql.NullString
	err := q.QueryRowContext(ctx, `SELECT changed_by, changed_at FROM `+table+` WHERE id = ? AND account_id = ?`, id, a.AccountID).Scan(&by, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	who := by
	if who == "" {
		who = "Someone"
	}
	when := ""
	if t, err := time.Parse(time.RFC3339Nano, at.String); at.Valid && err == nil {
		t = t.UTC()
		if t.Format(time.DateOnly) == d.Now().UTC().Format(time.DateOnly) {
			when = " at " + t.Format("15:04") + " UTC"
		} else {
			when = " on " + t.Format("2006-01-02 at 15:04") + " UTC"
		}
	}
	return &Error{Code: EConflict, Field: VersionField,
		Message: who + " changed this " + what + when + " since you opened the page; their current values are shown beside yours. " +
			"Nothing was saved: check what you typed, then save again."}
}

// checkVersion refuses a save from a version other than current.
func (d *DB) checkVersion(ctx context.Context, q queryer, a *Actor, table string, id int64, current, from int) error {
	if current != from {
		return d.stale(ctx, q, a, table, id)
	}
	return nil
}

// updated checks that a versioned UPDATE matched its row; when it did not,
// the version moved on meanwhile.
func (d *DB) updated(ctx context.Context, q queryer, a *Actor, res sql.Result, table string, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return d.stale(ctx, q, a, table, id)
	}
	return nil
}
