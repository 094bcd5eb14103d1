package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The messages each change writes, in its own transaction (see notify.go
// for who receives what).

func memberPath(id int64) string { return fmt.Sprintf("/users/%d", id) }

// actorName is who made a change, as a message names them.
func actorName(a *Actor) string {
	if a == nil || a.MemberID == 0 {
		return "Fleetgate"
	}
	return a.Name()
}

func actorID(a *Actor) int64 {
	if a == nil {
		return 0
	}
	return a.MemberID
}

// gainedLost reads an impact as two lines, by permission label.
func gainedLost(im Impact) string {
	var b strings.Builder
	if len(im.Gain) > 0 {
		b.WriteString("You can now: " + PermLabels(im.Gain) + ".\n")
	}
	if len(im.Lose) > 0 {
		b.WriteString("You can no longer: " + PermLabels(im.Lose) + ".\n")
	}
	if len(im.Rescoped) > 0 {
		b.WriteString("With new limits: " + PermLabels(im.Rescoped) + ".\n")
	}
	if b.Len() == 0 {
		b.WriteString("What you may do stays the same.\n")
	}
	return b.String()
}

// mailRoleChanged tells a member their role changed, with what they
// gained and lost.
func (d *DB) mailRoleChanged(ctx context.Context, tx *sql.Tx, a *Actor, memberID, oldRole, newRole int64) error {
	oldSet, _, err := roleSet(ctx, tx, a.AccountID, oldRole)
	if err != nil {
		return err
	}
	newSet, _, err := roleSet(ctx, tx, a.AccountID, newRole)
	if err != nil {
		return err
	}
	var oldName, newName string
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT name FROM roles WHERE id = ?), (SELECT name FROM roles WHERE id = ?)`, oldRole, newRole).
		Scan(&oldName, &newName); err != nil {
		return err
	}
	im := ImpactOf(1, oldSet, newSet)
	return d.notifyMember(ctx, tx, memberID, note{AccountID: a.AccountID, Kind: KindRoleChanged,
		Subject: fmt.Sprintf("Your role in %s is now %s", a.AccountName, newName),
		Body:    fmt.Sprintf("%s changed your role in %s from %s to %s.\n\n%s", actorName(a), a.AccountName, oldName, newName, gainedLost(im)),
		Path:    "/profile"})
}

// mailRoleSaved tells subscribers a role was saved and whom it affects,
// and the members holding it what they gained and lost.
func (d *DB) mailRoleSaved(ctx context.Context, tx *sql.Tx, a *Actor, r Role, im Impact) error {
	if err := d.notifySubscribers(ctx, tx, a.MemberID, note{AccountID: a.AccountID, Kind: KindRoleSaved,
		Subject: fmt.Sprintf("Role %s was changed in %s", r.Name, a.AccountName),
		Body:    fmt.Sprintf("%s saved the role %s.\n\nImpact: %s.\n", actorName(a), r.Name, im.Summary()),
		Path:    fmt.Sprintf("/roles/%d", r.ID)}); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.id FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.role_id = ? AND m.account_id = ? AND m.status = 'active' AND m.id <> a.owner_member_id AND m.id <> ? ORDER BY m.id`,
		r.ID, a.AccountID, a.MemberID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.notifyMember(ctx, tx, id, note{AccountID: a.AccountID, Kind: KindRoleChanged,
			Subject: fmt.Sprintf("Your role %s in %s was changed", r.Name, a.AccountName),
			Body:    fmt.Sprintf("%s changed the permissions of your role %s in %s.\n\n%s", actorName(a), r.Name, a.AccountName, gainedLost(im)),
			Path:    "/profile"}); err != nil {
			return err
		}
	}
	return nil
}

// mailAccessChanged tells a member their vehicle access changed, tells
// the watchers of the vehicle (a vehicle grant), and drops the member's
// watches of vehicles they no longer see.
func (d *DB) mailAccessChanged(ctx context.Context, tx *sql.Tx, a *Actor, memberID int64, what, kind string, targetID int64) error {
	if err := d.pruneWatches(ctx, tx, a.AccountID, memberID); err != nil {
		return err
	}
	if err := d.notifyMember(ctx, tx, memberID, note{AccountID: a.AccountID, Kind: KindAccessChanged,
		Subject: "Your vehicle access in " + a.AccountName + " changed",
		Body:    fmt.Sprintf("%s changed which vehicles you see in %s:\n\n%s\n", actorName(a), a.AccountName, what),
		Path:    "/vehicles"}); err != nil {
		return err
	}
	// The watchers of the vehicles concerned hear of it: the vehicle, or
	// the watched vehicles of the group and its sub-groups.
	var vehicles []int64
	switch kind {
	case "vehicle":
		vehicles = []int64{targetID}
	case "group":
		rows, err := tx.QueryContext(ctx, `WITH RECURSIVE sub(id) AS (
				SELECT id FROM vehicle_groups WHERE id = ? AND account_id = ?
				UNION
				SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id
			)
			SELECT DISTINCT v.id FROM vehicle_watches w JOIN vehicles v ON v.id = w.vehicle_id
			 WHERE v.group_id IN (SELECT id FROM sub) ORDER BY v.id`, targetID, a.AccountID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			vehicles = append(vehicles, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, vehicleID := range vehicles {
		var name, who string
		var first, last string
		if err := tx.QueryRowContext(ctx, `SELECT v.name, u.email, u.first_name, u.last_name FROM vehicles v, members m JOIN users u ON u.id = m.user_id
			WHERE v.id = ? AND v.account_id = ? AND m.id = ?`, vehicleID, a.AccountID, memberID).Scan(&name, &who, &first, &last); err != nil {
			return err
		}
		who = displayName(first, last, who)
		if err := d.notifyWatchers(ctx, tx, vehicleID, a.MemberID, note{AccountID: a.AccountID, Kind: KindVehicleWatched,
			Subject: fmt.Sprintf("Access to %s changed", name),
			Body:    fmt.Sprintf("%s changed the access of %s to %s:\n\n%s\n", actorName(a), who, name, what),
			Path:    fmt.Sprintf("/vehicles/%d", vehicleID)}, memberID); err != nil {
			return err
		}
	}
	return nil
}

// mailDeactivated tells the member their account was deactivated and the
// subscribers that a member was; their watches end with their access.
func (d *DB) mailDeactivated(ctx context.Context, tx *sql.Tx, a *Actor, m MemberDetail) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM vehicle_watches WHERE member_id = ?`, m.ID); err != nil {
		return err
	}
	if err := d.notifyMember(ctx, tx, m.ID, note{AccountID: a.AccountID, Kind: KindDeactivated,
		Subject: "Your account in " + a.AccountName + " was deactivated",
		Body: fmt.Sprintf("%s deactivated your membership of %s. You can no longer sign in to it, and your sessions and API tokens ended.\n"+
			"If you think this is a mistake, ask %s.\n", actorName(a), a.AccountName, actorName(a))}); err != nil {
		return err
	}
	return d.notifySubscribers(ctx, tx, a.MemberID, note{AccountID: a.AccountID, Kind: KindMemberDeactivated,
		Subject: fmt.Sprintf("%s was deactivated in %s", m.Name(), a.AccountName),
		Body:    fmt.Sprintf("%s deactivated %s (%s, %s).\n", actorName(a), m.Name(), m.Email, m.RoleName),
		Path:    memberPath(m.ID)})
}

// mailDeleted tells the subscribers a member was deleted.
func (d *DB) mailDeleted(ctx context.Context, tx *sql.Tx, a *Actor, m MemberDetail) error {
	return d.notifySubscribers(ctx, tx, a.MemberID, note{AccountID: a.AccountID, Kind: KindMemberDeleted,
		Subject: fmt.Sprintf("%s was deleted from %s", m.Name(), a.AccountName),
		Body:    fmt.Sprintf("%s deleted %s (%s, %s) from the account for good.\n", actorName(a), m.Name(), m.Email, m.RoleName),
		Path:    "/users"})
}

// mailInvited tells the subscribers someone was invited.
func (d *DB) mailInvited(ctx context.Context, tx *sql.Tx, a *Actor, inv Invitation) error {
	return d.notifySubscribers(ctx, tx, a.MemberID, note{AccountID: a.AccountID, Kind: KindMemberInvited,
		Subject: fmt.Sprintf("%s was invited to %s", inv.Email, inv.AccountName),
		Body:    fmt.Sprintf("%s invited %s to join as %s.\n", actorName(a), inv.Email, inv.RoleName),
		Path:    "/users"})
}

// mailJoined tells the subscribers a member joined (by an invitation, or
// added with a password by by).
func (d *DB) mailJoined(ctx context.Context, tx *sql.Tx, by *Actor, accountID, memberID int64) error {
	m, err := member(ctx, tx, accountID, memberID)
	if err != nil {
		return err
	}
	var account string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM accounts WHERE id = ?`, accountID).Scan(&account); err != nil {
		return err
	}
	body := fmt.Sprintf("%s (%s) joined as %s.\n", m.Name(), m.Email, m.RoleName)
	if by != nil && by.MemberID != memberID {
		body = fmt.Sprintf("%s added %s (%s) as %s.\n", actorName(by), m.Name(), m.Email, m.RoleName)
	}
	except := memberID
	if by != nil && by.MemberID != 0 {
		except = by.MemberID
	}
	return d.notifySubscribers(ctx, tx, except, note{AccountID: accountID, Kind: KindMemberJoined,
		Subject: fmt.Sprintf("%s joined %s", m.Name(), account), Body: body, Path: memberPath(memberID)})
}

// mailNewSignIn tells a member about a sign-in from a device (user agent)
// their login never signed in from before, when it has signed in before.
func (d *DB) mailNewSignIn(ctx context.Context, tx *sql.Tx, a *Actor, s SignInAttempt, id int64) error {
	var before, same int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE user_agent = ?) FROM sign_ins
		WHERE user_id = ? AND outcome = 'ok' AND id <> ?`, truncate(s.UserAgent, 200), s.UserID, id).Scan(&before, &same); err != nil {
		return err
	}
	if before == 0 || same > 0 {
		return nil
	}
	device := s.UserAgent
	if device == "" {
		device = "an unnamed device"
	}
	return d.notifyMember(ctx, tx, a.MemberID, note{AccountID: a.AccountID, Kind: KindNewSignIn,
		Subject: "New sign-in to " + a.AccountName,
		Body: fmt.Sprintf("Your login %s signed in to %s at %s from a device it never used before:\n\n  %s\n  address %s\n\n"+
			"If this was not you, change your password and end your other sessions under My profile.\n",
			a.Email, a.AccountName, d.Now().UTC().Format("2 January 2006, 15:04 UTC"), device, s.IP),
		Path: "/profile"})
}

// mailVehicle tells a vehicle's watchers about a change of it.
func (d *DB) mailVehicle(ctx context.Context, tx *sql.Tx, a *Actor, vehicleID int64, subject, body string) error {
	return d.notifyWatchers(ctx, tx, vehicleID, a.MemberID, note{AccountID: a.AccountID, Kind: KindVehicleWatched,
		Subject: subject, Body: fmt.Sprintf("%s: %s\n", actorName(a), body), Path: fmt.Sprintf("/vehicles/%d", vehicleID)})
}

// mailPaidVehiclesFull tells the subscribers of every account of a
// subscription that its paid vehicles are all in use (or more).
func (d *DB) mailPaidVehicles(ctx context.Context, tx *sql.Tx, a *Actor) error {
	var paid, inUse int
	var subscriptionID int64
	if err := tx.QueryRowContext(ctx, `SELECT s.id, s.paid_vehicles, (SELECT COUNT(*) FROM vehicles v JOIN accounts x ON x.id = v.account_id
		WHERE x.subscription_id = s.id AND v.status = 'active') FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`,
		a.AccountID).Scan(&subscriptionID, &paid, &inUse); err != nil {
		return err
	}
	if inUse < paid {
		return nil
	}
	return d.eachAccountOf(ctx, tx, subscriptionID, func(accountID int64, name string) error {
		return d.notifySubscribers(ctx, tx, actorID(a), note{AccountID: accountID, Kind: KindSubscription,
			Subject: "All paid vehicles of " + name + " are in use",
			Body: fmt.Sprintf("The subscription of %s pays for %d vehicles and %d are in use. A new vehicle is refused until more are paid for.\n",
				name, paid, inUse),
			Path: "/subscription"})
	})
}

// eachAccountOf calls fn for each account a subscription covers.
func (d *DB) eachAccountOf(ctx context.Context, tx *sql.Tx, subscriptionID int64, fn func(id int64, name string) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM accounts WHERE subscription_id = ? ORDER BY id`, subscriptionID)
	if err != nil {
		return err
	}
	type acc struct {
		id   int64
		name string
	}
	var as []acc
	for rows.Next() {
		var x acc
		if err := rows.Scan(&x.id, &x.name); err != nil {
			rows.Close()
			return err
		}
		as = append(as, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range as {
		if err := fn(x.id, x.name); err != nil {
			return err
		}
	}
	return nil
}

// vehicleChanges lists what an edit of a vehicle changed.
func vehicleChanges(before, after VehicleInput) string {
	var b strings.Builder
	line := func(what, from, to string) {
		if from != to {
			fmt.Fprintf(&b, "%s: %s → %s\n", what, orNone(from), orNone(to))
		}
	}
	line("Name", before.Name, after.Name)
	line("Plate", before.Plate, after.Plate)
	line("VIN", before.VIN, after.VIN)
	line("Odometer (km)", fmt.Sprint(before.OdometerKm), fmt.Sprint(after.OdometerKm))
	if before.GroupID != after.GroupID {
		b.WriteString("Moved to another group.\n")
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// mailMonth tells a vehicle's watchers that a finalized month was reopened
// for corrections, and, when it is finalized again, how many trips were
// corrected meanwhile.
func (d *DB) mailMonth(ctx context.Context, tx *sql.Tx, a *Actor, v Vehicle, month string, final bool) error {
	if !final {
		return d.mailVehicle(ctx, tx, a, v.ID, fmt.Sprintf("%s: month %s reopened for corrections", v.Name, month),
			fmt.Sprintf("reopened the finalized month %s of %s: its trips can be corrected until it is finalized again.", month, v.Name))
	}
	var reopened sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT MAX(created_at) FROM audit_events WHERE account_id = ? AND vehicle_id = ? AND kind = 'trip.reopen'
		AND target LIKE '% ' || ?`, a.AccountID, v.ID, month).Scan(&reopened); err != nil {
		return err
	}
	if !reopened.Valid {
		return nil // finalized for the first time: nothing was corrected
	}
	var changed int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE account_id = ? AND vehicle_id = ?
		AND kind IN ('trip.create', 'trip.update', 'trip.delete') AND target LIKE '% ' || ? || '-__' AND created_at >= ?`,
		a.AccountID, v.ID, month, reopened.String).Scan(&changed); err != nil {
		return err
	}
	return d.mailVehicle(ctx, tx, a, v.ID, fmt.Sprintf("%s: month %s finalized again", v.Name, month),
		fmt.Sprintf("finalized the month %s of %s again after it was reopened; %s corrected meanwhile.", month, v.Name,
			plural(changed, "trip was", "trips were")))
}
