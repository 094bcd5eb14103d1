package db

import (
	"context"
	"database/sql"
	"time"

	"fleetgate/db/perm"
)

// A subscription pays for a number of vehicles and may cover several
// accounts (people who keep separate accounts but pay once). Vehicles in
// use are the active vehicles of all its accounts; archived vehicles do
// not count, so archiving one frees a place.

// Subscription is the subscription of the actor's account.
type Subscription struct {
	ID           int64
	StartsOn     time.Time
	EndsOn       time.Time
	PaidVehicles int
	Version      int
	InUse        int // active vehicles across all covered accounts
	Archived     int // archived vehicles across all covered accounts
	Accounts     []SubscriptionAccount
}

// SubscriptionAccount is one account the subscription covers.
type SubscriptionAccount struct {
	ID       int64
	Name     string
	Active   int
	Archived int
	Current  bool
}

// Expired reports whether the subscription's end date has passed at now.
func (s Subscription) Expired(now time.Time) bool {
	return now.UTC().Format(time.DateOnly) > s.EndsOn.Format(time.DateOnly)
}

// Free is how many more vehicles may be created.
func (s Subscription) Free() int { return max(0, s.PaidVehicles-s.InUse) }

// Subscription reads the subscription of the actor's account. Its counts
// are billing facts: they are the same for every member who may see them.
func (d *DB) Subscription(ctx context.Context, a *Actor) (Subscription, error) {
	var s Subscription
	var starts, ends string
	if err := d.r.QueryRowContext(ctx, `SELECT s.id, s.starts_on, s.ends_on, s.paid_vehicles, s.version
		FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`, a.AccountID).
		Scan(&s.ID, &starts, &ends, &s.PaidVehicles, &s.Version); err != nil {
		return s, err
	}
	s.StartsOn, _ = time.Parse(time.DateOnly, starts)
	s.EndsOn, _ = time.Parse(time.DateOnly, ends)
	rows, err := d.r.QueryContext(ctx, `SELECT a.id, a.name,
			(SELECT COUNT(*) FROM vehicles v WHERE v.account_id = a.id AND v.status = 'active'),
			(SELECT COUNT(*) FROM vehicles v WHERE v.account_id = a.id AND v.status = 'archived')
		  FROM accounts a WHERE a.subscription_id = ? ORDER BY lower(a.name), a.id`, s.ID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var sa SubscriptionAccount
		if err := rows.Scan(&sa.ID, &sa.Name, &sa.Active, &sa.Archived); err != nil {
			return s, err
		}
		sa.Current = sa.ID == a.AccountID
		s.InUse += sa.Active
		s.Archived += sa.Archived
		s.Accounts = append(s.Accounts, sa)
	}
	return s, rows.Err()
}

// checkVehicleLimit refuses to add n active vehicles to an account when
// its subscription's paid vehicles are all in use. It runs inside the
// write transaction that adds them, so two requests cannot both take the
// last place.
func checkVehicleLimit(ctx context.Context, q queryer, accountID int64, n int) error {
	var paid, inUse int
	if err := q.QueryRowContext(ctx, `SELECT s.paid_vehicles,
			(SELECT COUNT(*) FROM vehicles v JOIN accounts x ON x.id = v.account_id
			  WHERE x.subscription_id = s.id AND v.status = 'active')
		  FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`, accountID).Scan(&paid, &inUse); err != nil {
		return err
	}
	if inUse+n <= paid {
		return nil
	}
	return Errorf(EConflict, "Your subscription pays for %s and %d are in use. Archive a vehicle you no longer use, "+
		"or ask whoever manages the subscription to raise the number of paid vehicles (see Subscription).",
		plural(paid, "vehicle", "vehicles"), inUse)
}

// WarnDays is how many days before its end a subscription warns.
const WarnDays = 14

// Warnings are what the members with billing.view are told on every page:
// the end is near, or the paid vehicles are nearly all in use.
func (s Subscription) Warnings(now time.Time) []string {
	var out []string
	today, _ := time.Parse(time.DateOnly, now.UTC().Format(time.DateOnly))
	left := int(s.EndsOn.Sub(today).Hours() / 24)
	if left >= 0 && left <= WarnDays {
		when := "in " + plural(left, "day", "days")
		switch left {
		case 0:
			when = "today"
		case 1:
			when = "tomorrow"
		}
		out = append(out, "The subscription ends "+when+" ("+s.EndsOn.Format(time.DateOnly)+"). After that the accounts it covers become read-only until it is renewed.")
	}
	if s.PaidVehicles > 0 && s.InUse*10 >= s.PaidVehicles*9 {
		out = append(out, "The subscription's vehicles are nearly all in use: "+plural(s.InUse, "vehicle", "vehicles")+" of "+plural(s.PaidVehicles, "paid vehicle", "paid vehicles")+".")
	}
	return out
}

// SubscriptionWarnings reads only what the warnings need (the end, the paid
// and the active vehicles of the actor's subscription) and returns them.
// One count over an index: cheaper than Subscription, which also counts
// archived vehicles per account.
func (d *DB) SubscriptionWarnings(ctx context.Context, a *Actor) ([]string, error) {
	var s Subscription
	var ends string
	if err := d.r.QueryRowContext(ctx, `SELECT s.id, s.ends_on, s.paid_vehicles,
			(SELECT COUNT(*) FROM accounts x JOIN vehicles v ON v.account_id = x.id AND v.status = 'active' WHERE x.subscription_id = s.id)
		  FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`, a.AccountID).
		Scan(&s.ID, &ends, &s.PaidVehicles, &s.InUse); err != nil {
		return nil, err
	}
	s.EndsOn, _ = time.Parse(time.DateOnly, ends)
	return s.Warnings(d.Now()), nil
}

// SubscriptionChange is the form of the subscription page.
type SubscriptionChange struct {
	PaidVehicles int
	EndsOn       time.Time
	Version      int
}

// UpdateSubscription changes the paid vehicles and the end date of the
// actor's subscription, if nobody changed it since in.Version. Paying for
// fewer vehicles than are in use is refused, naming how many to archive.
func (d *DB) UpdateSubscription(ctx context.Context, a *Actor, in SubscriptionChange) error {
	if in.PaidVehicles < 0 || in.PaidVehicles > 1_000_000 {
		return FieldError("paid_vehicles", "Enter a number from 0 to 1,000,000.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		var id int64
		var starts, ends string
		var paid, version, inUse int
		if err := tx.QueryRowContext(ctx, `SELECT s.id, s.starts_on, s.ends_on, s.paid_vehicles, s.version,
				(SELECT COUNT(*) FROM vehicles v JOIN accounts x ON x.id = v.account_id WHERE x.subscription_id = s.id AND v.status = 'active')
			  FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`, a.AccountID).
			Scan(&id, &starts, &ends, &paid, &version, &inUse); err != nil {
			return err
		}
		if version != in.Version {
			return Errorf(EConflict, "Someone changed the subscription after you opened this page. The page now shows the current values.")
		}
		newEnds := in.EndsOn.Format(time.DateOnly)
		if newEnds < starts {
			return FieldError("ends_on", "The end date cannot be before the start (%s).", starts)
		}
		if in.PaidVehicles < inUse {
			return FieldError("paid_vehicles", "%s in use across the subscription's accounts. Archive %d first, or pay for at least %d.",
				plural(inUse, "vehicle is", "vehicles are"), inUse-in.PaidVehicles, inUse)
		}
		if paid == in.PaidVehicles && ends == newEnds {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET paid_vehicles = ?, ends_on = ?, version = version + 1 WHERE id = ?`,
			in.PaidVehicles, newEnds, id); err != nil {
			return err
		}
		if err := d.audit(ctx, tx, a, Event{Kind: "subscription.update", Target: "Subscription", Summary: "Changed the subscription",
			Before: map[string]any{"paid_vehicles": paid, "ends_on": ends},
			After:  map[string]any{"paid_vehicles": in.PaidVehicles, "ends_on": newEnds}}); err != nil {
			return err
		}
		if paid != in.PaidVehicles {
			return d.mailPaidVehicles(ctx, tx, a)
		}
		return nil
	})
}

// Renewers names the active members of the actor's account who may renew
// the subscription (billing.manage; the Owner always).
func (d *DB) Renewers(ctx context.Context, a *Actor) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT u.first_name, u.last_name, u.email FROM members m
		  JOIN users u ON u.id = m.user_id JOIN accounts ac ON ac.id = m.account_id
		 WHERE m.account_id = ? AND m.status = 'active'
		   AND (m.id = ac.owner_member_id OR EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = m.role_id AND rp.permission = ?))
		 ORDER BY m.id = ac.owner_member_id DESC, m.sort_name LIMIT 6`, a.AccountID, string(perm.BillingManage))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f, l, e string
		if err := rows.Scan(&f, &l, &e); err != nil {
			return nil, err
		}
		out = append(out, displayName(f, l, e))
	}
	return out, rows.Err()
}
