package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// lastAudit returns the kind and summary of the account's newest audit event.
func lastAudit(t testing.TB, d *db.DB, a *db.Actor) db.AuditEntry {
	t.Helper()
	es, _, err := d.AuditLog(context.Background(), a, db.AuditFilter{PerPage: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("audit: %v", err)
	}
	return es[0]
}

func TestVehicleLimitCountsActiveVehiclesOfTheSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	setPaid(t, d, o, 3)
	// A second account on the same subscription shares the paid vehicles.
	var sub int64
	if err := d.ExecForTest(ctx, `UPDATE subscriptions SET paid_vehicles = 3`); err != nil {
		t.Fatal(err)
	}
	uid, _ := d.CreateUser(ctx, db.NewUser{Email: "o@beta.test", PasswordHash: "x"})
	s, _ := d.Subscription(ctx, o)
	sub = s.ID
	_, bm, err := d.CreateAccount(ctx, db.NewAccount{Name: "Beta", SubscriptionID: sub, OwnerUserID: uid})
	if err != nil {
		t.Fatal(err)
	}
	beta := actorOf(t, d, bm)
	v1 := mkVehicle(t, d, o, "a1", 0)
	mkVehicle(t, d, o, "a2", 0)
	mkVehicle(t, d, beta, "b1", 0)
	_, err = d.CreateVehicle(ctx, o, db.VehicleInput{Name: "a3"})
	if db.ErrorCode(err) != db.EConflict || !strings.Contains(err.Error(), "pays for 3 vehicles and 3 are in use") ||
		!strings.Contains(err.Error(), "raise the number of paid vehicles") {
		t.Fatalf("over the limit: %v", err)
	}
	// Archived vehicles do not count: archiving frees a place, and
	// restoring needs one.
	if err := d.ArchiveVehicle(ctx, o, v1); err != nil {
		t.Fatal(err)
	}
	v3 := mkVehicle(t, d, o, "a3", 0)
	if err := d.RestoreVehicle(ctx, o, v1); db.ErrorCode(err) != db.EConflict {
		t.Fatalf("restore over the limit: %v", err)
	}
	if err := d.ArchiveVehicle(ctx, o, v3); err != nil {
		t.Fatal(err)
	}
	if err := d.RestoreVehicle(ctx, o, v1); err != nil {
		t.Fatal(err)
	}
	s, err = d.Subscription(ctx, beta)
	if err != nil || s.PaidVehicles != 3 || s.InUse != 3 || s.Archived != 1 || len(s.Accounts) != 2 || s.Free() != 0 {
		t.Fatalf("subscription: %+v %v", s, err)
	}
	if !s.Accounts[1].Current || s.Accounts[1].Name != "Beta" || s.Accounts[0].Active != 2 {
		t.Fatalf("accounts: %+v", s.Accounts)
	}
}

func TestVehicleValidationAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	in := db.VehicleInput{Name: "  Van   7 ", Plate: " il 123 ab ", VIN: "1ftbw 3xm 5hkb 12345", OdometerKm: 1200, GroupID: f.city}
	id, err := d.CreateVehicle(ctx, f.owner, in)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := d.Vehicle(ctx, f.owner, id)
	if v.Name != "Van 7" || v.Plate != "IL 123 AB" || v.VIN != "1FTBW3XM5HKB12345" || v.GroupName != "City" || v.Status != "active" {
		t.Fatalf("cleaned: %+v", v)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "vehicle.create" || e.Target != "Van 7" || !strings.Contains(e.After, "1FTBW3XM5HKB12345") {
		t.Fatalf("audit: %+v", e)
	}
	for _, bad := range []struct {
		in    db.VehicleInput
		field string
	}{
		{db.VehicleInput{Name: ""}, "name"},
		{db.VehicleInput{Name: strings.Repeat("x", 81)}, "name"},
		{db.VehicleInput{Name: "x", Plate: strings.Repeat("p", 21)}, "plate"},
		{db.VehicleInput{Name: "x", VIN: "1FT-BW"}, "vin"},
		{db.VehicleInput{Name: "x", VIN: strings.Repeat("A", 18)}, "vin"},
		{db.VehicleInput{Name: "x", OdometerKm: -1}, "odometer_km"},
		{db.VehicleInput{Name: "x", OdometerKm: 10_000_000}, "odometer_km"},
	} {
		_, err := d.CreateVehicle(ctx, f.owner, bad.in)
		var e *db.Error
		if !asErr(err, &e) || e.Code != db.EInvalid || e.Field != bad.field {
			t.Errorf("%+v: %v", bad.in, err)
		}
	}
	// A VIN is unique within the account.
	_, err = d.CreateVehicle(ctx, f.owner, db.VehicleInput{Name: "dup", VIN: "1FTBW3XM5HKB12345"})
	if db.ErrorCode(err) != db.EConflict {
		t.Fatalf("duplicate VIN: %v", err)
	}
	// Edits are audited with before and after; an edit that changes nothing is not.
	in.Name = "Van 7b"
	if err := d.UpdateVehicle(ctx, f.owner, id, vehicleVersion(t, d, f.owner, id), in); err != nil {
		t.Fatal(err)
	}
	e := lastAudit(t, d, f.owner)
	if e.Kind != "vehicle.update" || !strings.Contains(e.Before, `"Van 7"`) || !strings.Contains(e.After, `"Van 7b"`) {
		t.Fatalf("update audit: %+v", e)
	}
	if err := d.UpdateVehicle(ctx, f.owner, id, vehicleVersion(t, d, f.owner, id), in); err != nil {
		t.Fatal(err)
	}
	if e2 := lastAudit(t, d, f.owner); e2.ID != e.ID {
		t.Fatal("a no-op edit wrote an audit event")
	}
	if err := d.ArchiveVehicle(ctx, f.owner, id); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "vehicle.archive" {
		t.Fatalf("archive audit: %+v", e)
	}
	// Archived vehicles leave the default list but stay findable.
	if rows, _, _ := d.ListVehicles(ctx, f.owner, db.VehicleFilter{Query: "van 7b"}); len(rows) != 0 {
		t.Fatal("archived vehicle in the active list")
	}
	if rows, _, _ := d.ListVehicles(ctx, f.owner, db.VehicleFilter{Query: "van 7b", Status: "archived"}); len(rows) != 1 {
		t.Fatal("archived vehicle not under archived")
	}
}

func TestVehicleListSearchFilterPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	setPaid(t, d, f.owner, 100)
	for i, n := range []string{"Alpha", "Bravo", "Charlie"} {
		if _, err := d.CreateVehicle(ctx, f.owner, db.VehicleInput{Name: n, Plate: "PL " + n[:2], VIN: "VIN" + strings.Repeat("9", i+1), GroupID: f.depot}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(vf db.VehicleFilter) []string {
		rows, _, err := d.ListVehicles(ctx, f.owner, vf)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range rows {
			out = append(out, v.Name)
		}
		return out
	}
	same(t, "by name", names(db.VehicleFilter{Query: "brav"}), "Bravo")
	same(t, "by plate", names(db.VehicleFilter{Query: "pl ch"}), "Charlie")
	same(t, "by VIN", names(db.VehicleFilter{Query: "VIN99"}), "Bravo", "Charlie")
	same(t, "wildcards are literal", names(db.VehicleFilter{Query: "%"}))
	// A group filter includes its sub-groups.
	same(t, "group city", names(db.VehicleFilter{GroupID: f.city}), "in-city", "in-depot", "Alpha", "Bravo", "Charlie")
	same(t, "group depot", names(db.VehicleFilter{GroupID: f.depot}), "in-depot", "Alpha", "Bravo", "Charlie")
	// Pages are by name.
	rows, total, _ := d.ListVehicles(ctx, f.owner, db.VehicleFilter{PerPage: 3, Page: 2})
	if total != 8 || len(rows) != 3 || rows[0].Name != "in-city" {
		t.Fatalf("page 2: %d %v", total, rows)
	}
	if n, _ := d.CountVehicles(ctx, f.owner, "active"); n != 8 {
		t.Fatalf("count: %d", n)
	}
}

func TestVehicleEditsNeedManageAndStayInScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	m := member(t, d, f.owner, "m@acme.test", perm.Manager)
	grant(t, d, f.owner, m, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, m, "vehicle", f.v["in-region"], db.View, nil)
	ma := actorOf(t, d, m)

	// View only: seen, but not changed.
	err := d.UpdateVehicle(ctx, ma, f.v["in-region"], vehicleVersion(t, d, ma, f.v["in-region"]), db.VehicleInput{Name: "renamed"})
	if db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("edit a viewed vehicle: %v", err)
	}
	if err := d.ArchiveVehicle(ctx, ma, f.v["in-region"]); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("archive a viewed vehicle: %v", err)
	}
	// Out of scope: not found.
	if err := d.UpdateVehicle(ctx, ma, f.v["in-other"], 1, db.VehicleInput{Name: "x"}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("edit unseen: %v", err)
	}
	// Managed: may edit and move within groups they manage ...
	if err := d.UpdateVehicle(ctx, ma, f.v["in-city"], vehicleVersion(t, d, ma, f.v["in-city"]), db.VehicleInput{Name: "in-city", GroupID: f.depot}); err != nil {
		t.Fatal(err)
	}
	// ... but not out of their reach, nor out of every group.
	for _, g := range []int64{f.othr, f.region, 0} {
		err := d.UpdateVehicle(ctx, ma, f.v["in-city"], vehicleVersion(t, d, ma, f.v["in-city"]), db.VehicleInput{Name: "in-city", GroupID: g})
		if c := db.ErrorCode(err); c != db.EInvalid && c != db.EForbidden {
			t.Fatalf("move to %d: %v", g, err)
		}
	}
	// They create vehicles only in groups they manage.
	if _, err := d.CreateVehicle(ctx, ma, db.VehicleInput{Name: "new", GroupID: f.depot}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateVehicle(ctx, ma, db.VehicleInput{Name: "new2", GroupID: f.othr}); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("create outside: %v", err)
	}
	if _, err := d.CreateVehicle(ctx, ma, db.VehicleInput{Name: "new3"}); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("create in no group: %v", err)
	}
}

func TestGroupTree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	gs, err := d.Groups(ctx, f.owner)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, g := range gs {
		paths = append(paths, g.Path)
	}
	if strings.Join(paths, "|") != "Other|Region|Region › City|Region › City › Depot" {
		t.Fatalf("tree order: %v", paths)
	}
	// Names are unique among siblings, case-insensitively, not across the tree.
	if _, err := d.CreateGroup(ctx, f.owner, "city", f.region); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("duplicate sibling: %v", err)
	}
	mkGroup(t, d, f.owner, "City", f.othr)
	// No cycles.
	if err := d.UpdateGroup(ctx, f.owner, f.region, groupVersion(t, d, f.owner, f.region), "Region", f.depot); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("cycle: %v", err)
	}
	// Delete only when empty, with a message that says what is left.
	err = d.DeleteGroup(ctx, f.owner, f.city)
	if db.ErrorCode(err) != db.EConflict || !strings.Contains(err.Error(), "1 vehicle and 1 sub-group") {
		t.Fatalf("delete non-empty: %v", err)
	}
	empty := mkGroup(t, d, f.owner, "Empty", f.region)
	m := member(t, d, f.owner, "m@acme.test", perm.Manager)
	grant(t, d, f.owner, m, "group", empty, db.View, nil)
	if err := d.DeleteGroup(ctx, f.owner, empty); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "group.delete" || e.Target != "Region › Empty" || !strings.Contains(e.Summary, "1 member grant") {
		t.Fatalf("audit: %+v", e)
	}

	// A manager of City sees City and Depot as their tree, and manages them;
	// the region holding a vehicle they were given directly shows without management.
	grant(t, d, f.owner, m, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, m, "vehicle", f.v["in-region"], db.View, nil)
	ma := actorOf(t, d, m)
	gs, _ = d.Groups(ctx, ma)
	var got []string
	for _, g := range gs {
		got = append(got, g.Path+":"+g.Level.String())
	}
	if strings.Join(got, "|") != "Region:none|Region › City:manage|Region › City › Depot:manage" {
		t.Fatalf("manager's tree: %v", got)
	}
	if _, err := d.CreateGroup(ctx, ma, "Yard", f.city); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateGroup(ctx, ma, "Top", 0); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("top-level by a manager: %v", err)
	}
	if err := d.UpdateGroup(ctx, ma, f.region, groupVersion(t, d, f.owner, f.region), "Renamed", 0); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("rename a merely visible group: %v", err)
	}
	if err := d.UpdateGroup(ctx, ma, f.othr, 1, "Renamed", 0); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("rename an unseen group: %v", err)
	}
	if err := d.UpdateGroup(ctx, ma, f.depot, groupVersion(t, d, ma, f.depot), "Depot 1", f.city); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "group.update" || e.Target != "Region › City › Depot 1" || !strings.Contains(e.Before, "Depot") {
		t.Fatalf("rename audit: %+v", e)
	}
}

func TestClientsCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	id, err := d.CreateClient(ctx, f.owner, db.ClientInput{Name: " Acme  Corp ", Email: "ops@acme.example", Phone: "+1 555", Address: "1 Main St"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateClient(ctx, f.owner, db.ClientInput{Name: "acme corp"}); db.ErrorCode(err) != db.EConflict {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := d.CreateClient(ctx, f.owner, db.ClientInput{Name: "x", Email: "not an email"}); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("bad e-mail: %v", err)
	}
	if err := d.UpdateClient(ctx, f.owner, id, clientVersion(t, d, f.owner, id), db.ClientInput{Name: "Acme Corporation", Email: "ops@acme.example"}); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "client.update" || !strings.Contains(e.Before, "Acme Corp") {
		t.Fatalf("audit: %+v", e)
	}
	rows, total, _ := d.ListClients(ctx, f.owner, db.ClientFilter{Query: "ops@acme"})
	if total != 1 || rows[0].Name != "Acme Corporation" {
		t.Fatalf("search: %v", rows)
	}
	// A client referred to by trips cannot be deleted; the message says why.
	if _, _, err := d.SetPairing(ctx, f.owner, f.v["in-city"], id, true); err != nil {
		t.Fatal(err)
	}
	if err := d.ExecForTest(ctx, `INSERT INTO trips (account_id, vehicle_id, client_id, trip_date, distance_km, created_at) VALUES (?, ?, ?, '2026-01-05', 12, '')`,
		f.owner.AccountID, f.v["in-city"], id); err != nil {
		t.Fatal(err)
	}
	err = d.DeleteClient(ctx, f.owner, id)
	if db.ErrorCode(err) != db.EConflict || !strings.Contains(err.Error(), "it is the client of 1 trip.") {
		t.Fatalf("delete with trips: %v", err)
	}
	if err := d.ExecForTest(ctx, `DELETE FROM trips`); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteClient(ctx, f.owner, id); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "client.delete" || !strings.Contains(e.Summary, "1 pairing") {
		t.Fatalf("delete audit: %+v", e)
	}
	if _, err := d.Client(ctx, f.owner, id); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("deleted client: %v", err)
	}
}

func TestPairing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	acme, beta := mkClient(t, d, f.owner, "Acme"), mkClient(t, d, f.owner, "Beta")
	m := member(t, d, f.owner, "m@acme.test", perm.Manager)
	grant(t, d, f.owner, m, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, m, "vehicle", f.v["in-region"], db.View, nil)
	ma := actorOf(t, d, m)

	v, _, err := d.SetPairing(ctx, ma, f.v["in-depot"], acme, true)
	if err != nil || v.Clients != 1 {
		t.Fatalf("pair: %+v %v", v, err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "pairing.add" || e.Target != "in-depot – Acme" {
		t.Fatalf("audit: %+v", e)
	}
	// Setting what already holds writes nothing.
	before := lastAudit(t, d, f.owner).ID
	if _, _, err := d.SetPairing(ctx, ma, f.v["in-depot"], acme, true); err != nil || lastAudit(t, d, f.owner).ID != before {
		t.Fatalf("repeat pairing: %v", err)
	}
	// View-only vehicles are not paired; unseen ones are not found.
	if _, _, err := d.SetPairing(ctx, ma, f.v["in-region"], acme, true); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("pair a viewed vehicle: %v", err)
	}
	if _, _, err := d.SetPairing(ctx, ma, f.v["in-other"], acme, true); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("pair an unseen vehicle: %v", err)
	}
	// The grid: the manager's vehicles against the clients, with the pairings among them.
	g, err := d.PairingGrid(ctx, ma, db.PairFilter{Vehicles: db.VehicleFilter{PerPage: 10}, Clients: db.ClientFilter{PerPage: 10}})
	// One page holds each axis whole: its total is known without a count.
	if err != nil {
		t.Fatal(err)
	}
	if g.VehicleKeys.Total != 3 || g.ClientKeys.Total != 2 || g.VehicleKeys.Next != "" || g.ClientKeys.Next != "" || !g.Paired.Has(f.v["in-depot"], acme) || g.Paired.Has(f.v["in-depot"], beta) || len(g.Paired) != 1 {
		t.Fatalf("grid: %+v", g)
	}
	g, _ = d.PairingGrid(ctx, ma, db.PairFilter{Vehicles: db.VehicleFilter{Query: "depot"}, Clients: db.ClientFilter{Query: "bet"}})
	if g.VehicleKeys.Total != 1 || g.ClientKeys.Total != 1 || g.Clients[0].Name != "Beta" {
		t.Fatalf("grid search: %+v", g)
	}
	// From either side, with "paired only".
	cs, n, p, err := d.VehicleClients(ctx, ma, f.v["in-depot"], db.ClientFilter{PairedWith: f.v["in-depot"]})
	if err != nil || n != 1 || cs[0].Name != "Acme" || !p.Has(f.v["in-depot"], acme) {
		t.Fatalf("vehicle's clients: %v %d %v", cs, n, err)
	}
	vs, n, _, err := d.ClientVehicles(ctx, ma, acme, db.VehicleFilter{PairedWith: acme})
	if err != nil || n != 1 || vs[0].Name != "in-depot" {
		t.Fatalf("client's vehicles: %v %d %v", vs, n, err)
	}
	// The client's page never lists vehicles outside the actor's scope.
	if _, _, err := d.SetPairing(ctx, f.owner, f.v["in-other"], acme, true); err != nil {
		t.Fatal(err)
	}
	if _, n, _, _ := d.ClientVehicles(ctx, ma, acme, db.VehicleFilter{PairedWith: acme}); n != 1 {
		t.Fatalf("client's vehicles leak: %d", n)
	}
	if _, _, _, err := d.VehicleClients(ctx, ma, f.v["in-other"], db.ClientFilter{}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("unseen vehicle's clients: %v", err)
	}
}

func asErr(err error, e **db.Error) bool { return errors.As(err, e) }
