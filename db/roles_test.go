package db_test

import (
	"context"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

func roleActor(t testing.TB, d *db.DB, memberID int64) *db.Actor {
	t.Helper()
	a, err := d.ActorByMember(context.Background(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustGetRole(t testing.TB, d *db.DB, a *db.Actor, id int64) db.Role {
	t.Helper()
	r, err := d.Role(context.Background(), a, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantRoleErr(t *testing.T, err error, code db.Code, contains string) {
	t.Helper()
	if db.ErrorCode(err) != code {
		t.Fatalf("got %v, want a %s error", err, code)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("message %q lacks %q", err.Error(), contains)
	}
}

func TestCreateRoleNamesAndCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")

	id, err := d.CreateRole(ctx, o, db.NewRole{Name: "  Dispatcher  "})
	if err != nil {
		t.Fatal(err)
	}
	r := mustGetRole(t, d, o, id)
	if r.Name != "Dispatcher" || r.IsBuiltin() || len(r.Perms) != 0 || r.Version != 1 {
		t.Fatalf("created %+v", r)
	}
	// Names are unique without regard to case, built-in names included.
	for _, name := range []string{"dispatcher", "DISPATCHER", "admin", "Accountant (READ-ONLY)"} {
		_, err := d.CreateRole(ctx, o, db.NewRole{Name: name})
		wantRoleErr(t, err, db.EConflict, "already a role named")
		if e := err.(*db.Error); e.Field != "name" {
			t.Fatalf("%s: field %q", name, e.Field)
		}
	}
	for _, name := range []string{"", "   ", strings.Repeat("x", 61), "tab\there"} {
		_, err := d.CreateRole(ctx, o, db.NewRole{Name: name})
		wantRoleErr(t, err, db.EInvalid, "")
	}
	if _, err := d.CreateRole(ctx, o, db.NewRole{Name: strings.Repeat("é", 60)}); err != nil {
		t.Fatalf("60 characters must be fine: %v", err)
	}

	// A copy starts with the source's permissions and scopes.
	copyID, err := d.CreateRole(ctx, o, db.NewRole{Name: "Field crew", CopyFrom: roleID(t, d, o, perm.Driver)})
	if err != nil {
		t.Fatal(err)
	}
	c := mustGetRole(t, d, o, copyID)
	if !perm.Equal(c.Perms, mustGetRole(t, d, o, roleID(t, d, o, perm.Driver)).Perms) || c.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) != 1 {
		t.Fatalf("copy holds %v", c.Perms)
	}
	// Another account's role cannot be copied (nor seen).
	other := account(t, d, "Other", "o@other.test")
	_, err = d.CreateRole(ctx, o, db.NewRole{Name: "Spy", CopyFrom: roleID(t, d, other, perm.Admin)})
	wantRoleErr(t, err, db.EInvalid, "offered roles")

	// A manager of roles cannot copy a role wider than their own.
	rm := roleManager(t, d, o)
	_, err = d.CreateRole(ctx, rm, db.NewRole{Name: "Wide", CopyFrom: roleID(t, d, o, perm.Admin)})
	wantRoleErr(t, err, db.EForbidden, "do not hold")

	log, _, _ := d.AuditLog(ctx, o, db.AuditFilter{Kind: "role.create"})
	if len(log) != 4 || log[1].Target != "Field crew" || !strings.Contains(log[1].After, `"trips.view":{"own_only":1}`) {
		t.Fatalf("audit: %+v", log)
	}
}

// roleManager adds a member whose custom role may manage roles and see a
// few things, and returns them as an actor.
func roleManager(t testing.TB, d *db.DB, o *db.Actor) *db.Actor {
	t.Helper()
	ctx := context.Background()
	id, err := d.CreateRole(ctx, o, db.NewRole{Name: "Role keeper"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: id, Version: 1, Perms: perm.Of(perm.RolesManage, perm.VehiclesEdit, perm.TripsView)}); err != nil {
		t.Fatal(err)
	}
	uid, err := d.CreateUser(ctx, db.NewUser{Email: "keeper@" + strings.ToLower(o.AccountName) + ".test", PasswordHash: "x", FirstName: "Kim"})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := d.AddMember(ctx, o, db.NewMember{UserID: uid, RoleID: id})
	if err != nil {
		t.Fatal(err)
	}
	return roleActor(t, d, mid)
}

func TestSaveRoleAppliesRequirementsAndKeepsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	driver := roleID(t, d, o, perm.Driver)
	dm := member(t, d, o, "d@acme.test", perm.Driver)

	res, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: driver, Version: 1,
		Perms: perm.Set{perm.TripsView: {perm.ScopeOwnOnly: 1, perm.ScopeHistoryDays: 30}, perm.TripsEdit: {}, perm.ReportsExport: {}}})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Role
	// Requirements were turned on: View vehicles for trips, View reports for export.
	if r.Version != 2 || !r.Perms.Has(perm.VehiclesView) || !r.Perms.Has(perm.ReportsView) {
		t.Fatalf("saved %+v", r)
	}
	if r.Perms.Scope(perm.TripsView, perm.ScopeHistoryDays) != 30 {
		t.Fatalf("scope lost: %v", r.Perms)
	}
	if got := res.Impact.Summary(); got != "1 member; gain View dashboard and reports, Export reports, Edit trips; lose Record trips; new limits on View trips" {
		t.Fatalf("impact %q", got)
	}
	// The member holding the role has the new permissions on their next load.
	da := roleActor(t, d, dm)
	if !da.Can(perm.ReportsExport) || da.Can(perm.TripsRecord) {
		t.Fatalf("member holds %v", da.Perms.Keys())
	}

	// History: the state before the first save, then the save.
	_, versions, total, err := d.RoleVersions(ctx, o, driver, 1, 10)
	if err != nil || total != 2 || len(versions) != 2 {
		t.Fatalf("history %d %v %v", total, versions, err)
	}
	if versions[0].Version != 2 || versions[0].SavedBy != "O Acme" || versions[0].SavedByID != o.MemberID || versions[0].Change == nil {
		t.Fatalf("newest version %+v", versions[0])
	}
	if versions[1].Version != 1 || !versions[1].Perms.Has(perm.TripsRecord) || versions[1].Change != nil {
		t.Fatalf("first version %+v", versions[1])
	}
	// Saving the same permissions again writes nothing.
	res, err = d.SaveRole(ctx, o, db.RoleSave{RoleID: driver, Version: 2, Perms: r.Perms})
	if err != nil || !res.Unchanged || res.Role.Version != 2 {
		t.Fatalf("no-op save: %+v %v", res, err)
	}
	log, _, _ := d.AuditLog(ctx, o, db.AuditFilter{Kind: "role.update"})
	if len(log) != 1 || !strings.Contains(log[0].Before, `"trips.record"`) || strings.Contains(log[0].After, `"trips.record"`) ||
		!strings.Contains(log[0].After, `"history_days":30`) {
		t.Fatalf("audit %+v", log)
	}
}

func TestSaveRoleRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	admin := roleActor(t, d, member(t, d, o, "a@acme.test", perm.Admin))
	manager := roleID(t, d, o, perm.Manager)

	_, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: roleID(t, d, o, perm.Owner), Version: 1, Perms: perm.Of(perm.UsersView)})
	wantRoleErr(t, err, db.EForbidden, "Owner role")
	_, err = d.SaveRole(ctx, admin, db.RoleSave{RoleID: roleID(t, d, o, perm.Admin), Version: 1, Perms: perm.Of(perm.UsersView)})
	wantRoleErr(t, err, db.EForbidden, "your own role")
	_, err = d.SaveRole(ctx, o, db.RoleSave{RoleID: manager, Version: 1, Perms: perm.Set{}})
	wantRoleErr(t, err, db.EInvalid, "at least one permission")
	_, err = d.SaveRole(ctx, o, db.RoleSave{RoleID: manager, Version: 1, Perms: perm.Set{"made.up": {}}})
	wantRoleErr(t, err, db.EInvalid, "at least one permission")
	other := account(t, d, "Other", "o@other.test")
	_, err = d.SaveRole(ctx, o, db.RoleSave{RoleID: roleID(t, d, other, perm.Driver), Version: 1, Perms: perm.Of(perm.UsersView)})
	wantRoleErr(t, err, db.ENotFound, "")

	// No escalation: a role manager gives only what they hold, with no
	// wider scope, and cannot touch a role wider than their own.
	rm := roleManager(t, d, o)
	driver := roleID(t, d, o, perm.Driver)
	_, err = d.SaveRole(ctx, rm, db.RoleSave{RoleID: driver, Version: 1, Perms: perm.Of(perm.VehiclesView, perm.TripsView, perm.AuditView)})
	wantRoleErr(t, err, db.EForbidden, "Record trips") // the driver role holds Record trips, the keeper does not
	_, err = d.SaveRole(ctx, rm, db.RoleSave{RoleID: manager, Version: 1, Perms: perm.Of(perm.VehiclesView)})
	wantRoleErr(t, err, db.EForbidden, "do not hold")
	narrow, err := d.CreateRole(ctx, rm, db.NewRole{Name: "Narrow"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.SaveRole(ctx, rm, db.RoleSave{RoleID: narrow, Version: 1, Perms: perm.Of(perm.VehiclesView, perm.AuditView)})
	wantRoleErr(t, err, db.EForbidden, "View audit log")
	if _, err := d.SaveRole(ctx, rm, db.RoleSave{RoleID: narrow, Version: 1, Perms: perm.Set{perm.TripsView: {perm.ScopeOwnOnly: 1}}}); err != nil {
		t.Fatalf("a narrower scope is within reach: %v", err)
	}
	// The keeper cannot change their own role either.
	_, err = d.SaveRole(ctx, rm, db.RoleSave{RoleID: rm.RoleID, Version: 2, Perms: perm.Of(perm.RolesView)})
	wantRoleErr(t, err, db.EForbidden, "your own role")
}

func TestSaveRoleVersionConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	admin := roleActor(t, d, member(t, d, o, "a@acme.test", perm.Admin))
	driver := roleID(t, d, o, perm.Driver)

	// Both open version 1; the admin saves first.
	if _, err := d.SaveRole(ctx, admin, db.RoleSave{RoleID: driver, Version: 1, Perms: perm.Of(perm.VehiclesView, perm.ReportsView)}); err != nil {
		t.Fatal(err)
	}
	_, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: driver, Version: 1, Perms: perm.Of(perm.VehiclesView, perm.AuditView)})
	wantRoleErr(t, err, db.EConflict, "saved by a@acme.test")
	_, err = d.RoleImpact(ctx, o, driver, 1, perm.Of(perm.VehiclesView))
	wantRoleErr(t, err, db.EConflict, "now version 2")
	if r := mustGetRole(t, d, o, driver); r.Perms.Has(perm.AuditView) || !r.Perms.Has(perm.ReportsView) {
		t.Fatalf("the second save overwrote the first: %v", r.Perms.Keys())
	}
}

func TestRenameAndDeleteRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	id, err := d.CreateRole(ctx, o, db.NewRole{Name: "Dispatch"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RenameRole(ctx, o, id, "Dispatchers"); err != nil {
		t.Fatal(err)
	}
	if err := d.RenameRole(ctx, o, id, "DISPATCHERS"); err != nil {
		t.Fatalf("a change of case only: %v", err)
	}
	wantRoleErr(t, d.RenameRole(ctx, o, id, "manager"), db.EConflict, `"Manager"`)
	wantRoleErr(t, d.RenameRole(ctx, o, id, ""), db.EInvalid, "Enter a name")
	wantRoleErr(t, d.RenameRole(ctx, o, roleID(t, d, o, perm.Admin), "Boss"), db.EForbidden, "cannot be renamed")
	wantRoleErr(t, d.DeleteRole(ctx, o, roleID(t, d, o, perm.Driver)), db.EForbidden, "cannot be deleted")
	// The schema refuses it too.
	if err := d.ExecForTest(ctx, `UPDATE roles SET name = 'Boss' WHERE id = ?`, roleID(t, d, o, perm.Admin)); err == nil {
		t.Fatal("schema let a built-in role be renamed")
	}

	// A role held by members is not deleted; the message counts them.
	if err := d.ExecForTest(ctx, `UPDATE members SET role_id = ? WHERE id IN (?, ?)`, id,
		member(t, d, o, "x@acme.test", perm.Driver), member(t, d, o, "y@acme.test", perm.Driver)); err != nil {
		t.Fatal(err)
	}
	wantRoleErr(t, d.DeleteRole(ctx, o, id), db.EConflict, "2 members hold it")
	if err := d.ExecForTest(ctx, `UPDATE members SET role_id = ? WHERE role_id = ?`, roleID(t, d, o, perm.Driver), id); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteRole(ctx, o, id); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Role(ctx, o, id); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("deleted role still found: %v", err)
	}
	for _, kind := range []string{"role.rename", "role.delete"} {
		if log, _, _ := d.AuditLog(ctx, o, db.AuditFilter{Kind: kind}); len(log) == 0 {
			t.Errorf("no %s audit event", kind)
		}
	}
}

func TestRestoreRoleVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	driver := roleID(t, d, o, perm.Driver)
	first := mustGetRole(t, d, o, driver).Perms
	if _, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: driver, Version: 1, Perms: perm.Of(perm.AuditView)}); err != nil {
		t.Fatal(err)
	}
	// Restoring from a stale page is a conflict like any save.
	_, err := d.RestoreRole(ctx, o, driver, 1, 1)
	wantRoleErr(t, err, db.EConflict, "")
	res, err := d.RestoreRole(ctx, o, driver, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Role.Version != 3 || !perm.Equal(res.Role.Perms, first) {
		t.Fatalf("restored %+v", res.Role)
	}
	_, v, err := d.RoleVersionAt(ctx, o, driver, 3)
	if err != nil || v.Note != "Restored version 1" {
		t.Fatalf("version 3: %+v %v", v, err)
	}
	if _, _, err := d.RoleVersionAt(ctx, o, driver, 9); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("missing version: %v", err)
	}
	log, _, _ := d.AuditLog(ctx, o, db.AuditFilter{Kind: "role.restore"})
	if len(log) != 1 || !strings.Contains(log[0].Summary, "Restored version 1") {
		t.Fatalf("audit %+v", log)
	}
}

func TestRoleVersionsPagesAndUnsavedRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	// A built-in role nobody saved yet still has its first version to show.
	manager := roleID(t, d, o, perm.Manager)
	_, vs, total, err := d.RoleVersions(ctx, o, manager, 1, 10)
	if err != nil || total != 1 || vs[0].Version != 1 || vs[0].SavedBy != "system" || !vs[0].Perms.Has(perm.UsersManage) {
		t.Fatalf("unsaved role history: %d %+v %v", total, vs, err)
	}
	if _, v, err := d.RoleVersionAt(ctx, o, manager, 1); err != nil || !v.Perms.Has(perm.UsersManage) {
		t.Fatalf("unsaved role version 1: %+v %v", v, err)
	}
	// Pages of two: each version's change is told against the one before,
	// also across the page boundary.
	driver := roleID(t, d, o, perm.Driver)
	for v, k := range []perm.Key{perm.AuditView, perm.BillingView, perm.ReportsView} {
		if _, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: driver, Version: v + 1, Perms: perm.Of(perm.VehiclesView, k)}); err != nil {
			t.Fatal(err)
		}
	}
	_, p1, total, _ := d.RoleVersions(ctx, o, driver, 1, 2)
	_, p2, _, _ := d.RoleVersions(ctx, o, driver, 2, 2)
	if total != 4 || len(p1) != 2 || len(p2) != 2 || p1[0].Version != 4 || p2[1].Version != 1 {
		t.Fatalf("pages %d: %+v / %+v", total, p1, p2)
	}
	if p1[1].Change == nil || db.PermLabels(p1[1].Change.Gain) != "View subscription" || db.PermLabels(p1[1].Change.Lose) != "View audit log" {
		t.Fatalf("version 3 change %+v", p1[1].Change)
	}
	if p2[0].Change == nil || p2[1].Change != nil {
		t.Fatalf("page 2 changes: %+v %+v", p2[0].Change, p2[1].Change)
	}
}

// The migration gives roles that existed before it their current state
// as a version.
func TestRoleHistoryMigrationKeepsExistingRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	o := account(t, d, "Acme", "o@acme.test")
	if err := d.ExecForTest(ctx, `UPDATE roles SET version = 4 WHERE builtin = 'manager'`); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before role history.
	if err := d.ExecForTest(ctx, `DROP TABLE role_versions; DELETE FROM schema_version WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, vs, total, err := d.RoleVersions(ctx, o, roleID(t, d, o, perm.Manager), 1, 10)
	if err != nil || total != 1 || vs[0].Version != 4 || !perm.Equal(vs[0].Perms, mustGetRole(t, d, o, roleID(t, d, o, perm.Manager)).Perms) {
		t.Fatalf("manager history %d %+v %v", total, vs, err)
	}
	_, vs, _, _ = d.RoleVersions(ctx, o, roleID(t, d, o, perm.Driver), 1, 10)
	if vs[0].Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) != 1 {
		t.Fatalf("scopes lost in migration: %v", vs[0].Perms)
	}
	_, vs, _, _ = d.RoleVersions(ctx, o, roleID(t, d, o, perm.Notifications), 1, 10)
	if len(vs) != 1 || len(vs[0].Perms) != 0 {
		t.Fatalf("empty role history: %+v", vs)
	}
}

func BenchmarkActorCan(b *testing.B) {
	d := open(b)
	o := account(b, d, "Acme", "o@acme.test")
	a := roleActor(b, d, member(b, d, o, "m@acme.test", perm.Manager))
	for b.Loop() {
		if !a.Can(perm.TripsEdit) || a.Can(perm.RolesManage) {
			b.Fatal("wrong answer")
		}
	}
}

// BenchmarkSessionActor is the per-request load of a member's session,
// role and permissions: what every request pays before its handler.
func BenchmarkSessionActor(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	o := account(b, d, "Acme", "o@acme.test")
	a := roleActor(b, d, member(b, d, o, "m@acme.test", perm.Manager))
	token, err := d.CreateSession(ctx, a.UserID, a.MemberID, "bench", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := d.SessionActor(ctx, token)
		if err != nil || !got.Can(perm.TripsEdit) {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveRole is one save of the matrix: checks, permissions,
// version row and audit event in one transaction.
func BenchmarkSaveRole(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	o := account(b, d, "Acme", "o@acme.test")
	id := roleID(b, d, o, perm.Manager)
	sets := []perm.Set{perm.BuiltinRoles()[2].Defaults, perm.Of(perm.VehiclesView, perm.TripsView, perm.ReportsExport)}
	version := 1
	for b.Loop() {
		res, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: id, Version: version, Perms: sets[version%2]})
		if err != nil || res.Unchanged {
			b.Fatal(err)
		}
		version = res.Role.Version
	}
}
