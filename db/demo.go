package db

import (
	"context"
	"database/sql"
	"errors"

	"fleetgate/db/password"
	"fleetgate/db/perm"
)

// DemoPassword is the documented password of every demo login.
const DemoPassword = "fleetgate-demo"

// DemoAccountName names the demo account.
const DemoAccountName = "Demo Fleet"

// DemoLogin is one demo login and the role it holds.
type DemoLogin struct {
	Email, Role string
	builtin     perm.Builtin
	first, last string
}

// DemoLogins are the demo account's people, one for each built-in role.
var DemoLogins = []DemoLogin{
	{"owner@demo.test", "Owner", perm.Owner, "Olivia", "Owner"},
	{"admin@demo.test", "Admin", perm.Admin, "Adam", "Admin"},
	{"manager@demo.test", "Manager", perm.Manager, "Maria", "Manager"},
	{"accountant@demo.test", "Accountant (read-only)", perm.Accountant, "Arthur", "Accountant"},
	{"driver@demo.test", "Driver", perm.Driver, "Diego", "Driver"},
	{"notifications@demo.test", "Notifications only", perm.Notifications, "Nora", "Notifications"},
}

// EnsureDemo creates the demo account once; later calls leave it as it is.
// Later features add their demo data through DemoHooks.
func (d *DB) EnsureDemo(ctx context.Context) (created bool, err error) {
	var id int64
	err = d.r.QueryRowContext(ctx, `SELECT id FROM accounts WHERE name = ? ORDER BY id LIMIT 1`, DemoAccountName).Scan(&id)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	hash, err := password.Hash(DemoPassword)
	if err != nil {
		return false, err
	}
	ids := map[perm.Builtin]int64{}
	for _, l := range DemoLogins {
		uid, err := d.CreateUser(ctx, NewUser{Email: l.Email, PasswordHash: hash, FirstName: l.first, LastName: l.last})
		if err != nil {
			return false, err
		}
		ids[l.builtin] = uid
	}
	accountID, ownerMember, err := d.CreateAccount(ctx, NewAccount{Name: DemoAccountName, PaidVehicles: 50, OwnerUserID: ids[perm.Owner]})
	if err != nil {
		return false, err
	}
	owner, err := d.loadActor(ctx, ownerMember)
	if err != nil {
		return false, err
	}
	err = d.update(ctx, func(tx *sql.Tx) error {
		for _, l := range DemoLogins[1:] {
			var roleID int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM roles WHERE account_id = ? AND builtin = ?`, accountID, l.builtin).Scan(&roleID); err != nil {
				return err
			}
			nm := NewMember{UserID: ids[l.builtin], RoleID: roleID, Channel: "web", VehicleAccess: "selected"}
			switch l.builtin {
			case perm.Admin, perm.Accountant:
				nm.VehicleAccess = "all"
			case perm.Driver:
				nm.Channel = "both"
			}
			if _, err := addMember(ctx, tx, d.stamp(), accountID, nm); err != nil {
				return err
			}
		}
		for _, hook := range DemoHooks {
			if err := hook(ctx, tx, owner); err != nil {
				return err
			}
		}
		return d.audit(ctx, tx, owner, Event{Kind: "account.create", Target: DemoAccountName, Summary: "Demo account created"})
	})
	return err == nil, err
}

// DemoHooks fill the demo account with each feature's data, in order,
// inside the transaction that creates it.
var DemoHooks []func(ctx context.Context, tx *sql.Tx, owner *Actor) error
