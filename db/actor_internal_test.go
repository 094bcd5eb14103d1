package db

import (
	"context"
	"reflect"
	"testing"
)

// TestActorReadInOneStatement checks that the one statement the request
// path reads an actor with (by member, session or token) gives each
// member of the demo account the permissions of its role, scopes
// included, as the role's own rows say, and the two-factor duty that
// MustSetUpTwoFactor computes on its own; and that a change of either is
// seen on the next read.
func TestActorReadInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	// A scoped permission and a role that requires two-factor sign-in.
	var driverRole, driverMember int64
	if err := d.r.QueryRowContext(ctx, `SELECT m.role_id, m.id FROM members m JOIN roles r ON r.id = m.role_id WHERE r.builtin = 'driver' LIMIT 1`).
		Scan(&driverRole, &driverMember); err != nil {
		t.Fatal(err)
	}
	if err := d.ExecForTest(ctx, `UPDATE role_permissions SET scopes = '{"own_only":1,"days":30}' WHERE role_id = ? AND permission = 'trips.view'`, driverRole); err != nil {
		t.Fatal(err)
	}
	check := func(wantDue map[int64]bool) {
		t.Helper()
		rows, err := d.r.QueryContext(ctx, `SELECT id FROM members ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) < 5 {
			t.Fatalf("demo members: %v", ids)
		}
		for _, id := range ids {
			a, err := d.loadActor(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !a.IsOwner() {
				want, err := rolePermissions(ctx, d.r, a.RoleID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a.Perms, want) {
					t.Errorf("member %d: permissions %v, the role's rows say %v", id, a.Perms, want)
				}
			}
			due, known := a.TwoFactorDueAtLoad()
			a.twoFactorRead = false
			must, err := d.MustSetUpTwoFactor(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if !known || due != must || due != wantDue[id] {
				t.Errorf("member %d: two-factor due %v (known %v), MustSetUpTwoFactor %v, want %v", id, due, known, must, wantDue[id])
			}
		}
	}
	check(nil)
	d2, err := d.loadActor(ctx, driverMember)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Perms.Scope("trips.view", "days") != 30 || d2.Perms.Scope("trips.view", "own_only") != 1 {
		t.Fatalf("driver's trips.view scopes: %v", d2.Perms["trips.view"])
	}
	if err := d.ExecForTest(ctx, `INSERT INTO two_factor_roles (account_id, role_id) VALUES (?, ?)`, d2.AccountID, driverRole); err != nil {
		t.Fatal(err)
	}
	due := map[int64]bool{}
	rows, err := d.r.QueryContext(ctx, `SELECT id FROM members WHERE role_id = ?`, driverRole)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		due[id] = true
	}
	rows.Close()
	check(due)
}
