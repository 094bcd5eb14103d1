package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"fleetgate/db/perm"
)

// NewAccount is what creating an account needs: its name, its subscription
// and the login that becomes its Owner.
type NewAccount struct {
	Name           string
	SubscriptionID int64 // 0 creates a new one-year subscription
	PaidVehicles   int
	OwnerUserID    int64
}

// CreateAccount creates an account with its built-in roles and its Owner.
func (d *DB) CreateAccount(ctx context.Context, na NewAccount) (accountID, ownerMemberID int64, err error) {
	err = d.update(ctx, func(tx *sql.Tx) error {
		accountID, ownerMemberID, err = d.createAccount(ctx, tx, na)
		return err
	})
	return accountID, ownerMemberID, err
}

// createAccount is CreateAccount inside a write transaction: the account,
// its settings, its built-in roles and its Owner.
func (d *DB) createAccount(ctx context.Context, tx *sql.Tx, na NewAccount) (accountID, ownerMemberID int64, err error) {
	err = func() error {
		now := d.stamp()
		subID := na.SubscriptionID
		if subID == 0 {
			start := d.Now()
			var err error
			subID, err = insertID(ctx, tx, `INSERT INTO subscriptions (starts_on, ends_on, paid_vehicles) VALUES (?, ?, ?)`,
				start.Format(time.DateOnly), start.AddDate(1, 0, 0).Format(time.DateOnly), na.PaidVehicles)
			if err != nil {
				return err
			}
		}
		// The owner's member id is chosen first: the account row names it,
		// and the deferred foreign key is checked at commit.
		var err error
		if ownerMemberID, err = d.dia.nextID(ctx, tx, "members"); err != nil {
			return err
		}
		accountID, err = insertID(ctx, tx, `INSERT INTO accounts (subscription_id, name, owner_member_id, created_at) VALUES (?, ?, ?, ?)`,
			subID, strings.TrimSpace(na.Name), ownerMemberID, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id) VALUES (?)`, accountID); err != nil {
			return err
		}
		var ownerRole int64
		for _, b := range perm.BuiltinRoles() {
			id, err := insertRole(ctx, tx, accountID, b.Name, string(b.Builtin), b.Defaults, now)
			if err != nil {
				return err
			}
			if b.Builtin == perm.Owner {
				ownerRole = id
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO members (id, account_id, user_id, role_id, status, channel, vehicle_access, created_at)
			VALUES (?, ?, ?, ?, 'active', 'web', 'all', ?)`,
			ownerMemberID, accountID, na.OwnerUserID, ownerRole, now)
		return err
	}()
	return accountID, ownerMemberID, err
}

func insertRole(ctx context.Context, tx *sql.Tx, accountID int64, name, builtin string, set perm.Set, now string) (int64, error) {
	var b any
	if builtin != "" {
		b = builtin
	}
	id, err := insertID(ctx, tx, `INSERT INTO roles (account_id, name, builtin, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		accountID, name, b, now, now)
	if err != nil {
		if isUnique(err) {
			return 0, FieldError("name", "A role named %q already exists.", name)
		}
		return 0, err
	}
	return id, writeRolePermissions(ctx, tx, id, set)
}

func writeRolePermissions(ctx context.Context, tx *sql.Tx, roleID int64, set perm.Set) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, roleID); err != nil {
		return err
	}
	for _, k := range set.Keys() {
		scopes, _ := json.Marshal(set[k])
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_permissions (role_id, permission, scopes) VALUES (?, ?, ?)`,
			roleID, string(k), string(scopes)); err != nil {
			return err
		}
	}
	return nil
}

// rolePermissions reads the permission set of a role.
func rolePermissions(ctx context.Context, q queryer, roleID int64) (perm.Set, error) {
	rows, err := q.QueryContext(ctx, `SELECT permission, scopes FROM role_permissions WHERE role_id = ?`, roleID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := perm.Set{}
	for rows.Next() {
		var k, scopes string
		if err := rows.Scan(&k, &scopes); err != nil {
			return nil, err
		}
		set[perm.Key(k)] = parseScopes(scopes)
	}
	return set, rows.Err()
}

// Account is an account's header facts.
type Account struct {
	ID            int64
	Name          string
	OwnerMemberID int64
}
