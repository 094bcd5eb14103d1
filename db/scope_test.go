package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// fleet is a small account for scope tests:
//
//	Region ─ City ─ Depot
//	Other
//
// with one vehicle in each group ("in-region", "in-city", "in-depot",
// "in-other") and one in no group ("loose").
type fleet struct {
	d                         *db.DB
	owner                     *db.Actor
	region, city, depot, othr int64
	v                         map[string]int64
}

func newFleet(t testing.TB) *fleet {
	t.Helper()
	d := open(t)
	f := &fleet{d: d, owner: account(t, d, "Acme", "o@acme.test"), v: map[string]int64{}}
	f.region = mkGroup(t, d, f.owner, "Region", 0)
	f.city = mkGroup(t, d, f.owner, "City", f.region)
	f.depot = mkGroup(t, d, f.owner, "Depot", f.city)
	f.othr = mkGroup(t, d, f.owner, "Other", 0)
	for name, g := range map[string]int64{"in-region": f.region, "in-city": f.city, "in-depot": f.depot, "in-other": f.othr, "loose": 0} {
		f.v[name] = mkVehicle(t, d, f.owner, name, g)
	}
	return f
}

// setPaid sets the number of paid vehicles of the account's subscription.
func setPaid(t testing.TB, d *db.DB, a *db.Actor, n int) {
	t.Helper()
	if err := d.ExecForTest(context.Background(), `UPDATE subscriptions SET paid_vehicles = ? WHERE id = (SELECT subscription_id FROM accounts WHERE id = ?)`, n, a.AccountID); err != nil {
		t.Fatal(err)
	}
}

func mkGroup(t testing.TB, d *db.DB, a *db.Actor, name string, parent int64) int64 {
	t.Helper()
	id, err := d.CreateGroup(context.Background(), a, name, parent)
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	return id
}

func mkVehicle(t testing.TB, d *db.DB, a *db.Actor, name string, group int64) int64 {
	t.Helper()
	id, err := d.CreateVehicle(context.Background(), a, db.VehicleInput{Name: name, GroupID: group})
	if err != nil {
		t.Fatalf("vehicle %s: %v", name, err)
	}
	return id
}

func mkClient(t testing.TB, d *db.DB, a *db.Actor, name string) int64 {
	t.Helper()
	id, err := d.CreateClient(context.Background(), a, db.ClientInput{Name: name})
	if err != nil {
		t.Fatalf("client %s: %v", name, err)
	}
	return id
}

// actorOf loads a member as an actor, as a request would.
func actorOf(t testing.TB, d *db.DB, memberID int64) *db.Actor {
	t.Helper()
	a, err := d.ActorByMember(context.Background(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func grant(t testing.TB, d *db.DB, by *db.Actor, member int64, kind string, id int64, lvl db.Level, ends *time.Time) {
	t.Helper()
	if err := d.Grant(context.Background(), by, member, db.GrantInput{Kind: kind, TargetID: id, Level: lvl, EndsAt: ends}); err != nil {
		t.Fatalf("grant %s %d %s: %v", kind, id, lvl, err)
	}
}

// seen lists the names of the vehicles an actor sees (all statuses) with
// their level, e.g. "in-city:manage".
func seen(t testing.TB, d *db.DB, a *db.Actor) []string {
	t.Helper()
	rows, total, err := d.ListVehicles(context.Background(), a, db.VehicleFilter{Status: "all", PerPage: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(rows) {
		t.Fatalf("count %d but %d rows", total, len(rows))
	}
	var out []string
	for _, v := range rows {
		out = append(out, v.Name+":"+v.Level.String())
	}
	sort.Strings(out)
	return out
}

// same compares two lists as sets (order ignored).
func same(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	got = append([]string(nil), got...)
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestScopeResolution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	m := member(t, d, f.owner, "m@acme.test", perm.Manager)

	// Selected access without grants: nothing, and single vehicles are 404.
	same(t, "no grants", seen(t, d, actorOf(t, d, m)))
	if _, err := d.Vehicle(ctx, actorOf(t, d, m), f.v["in-city"]); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("out of scope vehicle: %v", err)
	}

	// A direct grant shows that vehicle only, at its level.
	grant(t, d, f.owner, m, "vehicle", f.v["in-other"], db.View, nil)
	same(t, "direct", seen(t, d, actorOf(t, d, m)), "in-other:view")

	// A grant on a group covers its sub-groups, however deep.
	grant(t, d, f.owner, m, "group", f.city, db.View, nil)
	same(t, "group+nested", seen(t, d, actorOf(t, d, m)), "in-other:view", "in-city:view", "in-depot:view")

	// The highest level wins: manage on the depot, view from the city.
	grant(t, d, f.owner, m, "group", f.depot, db.Manage, nil)
	same(t, "view vs manage", seen(t, d, actorOf(t, d, m)), "in-other:view", "in-city:view", "in-depot:manage")
	if lvl, err := d.VehicleLevel(ctx, actorOf(t, d, m), f.v["in-depot"]); err != nil || lvl != db.Manage {
		t.Fatalf("level on depot vehicle: %v %v", lvl, err)
	}

	// Moving a vehicle into a granted group shows it on the next query;
	// moving it out hides it.
	if err := d.UpdateVehicle(ctx, f.owner, f.v["loose"], vehicleVersion(t, d, f.owner, f.v["loose"]), db.VehicleInput{Name: "loose", GroupID: f.depot}); err != nil {
		t.Fatal(err)
	}
	same(t, "moved in", seen(t, d, actorOf(t, d, m)), "in-other:view", "in-city:view", "in-depot:manage", "loose:manage")
	if err := d.UpdateVehicle(ctx, f.owner, f.v["loose"], vehicleVersion(t, d, f.owner, f.v["loose"]), db.VehicleInput{Name: "loose", GroupID: f.othr}); err != nil {
		t.Fatal(err)
	}
	same(t, "moved out", seen(t, d, actorOf(t, d, m)), "in-other:view", "in-city:view", "in-depot:manage")

	// Moving a group moves its vehicles with it.
	if err := d.UpdateGroup(ctx, f.owner, f.othr, groupVersion(t, d, f.owner, f.othr), "Other", f.city); err != nil {
		t.Fatal(err)
	}
	same(t, "group moved under city", seen(t, d, actorOf(t, d, m)), "in-other:view", "in-city:view", "in-depot:manage", "loose:view")

	// All-vehicles access sees everything at manage; so does the Owner.
	all := member(t, d, f.owner, "all@acme.test", perm.Accountant)
	if err := d.SetAccessMode(ctx, f.owner, all, "all"); err != nil {
		t.Fatal(err)
	}
	everything := []string{"in-region:manage", "in-city:manage", "in-depot:manage", "in-other:manage", "loose:manage"}
	same(t, "all vehicles", seen(t, d, actorOf(t, d, all)), everything...)
	same(t, "owner", seen(t, d, f.owner), everything...)
}

func TestGrantEndsWithoutAnyoneActing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	d.Now = func() time.Time { return clock }
	m := member(t, d, f.owner, "temp@acme.test", perm.Driver)
	friday := db.EndOfDay(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	grant(t, d, f.owner, m, "vehicle", f.v["in-city"], db.Manage, &friday)
	grant(t, d, f.owner, m, "group", f.othr, db.View, &friday)
	same(t, "before the end", seen(t, d, actorOf(t, d, m)), "in-city:manage", "in-other:view")

	soon, err := d.GrantsEndingSoon(ctx, f.owner, m, 7*24*time.Hour)
	if err != nil || len(soon) != 2 || soon[0].LastDay() != "2026-03-06" {
		t.Fatalf("ending soon: %+v %v", soon, err)
	}
	if soon, _ := d.GrantsEndingSoon(ctx, f.owner, m, 24*time.Hour); len(soon) != 0 {
		t.Fatalf("ending within a day: %+v", soon)
	}

	clock = time.Date(2026, 3, 6, 23, 59, 59, 0, time.UTC) // the last second of Friday
	same(t, "last second", seen(t, d, actorOf(t, d, m)), "in-city:manage", "in-other:view")
	clock = time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	same(t, "after the end", seen(t, d, actorOf(t, d, m)))
	if _, err := d.VehicleLevel(ctx, actorOf(t, d, m), f.v["in-city"]); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("ended grant still applies: %v", err)
	}
	// The ended grants are still listed (as ended) for whoever tidies up.
	acc, err := d.MemberAccess(ctx, f.owner, m)
	if err != nil || len(acc.Grants) != 2 || acc.Grants[0].Active {
		t.Fatalf("member access after end: %+v %v", acc, err)
	}
}

// TestScopeShapesAgree builds random trees and grants and checks that the
// set form of the scope (lists) and the single-vehicle form (checks)
// always give the same answer.
func TestScopeShapesAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	d := open(t) // one account per round; accounts never mix
	for round := 0; round < 4; round++ {
		o := account(t, d, "Acme", fmt.Sprintf("o%d@acme.test", round))
		setPaid(t, d, o, 100)
		groups := []int64{0}
		for i := 0; i < 12; i++ {
			parent := groups[rng.IntN(len(groups))]
			groups = append(groups, mkGroup(t, d, o, fmt.Sprintf("g%d", i), parent))
		}
		var vehicles []int64
		for i := 0; i < 30; i++ {
			vehicles = append(vehicles, mkVehicle(t, d, o, fmt.Sprintf("v%02d", i), groups[rng.IntN(len(groups))]))
		}
		past := time.Now().Add(-time.Hour)
		future := time.Now().Add(48 * time.Hour)
		var members []int64
		for i := 0; i < 4; i++ {
			m := member(t, d, o, fmt.Sprintf("m%d-%d@acme.test", round, i), perm.Manager)
			members = append(members, m)
			for j := 0; j < 4; j++ {
				lvl := db.Level(1 + rng.IntN(2))
				var ends *time.Time
				if rng.IntN(3) == 0 {
					ends = &future
				}
				if rng.IntN(2) == 0 {
					grant(t, d, o, m, "group", groups[1+rng.IntN(len(groups)-1)], lvl, ends)
				} else {
					grant(t, d, o, m, "vehicle", vehicles[rng.IntN(len(vehicles))], lvl, ends)
				}
			}
			// An ended grant (written directly: Grant refuses past ends).
			if err := d.ExecForTest(ctx, `INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, ends_at, created_at) VALUES (?, ?, 'manage', ?, '')
				ON CONFLICT (member_id, vehicle_id) DO UPDATE SET level = excluded.level, ends_at = excluded.ends_at, created_at = excluded.created_at`,
				m, vehicles[rng.IntN(len(vehicles))], past.UTC().Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range members {
			a := actorOf(t, d, m)
			rows, _, err := d.ListVehicles(ctx, a, db.VehicleFilter{Status: "all", PerPage: 1000})
			if err != nil {
				t.Fatal(err)
			}
			set := map[int64]db.Level{}
			for _, v := range rows {
				set[v.ID] = v.Level
			}
			for _, v := range vehicles {
				lvl, err := d.VehicleLevel(ctx, a, v)
				if db.ErrorCode(err) == db.ENotFound {
					lvl = db.NoAccess
				} else if err != nil {
					t.Fatal(err)
				}
				if set[v] != lvl {
					t.Fatalf("round %d member %d vehicle %d: list says %s, check says %s", round, m, v, set[v], lvl)
				}
			}
		}
	}
}

func TestAccountsNeverMix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	other := account(t, d, "Beta", "o@beta.test")
	bg := mkGroup(t, d, other, "Beta group", 0)
	bv := mkVehicle(t, d, other, "beta-van", bg)
	bc := mkClient(t, d, other, "Beta client")
	ac := mkClient(t, d, f.owner, "Acme client")

	// Every finder answers "not found" for the other account's ids, even to its Owner.
	if _, err := d.Vehicle(ctx, f.owner, bv); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("vehicle: %v", err)
	}
	if _, err := d.Client(ctx, f.owner, bc); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("client: %v", err)
	}
	if err := d.UpdateVehicle(ctx, f.owner, bv, 1, db.VehicleInput{Name: "x"}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("update: %v", err)
	}
	if err := d.ArchiveVehicle(ctx, f.owner, bv); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("archive: %v", err)
	}
	if err := d.DeleteClient(ctx, f.owner, bc); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("delete client: %v", err)
	}
	if err := d.UpdateGroup(ctx, f.owner, bg, 1, "x", 0); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("group: %v", err)
	}
	if _, _, err := d.SetPairing(ctx, f.owner, f.v["in-city"], bc, true); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("pair with other account's client: %v", err)
	}
	if _, _, err := d.SetPairing(ctx, f.owner, bv, ac, true); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("pair other account's vehicle: %v", err)
	}
	// Forms cannot point at another account's group.
	if _, err := d.CreateVehicle(ctx, f.owner, db.VehicleInput{Name: "x", GroupID: bg}); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("vehicle into other account's group: %v", err)
	}
	if err := d.Grant(ctx, f.owner, other.MemberID, db.GrantInput{Kind: "vehicle", TargetID: f.v["in-city"], Level: db.View}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("grant to other account's member: %v", err)
	}
	if err := d.Grant(ctx, f.owner, member(t, d, f.owner, "x@acme.test", perm.Driver), db.GrantInput{Kind: "vehicle", TargetID: bv, Level: db.View}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("grant on other account's vehicle: %v", err)
	}
	// Lists hold only the account's own rows.
	if _, n, _ := d.ListVehicles(ctx, other, db.VehicleFilter{Status: "all"}); n != 1 {
		t.Fatalf("beta sees %d vehicles", n)
	}
	if _, n, _ := d.ListClients(ctx, other, db.ClientFilter{}); n != 1 {
		t.Fatalf("beta sees %d clients", n)
	}
	if gs, _ := d.Groups(ctx, other); len(gs) != 1 {
		t.Fatalf("beta sees %d groups", len(gs))
	}
	// And the schema refuses cross-account rows outright.
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO vehicle_clients (vehicle_id, client_id, created_at) VALUES (%d, %d, '')`, f.v["in-city"], bc),
		fmt.Sprintf(`INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, created_at) VALUES (%d, %d, 'view', '')`, other.MemberID, f.v["in-city"]),
		fmt.Sprintf(`INSERT INTO member_group_grants (member_id, group_id, level, created_at) VALUES (%d, %d, 'view', '')`, other.MemberID, f.city),
		fmt.Sprintf(`UPDATE vehicles SET group_id = %d WHERE id = %d`, bg, f.v["in-city"]),
		fmt.Sprintf(`UPDATE vehicle_groups SET parent_id = %d WHERE id = %d`, bg, f.city),
		fmt.Sprintf(`INSERT INTO trips (account_id, vehicle_id, client_id, trip_date, created_at) VALUES (%d, %d, %d, '2026-01-01', '')`, f.owner.AccountID, f.v["in-city"], bc),
	} {
		if err := d.ExecForTest(ctx, q); err == nil {
			t.Errorf("schema accepted: %s", q)
		}
	}
}

func TestClientRule4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	acme, beta, gamma := mkClient(t, d, f.owner, "Acme"), mkClient(t, d, f.owner, "Beta"), mkClient(t, d, f.owner, "Gamma")
	pair := func(v string, c int64) {
		t.Helper()
		if _, _, err := d.SetPairing(ctx, f.owner, f.v[v], c, true); err != nil {
			t.Fatal(err)
		}
	}
	clients := func(a *db.Actor) []string {
		t.Helper()
		rows, _, err := d.ListClients(ctx, a, db.ClientFilter{PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range rows {
			out = append(out, c.Name)
		}
		return out
	}
	// A driver (no clients.manage) sees the clients usable with their vehicles.
	drv := member(t, d, f.owner, "drv@acme.test", perm.Driver)
	same(t, "no vehicles, no clients", clients(actorOf(t, d, drv)))

	grant(t, d, f.owner, drv, "vehicle", f.v["in-city"], db.Manage, nil)
	same(t, "unpaired vehicle: any client", clients(actorOf(t, d, drv)), "Acme", "Beta", "Gamma")

	pair("in-city", acme)
	same(t, "paired vehicle: its clients", clients(actorOf(t, d, drv)), "Acme")
	if _, err := d.Client(ctx, actorOf(t, d, drv), beta); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("client outside the client-usability rule: %v", err)
	}
	// Another visible vehicle paired with Beta adds Beta; one without pairings adds all.
	pair("in-depot", beta)
	grant(t, d, f.owner, drv, "vehicle", f.v["in-depot"], db.View, nil)
	same(t, "two paired vehicles", clients(actorOf(t, d, drv)), "Acme", "Beta")
	grant(t, d, f.owner, drv, "vehicle", f.v["loose"], db.View, nil)
	same(t, "plus an unpaired vehicle", clients(actorOf(t, d, drv)), "Acme", "Beta", "Gamma")
	// An archived vehicle is not usable, so it opens no clients.
	if err := d.ArchiveVehicle(ctx, f.owner, f.v["loose"]); err != nil {
		t.Fatal(err)
	}
	same(t, "unpaired but archived", clients(actorOf(t, d, drv)), "Acme", "Beta")

	// clients.manage sees every client, whatever the vehicles.
	mgr := member(t, d, f.owner, "mgr@acme.test", perm.Manager)
	same(t, "clients.manage", clients(actorOf(t, d, mgr)), "Acme", "Beta", "Gamma")

	// Clients usable with one vehicle: its pairings, or all when it has none.
	usable := func(v string) []string {
		rows, _, err := d.ClientsForVehicle(ctx, actorOf(t, d, drv), f.v[v], db.ClientFilter{PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range rows {
			out = append(out, c.Name)
		}
		return out
	}
	same(t, "usable with in-city", usable("in-city"), "Acme")
	if err := d.CheckClientForVehicle(ctx, actorOf(t, d, drv), f.v["in-city"], acme); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckClientForVehicle(ctx, actorOf(t, d, drv), f.v["in-city"], gamma); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("gamma with in-city: %v", err)
	}
	if _, _, err := d.ClientsForVehicle(ctx, actorOf(t, d, drv), f.v["in-other"], db.ClientFilter{}); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("clients for an unseen vehicle: %v", err)
	}
	// Unpairing the last client makes the vehicle usable with anyone again.
	if _, _, err := d.SetPairing(ctx, f.owner, f.v["in-city"], acme, false); err != nil {
		t.Fatal(err)
	}
	same(t, "unpaired again", usable("in-city"), "Acme", "Beta", "Gamma")
}
