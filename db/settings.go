package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Account settings: the account's name, the time zone its dates are shown
// in (and in which a grant's last day ends), the distance unit of trips and
// reports, how long invitation links are valid, and how long a console
// session lasts at most and without use. Every save names the version it
// started from; a save from an older version is refused.

// Settings are one account's settings.
type Settings struct {
	AccountName  string
	TimeZone     string        // an IANA name, e.g. "Europe/Lisbon"
	DistanceUnit string        // "km" or "mi"
	InviteTTL    time.Duration // 0: the server's default
	SessionMax   time.Duration // a session ends this long after login at the latest
	SessionIdle  time.Duration // and after this long without a request
	Version      int
}

// Limits of the lifetimes a settings form may choose.
const (
	MinInviteTTL   = time.Hour
	MaxInviteTTL   = 30 * 24 * time.Hour
	MinSessionMax  = 15 * time.Minute
	MaxSessionMax  = MaxAge
	MinSessionIdle = 5 * time.Minute
)

var zones sync.Map // name -> *time.Location

// LoadZone returns the named IANA time zone, UTC for an unknown one. Zones
// are loaded once per name.
func LoadZone(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, l)
	return l
}

// ZoneProblem checks a time zone a person typed: an IANA name such as
// "Europe/Berlin" or "UTC". Local (the server's own zone) is refused.
func ZoneProblem(name string) string {
	if name == "" {
		return "Choose a time zone, e.g. Europe/Berlin or UTC."
	}
	if len(name) > 64 || name == "Local" || strings.ContainsAny(name, " \\") || textProblem(name) != "" {
		return fmt.Sprintf("%q is not a time zone. Use a name such as Europe/Berlin, America/New_York or UTC.", name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Sprintf("%q is not a time zone. Use a name such as Europe/Berlin, America/New_York or UTC.", name)
	}
	return ""
}

func minutes(d time.Duration) int64 { return int64(d / time.Minute) }

// InviteTTLOf is how long invitation links of the account are valid: its
// own setting, else def (the server's default).
func (d *DB) InviteTTLOf(ctx context.Context, a *Actor, def time.Duration) time.Duration {
	var m sql.NullInt64
	_ = d.r.QueryRowContext(ctx, `SELECT invite_ttl_minutes FROM account_settings WHERE account_id = ?`, a.AccountID).Scan(&m)
	if m.Valid && m.Int64 > 0 {
		return time.Duration(m.Int64) * time.Minute
	}
	return def
}

// AccountSettings reads the settings of the actor's account.
func (d *DB) AccountSettings(ctx context.Context, a *Actor) (Settings, error) {
	return accountSettings(ctx, d.r, a.AccountID)
}

func accountSettings(ctx context.Context, q queryer, accountID int64) (Settings, error) {
	var s Settings
	var inv, max, idle int64
	err := q.QueryRowContext(ctx, `SELECT a.name, COALESCE(st.time_zone, 'UTC'), COALESCE(st.distance_unit, 'km'),
			COALESCE(st.invite_ttl_minutes, 0), COALESCE(st.session_max_minutes, 10080), COALESCE(st.session_idle_minutes, 720),
			COALESCE(st.version, 0)
		  FROM accounts a LEFT JOIN account_settings st ON st.account_id = a.id WHERE a.id = ?`, accountID).
		Scan(&s.AccountName, &s.TimeZone, &s.DistanceUnit, &inv, &max, &idle, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("Account")
	}
	s.InviteTTL, s.SessionMax, s.SessionIdle = time.Duration(inv)*time.Minute, time.Duration(max)*time.Minute, time.Duration(idle)*time.Minute
	return s, err
}

// Validate returns a message per field of settings that cannot be saved.
func (s Settings) Validate() map[string]string {
	errs := map[string]string{}
	name := strings.TrimSpace(s.AccountName)
	switch {
	case name == "":
		errs["name"] = "Enter the account's name."
	case len([]rune(name)) > 100:
		errs["name"] = "Use at most 100 characters."
	case textProblem(name) != "":
		errs["name"] = textProblem(name)
	}
	if m := ZoneProblem(s.TimeZone); m != "" {
		errs["time_zone"] = m
	}
	if s.DistanceUnit != "km" && s.DistanceUnit != "mi" {
		errs["distance_unit"] = "Choose kilometres or miles."
	}
	if s.InviteTTL < MinInviteTTL || s.InviteTTL > MaxInviteTTL {
		errs["invite_ttl"] = "Choose between 1 hour and 30 days."
	}
	if s.SessionMax < MinSessionMax || s.SessionMax > MaxSessionMax {
		errs["session_max"] = "Choose between 15 minutes and 7 days."
	}
	switch {
	case s.SessionIdle < MinSessionIdle:
		errs["session_idle"] = "Choose at least 5 minutes."
	case s.SessionIdle > s.SessionMax && s.SessionMax >= MinSessionMax:
		errs["session_idle"] = "The idle timeout cannot be longer than the session lifetime."
	}
	return errs
}

func (s Settings) audited() map[string]any {
	return map[string]any{"name": s.AccountName, "time_zone": s.TimeZone, "distance_unit": s.DistanceUnit,
		"invite_ttl": s.InviteTTL.String(), "session_lifetime": s.SessionMax.String(), "idle_timeout": s.SessionIdle.String()}
}

// SaveSettings stores the settings of the actor's account if nobody saved
// them since version in.Version, and audits the change with before and
// after. A stale save is an EConflict; the current settings come back with it.
func (d *DB) SaveSettings(ctx context.Context, a *Actor, in Settings) (Settings, error) {
	in.AccountName = strings.TrimSpace(in.AccountName)
	if errs := in.Validate(); len(errs) > 0 {
		for _, f := range []string{"name", "time_zone", "distance_unit", "invite_ttl", "session_max", "session_idle"} {
			if m, ok := errs[f]; ok {
				return Settings{}, FieldError(f, "%s", m)
			}
		}
	}
	var cur Settings
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		if cur, err = accountSettings(ctx, tx, a.AccountID); err != nil {
			return err
		}
		if cur.Version != in.Version {
			return Errorf(EConflict, "Someone saved these settings after you opened them. The form now shows the current settings; your changes are kept below each field where they differ.")
		}
		after := in
		after.Version = cur.Version + 1
		if fmt.Sprint(cur.audited()) == fmt.Sprint(after.audited()) {
			return nil // nothing changed, nothing to record
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET name = ? WHERE id = ?`, in.AccountName, a.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id, time_zone, distance_unit, invite_ttl_minutes,
				session_max_minutes, session_idle_minutes, version) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET time_zone = excluded.time_zone, distance_unit = excluded.distance_unit,
				invite_ttl_minutes = excluded.invite_ttl_minutes, session_max_minutes = excluded.session_max_minutes,
				session_idle_minutes = excluded.session_idle_minutes, version = excluded.version`,
			a.AccountID, in.TimeZone, in.DistanceUnit, minutes(in.InviteTTL), minutes(in.SessionMax), minutes(in.SessionIdle), after.Version); err != nil {
			return err
		}
		before, changed := map[string]any{}, map[string]any{}
		b, n := cur.audited(), after.audited()
		for k, v := range n {
			if b[k] != v {
				before[k], changed[k] = b[k], v
			}
		}
		cur = after
		return d.audit(ctx, tx, a, Event{Kind: "account.settings", Target: in.AccountName, Summary: "Changed the account settings",
			Before: before, After: changed})
	})
	if ErrorCode(err) == EConflict {
		latest, rerr := d.AccountSettings(ctx, a)
		if rerr != nil {
			return Settings{}, rerr
		}
		return latest, err
	}
	return cur, err
}
