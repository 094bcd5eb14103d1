package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/perm"
)

// migrated is an empty, migrated database, built once per test binary
// and copied per test; the tests inside package db share it.
var migrated migratedTemplate

type migratedTemplate struct{}

// Path copies the template into t's temp dir and returns the copy's path.
func (migratedTemplate) Path(t testing.TB) string {
	t.Helper()
	return db.MigratedCopyForTest(t)
}

// Open opens a fresh copy of the template, closed when the test ends.
func (m migratedTemplate) Open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), m.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// open returns a migrated database in a temp dir of its own (a copy of
// migrated).
func open(t testing.TB) *db.DB {
	t.Helper()
	return migrated.Open(t)
}

// openDemo returns a database with the demo account in a temp dir of its
// own (a copy of a template built once per test binary).
func openDemo(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.DemoCopyForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// account creates an account owned by a new login and returns its owner.
func account(t testing.TB, d *db.DB, name, ownerEmail string) *db.Actor {
	t.Helper()
	ctx := context.Background()
	uid, err := d.CreateUser(ctx, db.NewUser{Email: ownerEmail, PasswordHash: "x", FirstName: "O", LastName: name})
	if err != nil {
		t.Fatal(err)
	}
	_, mid, err := d.CreateAccount(ctx, db.NewAccount{Name: name, PaidVehicles: 10, OwnerUserID: uid})
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.ActorByMember(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func roleID(t testing.TB, d *db.DB, a *db.Actor, b perm.Builtin) int64 {
	t.Helper()
	opts, err := d.RoleOptions(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		if o.Builtin == b {
			return o.ID
		}
	}
	t.Fatalf("no %s role", b)
	return 0
}

func member(t testing.TB, d *db.DB, a *db.Actor, email string, b perm.Builtin) int64 {
	t.Helper()
	ctx := context.Background()
	uid, err := d.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: "x", FirstName: email})
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.AddMember(ctx, a, db.NewMember{UserID: uid, RoleID: roleID(t, d, a, b)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A new database is migrated from empty without a backup (there is
// nothing to keep); opening it again runs nothing.
func TestMigrateFromEmptyAndTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.Fresh(t, "m.db")
	dir := filepath.Dir(path) // SQLite's backups would be written there
	for i := 0; i < 2; i++ {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		v, err := d.SchemaVersion(ctx)
		if err != nil || v != db.KnownVersion() {
			t.Fatalf("schema version %d, %v; want %d", v, err, db.KnownVersion())
		}
		d.Close()
		if m, _ := filepath.Glob(filepath.Join(dir, "*.bak")); len(m) != 0 {
			t.Fatalf("open %d: a new database was backed up: %v", i, m)
		}
	}
}

func TestAccountGetsBuiltinRoles(t *testing.T) {
	t.Parallel()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	opts, err := d.RoleOptions(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) != len(perm.BuiltinRoles()) {
		t.Fatalf("got %d roles, want %d", len(opts), len(perm.BuiltinRoles()))
	}
	if !o.IsOwner() || !o.Can(perm.RolesManage) || o.RoleName != "Owner" {
		t.Fatalf("owner actor wrong: %+v", o)
	}
}

func TestExactlyOneOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	admin := member(t, d, o, "a@acme.test", perm.Admin)

	// A second member cannot be given the Owner role.
	if err := d.ExecForTest(ctx, `UPDATE members SET role_id = ? WHERE id = ?`, roleID(t, d, o, perm.Owner), admin); err == nil {
		t.Fatal("a second member took the Owner role")
	}
	// The Owner cannot be demoted, deactivated or deleted.
	if err := d.ExecForTest(ctx, `UPDATE members SET role_id = ? WHERE id = ?`, roleID(t, d, o, perm.Admin), o.MemberID); err == nil {
		t.Fatal("owner demoted")
	}
	if err := d.ExecForTest(ctx, `UPDATE members SET status = 'deactivated' WHERE id = ?`, o.MemberID); err == nil {
		t.Fatal("owner deactivated")
	}
	if err := d.ExecForTest(ctx, `DELETE FROM members WHERE id = ?`, o.MemberID); err == nil {
		t.Fatal("owner deleted")
	}
	if err := d.ExecForTest(ctx, `UPDATE accounts SET owner_member_id = NULL WHERE id = ?`, o.AccountID); err == nil {
		t.Fatal("account left without owner")
	}
	// Handing over swaps the roles in one statement.
	if err := d.ExecForTest(ctx, `UPDATE accounts SET owner_member_id = ? WHERE id = ?`, admin, o.AccountID); err != nil {
		t.Fatal(err)
	}
	newOwner, _ := d.ActorByMember(ctx, admin)
	oldOwner, _ := d.ActorByMember(ctx, o.MemberID)
	if !newOwner.IsOwner() || newOwner.Builtin != perm.Owner || oldOwner.Builtin != perm.Admin || oldOwner.IsOwner() {
		t.Fatalf("after hand-over: new %s/%v old %s/%v", newOwner.Builtin, newOwner.IsOwner(), oldOwner.Builtin, oldOwner.IsOwner())
	}
	// Ownership cannot go to a member of another account.
	other := account(t, d, "Other", "o@other.test")
	if err := d.ExecForTest(ctx, `UPDATE accounts SET owner_member_id = ? WHERE id = ?`, other.MemberID, o.AccountID); err == nil {
		t.Fatal("ownership moved across accounts")
	}
}

func TestAccountIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	a := account(t, d, "Acme", "o@acme.test")
	b := account(t, d, "Beta", "o@beta.test")
	member(t, d, a, "x@acme.test", perm.Driver)
	member(t, d, b, "y@beta.test", perm.Driver)
	rows, total, err := d.ListMembers(ctx, a, db.MemberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Fatalf("account A sees %d members, want 2", total)
	}
	for _, r := range rows {
		if r.Email == "y@beta.test" || r.Email == "o@beta.test" {
			t.Fatalf("account A sees %s of account B", r.Email)
		}
	}
	// A role of account B cannot be used in account A.
	uid, _ := d.CreateUser(ctx, db.NewUser{Email: "z@acme.test", PasswordHash: "x"})
	if _, err := d.AddMember(ctx, a, db.NewMember{UserID: uid, RoleID: roleID(t, d, b, perm.Admin)}); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("cross-account role: %v", err)
	}
}

func TestListMembersFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	a := account(t, d, "Acme", "o@acme.test")
	member(t, d, a, "ann.driver@acme.test", perm.Driver)
	member(t, d, a, "bob.manager@acme.test", perm.Manager)
	rows, total, err := d.ListMembers(ctx, a, db.MemberFilter{Query: "ann"})
	if err != nil || total != 1 || rows[0].Email != "ann.driver@acme.test" {
		t.Fatalf("search: %v %d %v", rows, total, err)
	}
	_, total, _ = d.ListMembers(ctx, a, db.MemberFilter{RoleID: roleID(t, d, a, perm.Manager)})
	if total != 1 {
		t.Fatalf("role filter: %d", total)
	}
	_, total, _ = d.ListMembers(ctx, a, db.MemberFilter{Query: "100%_"})
	if total != 0 {
		t.Fatalf("wildcards must be literal, got %d", total)
	}
}
