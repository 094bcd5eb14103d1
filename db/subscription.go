package db

import (
	"context"
	"time"
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
	if err := d.r.QueryRowContext(ctx, `SELECT s.id, s.starts_on, s.ends_on, s.paid_vehicles
		FROM subscriptions s JOIN accounts a ON a.subscription_id = s.id WHERE a.id = ?`, a.AccountID).
		Scan(&s.ID, &starts, &ends, &s.PaidVehicles); err != nil {
		return s, err
	}
	s.StartsOn, _ = time.Parse(time.DateOnly, starts)
	s.EndsOn, _ = time.Parse(time.DateOnly, ends)
	rows, err := d.r.QueryContext(ctx, `SELECT a.id, a.name,
			(SELECT COUNT(*) FROM vehicles v WHERE v.account_id = a.id AND v.status = 'active'),
			(SELECT COUNT(*) FROM vehicles v WHERE v.account_id = a.id AND v.status = 'archived')
		  FROM accounts a WHERE a.subscription_id = ? ORDER BY a.name COLLATE NOCASE, a.id`, s.ID)
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
