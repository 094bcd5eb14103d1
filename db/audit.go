package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event is one audit entry: who did what to whom, with before and after.
type Event struct {
	Kind    string // e.g. "role.update", "member.deactivate"
	Target  string // what was acted on, as a person reads it
	Summary string
	Before  any // marshalled to JSON; nil for none
	After   any

	// What the event is about, when it is a vehicle, a group or a client
	// (0: none). The log shows it only to members who see that thing
	// (see AuditLog): a vehicle's new plate is not news for a member who
	// may not see the vehicle.
	Vehicle, Group, Client int64
}

// about names the vehicle or group a grant event is about.
func (e *Event) about(kind string, id int64) {
	switch kind {
	case "vehicle":
		e.Vehicle = id
	case "group":
		e.Group = id
	}
}

// audit writes an event in the same transaction as the change it records.
func (d *DB) audit(ctx context.Context, q queryer, a *Actor, e Event) error {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	var actorID any
	name := "system"
	if a != nil {
		actorID = a.MemberID
		name = a.Name()
	}
	account := int64(0)
	if a != nil {
		account = a.AccountID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_events (account_id, actor_member_id, actor_name, kind, target, summary, before, after, created_at,
		vehicle_id, group_id, client_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, account, actorID, name, e.Kind, e.Target, e.Summary, enc(e.Before), enc(e.After), d.stamp(),
		nullID(e.Vehicle), nullID(e.Group), nullID(e.Client))
	if err != nil {
		return fmt.Errorf("write audit event %s: %w", e.Kind, err)
	}
	return nil
}

// AuditEntry is an audit event as the log page shows it.
type AuditEntry struct {
	ID        int64
	ActorID   int64
	ActorName string
	Kind      string
	Target    string
	Summary   string
	Before    string
	After     string
	At        time.Time
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID int64
	Kind    string // a prefix such as "role." or a whole kind
	From    string // first day "2006-01-02" in the account's time zone, "" for no start
	To      string // last day, included, "" for no end
	Page    int
	PerPage int
	// After and Before are cursors (AuditPage): event ids; Count asks for the total.
	After, Before string
	Count         bool
}

// auditWhere is the audit log's rule and filter: the WITH clause (if
// any), all arguments in order, and the condition over audit_events.
func (d *DB) auditWhere(a *Actor, f AuditFilter) (with string, args []any, where string) {
	var c conds
	c.add("account_id = ?", a.AccountID)
	if f.ActorID != 0 {
		c.add("actor_member_id = ?", f.ActorID)
	}
	if f.Kind != "" {
		c.add(`kind LIKE ? ESCAPE '\'`, escapeLike(f.Kind)+"%")
	}
	// Events about a vehicle, group or client follow the actor's vehicle
	// scope: shown when the actor sees the vehicle (for a pairing, the
	// vehicle), the group, or the client, as the lists would show them.
	var withArgs []any
	if a.VehicleAccess != "all" {
		sc := d.scopeOf(a)
		ccond, cargs := clientCond(a)
		with, withArgs = sc.with(), sc.argsWith()
		c.add(`(
			(vehicle_id IS NULL AND group_id IS NULL AND client_id IS NULL AND restricted = 0)
			OR vehicle_id IN (SELECT vehicle_id FROM visible)
			OR (vehicle_id IS NULL AND group_id IS NOT NULL AND (group_id IN (SELECT group_id FROM scope_covered)
			    OR group_id IN (SELECT v.group_id FROM visible s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.group_id IS NOT NULL)))
			OR (vehicle_id IS NULL AND group_id IS NULL AND client_id IN (SELECT c.id FROM clients c WHERE `+ccond+`)))`, cargs...)
	}
	// "Own trips only" holds in the log too: of the events about trips,
	// such a member reads those of their own doing.
	if OwnTripsOnly(a) {
		c.add("(kind NOT LIKE 'trip.%' OR actor_member_id = ?)", a.MemberID)
	}
	// Days are the account's days: a day's first second in its time zone,
	// as a UTC stamp without fraction or zone, which sorts at or below
	// every stamp of that second.
	day := func(s string, add int) (string, bool) {
		t, err := time.ParseInLocation(time.DateOnly, s, a.Location())
		if err != nil {
			return "", false
		}
		return t.AddDate(0, 0, add).UTC().Format("2006-01-02T15:04:05"), true
	}
	if from, ok := day(f.From, 0); ok {
		c.add("created_at >= ?", from)
	}
	if end, ok := day(f.To, 1); ok { // the last day is included
		c.add("created_at < ?", end)
	}
	return with, append(withArgs, c.args...), c.sql()
}

// AuditLog returns a page of the account's audit events, newest first.
func (d *DB) AuditLog(ctx context.Context, a *Actor, f AuditFilter) ([]AuditEntry, int, error) {
	with, args, where := d.auditWhere(a, f)
	var out []AuditEntry
	total, err := readPage(ctx, d.r, with+`SELECT id, COALESCE(actor_member_id, 0), actor_name, kind, target, summary, before, after, created_at, COUNT(*) OVER ()
		FROM audit_events WHERE `+where+` ORDER BY id DESC LIMIT ? OFFSET ?`, args, pageOf(f.Page, f.PerPage, 50),
		func(rows *sql.Rows, total *int) error {
			var e AuditEntry
			if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Kind, &e.Target, &e.Summary, &e.Before, &e.After, timeCol{&e.At}, total); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	return out, total, nil
}

// AuditPage returns a page of the account's audit events, newest first,
// read through the index audit_events(account_id, id) from the cursor
// f.After (older events) or f.Before (newer ones), or the page number
// f.Page of an old link. A cursor is an event id. The total only with
// f.Count or when one page holds all.
func (d *DB) AuditPage(ctx context.Context, a *Actor, f AuditFilter) ([]AuditEntry, Keyset, error) {
	per := f.PerPage
	if per <= 0 {
		per = 50
	}
	with, args, where := d.auditWhere(a, f)
	k := keysetSpec{per: per}
	bound, order, backwards := "1 = 1", "id DESC", false
	if id, err := strconv.ParseInt(f.Before, 10, 64); err == nil && id > 0 {
		bound, order, backwards = "id > ?", "id", true
		args = append(args, id)
		k.before = f.Before
	} else if id, err := strconv.ParseInt(f.After, 10, 64); err == nil && id > 0 {
		bound = "id < ?"
		args = append(args, id)
		k.after = f.After
	} else if f.Page > 1 {
		k.offset = (f.Page - 1) * per
	}
	rows, err := d.readQuery(ctx, with+`SELECT id, COALESCE(actor_member_id, 0), actor_name, kind, target, summary, before, after, created_at
		FROM audit_events WHERE `+where+` AND `+bound+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, per+1, k.offset)...)
	if err != nil {
		return nil, Keyset{}, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Kind, &e.Target, &e.Summary, &e.Before, &e.After, timeCol{&e.At}); err != nil {
			return nil, Keyset{}, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, Keyset{}, fmt.Errorf("audit log: %w", err)
	}
	out, ks := finish(out, k, backwards, func(e AuditEntry) string { return strconv.FormatInt(e.ID, 10) })
	if f.Count && ks.Total < 0 {
		with, args, where := d.auditWhere(a, f)
		if err := d.readRow(ctx, with+`SELECT COUNT(*) FROM audit_events WHERE `+where, args...).Scan(&ks.Total); err != nil {
			return nil, Keyset{}, fmt.Errorf("count audit events: %w", err)
		}
	}
	return out, ks, nil
}
