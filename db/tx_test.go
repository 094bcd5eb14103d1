package db_test

import (
	"context"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// Every check that guards a write runs inside the write's transaction: a
// change that lands after the request's first reads, just before its
// write transaction opens, is seen by the check. Here the Owner makes the
// target an Admin (out of a Manager's reach) at exactly that moment.
func TestReachCheckedInsideTheWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		write func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error
	}{
		{"update", func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error {
			return d.UpdateMember(ctx, mgr, target, f.version, db.MemberEdit{FirstName: "X", RoleID: f.driverRole, Channel: "web"})
		}},
		{"deactivate", func(d *db.DB, mgr *db.Actor, target int64, _ writeFixture) error {
			return d.SetStatus(ctx, mgr, target, "deactivated", db.Handover{})
		}},
		{"delete", func(d *db.DB, mgr *db.Actor, target int64, _ writeFixture) error {
			return d.DeleteMember(ctx, mgr, target)
		}},
		{"preview", func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error {
			return d.StartPreview(ctx, mgr, f.session, target)
		}},
		{"access mode", func(d *db.DB, mgr *db.Actor, target int64, _ writeFixture) error {
			return d.SetAccessMode(ctx, mgr, target, "all")
		}},
		{"grant", func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error {
			return d.Grant(ctx, mgr, target, db.GrantInput{Kind: "vehicle", TargetID: f.vehicle, Level: db.View})
		}},
		{"revoke", func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error {
			return d.Revoke(ctx, mgr, target, "vehicle", f.granted)
		}},
		{"bulk role", func(d *db.DB, mgr *db.Actor, target int64, f writeFixture) error {
			res, err := d.Bulk(ctx, mgr, "role", f.driverRole, []int64{target})
			if err == nil && res.Changed != 0 {
				t.Errorf("bulk changed %d", res.Changed)
			}
			if err == nil && len(res.Skipped) == 1 {
				return db.Errorf(db.EForbidden, "%s", res.Skipped[0])
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := open(t)
			o := account(t, d, "Acme", "o@acme.test")
			// Managers here may delete members too, so that every write
			// gets as far as its reach check.
			r, err := d.Role(ctx, o, roleID(t, d, o, perm.Manager))
			if err != nil {
				t.Fatal(err)
			}
			set := r.Perms.Clone()
			set[perm.UsersDelete] = map[string]int{}
			if _, err := d.SaveRole(ctx, o, db.RoleSave{RoleID: r.ID, Version: r.Version, Perms: set}); err != nil {
				t.Fatal(err)
			}
			mgrID := member(t, d, o, "m@acme.test", perm.Manager)
			if err := d.SetAccessMode(ctx, o, mgrID, "all"); err != nil {
				t.Fatal(err)
			}
			mgr := actorOf(t, d, mgrID)
			target := member(t, d, o, "d@acme.test", perm.Driver)
			f := writeFixture{driverRole: roleID(t, d, o, perm.Driver), vehicle: mkVehicle(t, d, o, "Van 1", 0)}
			f.granted = mkVehicle(t, d, o, "Van 2", 0)
			grant(t, d, o, target, "vehicle", f.granted, db.View, nil)
			f.version = memberVersion(t, d, o, target)
			if f.session, err = d.CreateSession(ctx, mgr.UserID, mgr.MemberID, "test", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			// The Manager may act on the Driver now …
			if err := d.CheckReach(ctx, mgr, target); err != nil {
				t.Fatalf("reach before: %v", err)
			}
			// … but the Owner makes the Driver an Admin just before the write.
			d.BeforeNextWriteForTest(func() {
				m, err := d.Member(ctx, o, target)
				if err != nil {
					t.Error(err)
					return
				}
				if err := d.UpdateMember(ctx, o, target, m.Version, db.MemberEdit{FirstName: m.FirstName, RoleID: roleID(t, d, o, perm.Admin), Channel: m.Channel}); err != nil {
					t.Error(err)
				}
			})
			err = tc.write(d, mgr, target, f)
			if db.ErrorCode(err) != db.EForbidden || !strings.Contains(err.Error(), "permissions you do not hold") {
				t.Fatalf("written past the check: %v", err)
			}
			// Nothing the Manager did is recorded: the last event is the Owner's.
			if e := lastAudit(t, d, o); e.ActorID != o.MemberID || e.Kind != "member.update" {
				t.Fatalf("last audit event: %+v", e)
			}
			m, err := d.Member(ctx, o, target)
			if err != nil || m.Status != "active" || m.RoleName != "Admin" || m.VehicleAccess != "selected" {
				t.Fatalf("target changed: %+v %v", m, err)
			}
		})
	}
}

type writeFixture struct {
	version          int
	driverRole       int64
	vehicle, granted int64
	session          string
}

// A save from an old version is refused, names who saved meanwhile, and
// changes nothing; a save from the current version goes through and bumps it.
func TestStaleSaveRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	admID := member(t, d, o, "a@acme.test", perm.Admin)
	if err := d.SetAccessMode(ctx, o, admID, "all"); err != nil {
		t.Fatal(err)
	}
	adm := actorOf(t, d, admID)
	driver := member(t, d, o, "d@acme.test", perm.Driver)
	g := mkGroup(t, d, o, "North", 0)
	v := mkVehicle(t, d, o, "Van 1", g)
	c := mkClient(t, d, o, "Zenith")
	driverRole := roleID(t, d, o, perm.Driver)

	for _, tc := range []struct {
		name    string
		version func() int
		save    func(a *db.Actor, version int, label string) error
		current func() string
	}{
		{"member", func() int { return memberVersion(t, d, o, driver) },
			func(a *db.Actor, version int, label string) error {
				return d.UpdateMember(ctx, a, driver, version, db.MemberEdit{FirstName: "Dee", LastName: label, RoleID: driverRole, Channel: "web"})
			},
			func() string { m, _ := d.Member(ctx, o, driver); return m.LastName }},
		{"vehicle", func() int { return vehicleVersion(t, d, o, v) },
			func(a *db.Actor, version int, label string) error {
				return d.UpdateVehicle(ctx, a, v, version, db.VehicleInput{Name: label, GroupID: g})
			},
			func() string { x, _ := d.Vehicle(ctx, o, v); return x.Name }},
		{"client", func() int { return clientVersion(t, d, o, c) },
			func(a *db.Actor, version int, label string) error {
				return d.UpdateClient(ctx, a, c, version, db.ClientInput{Name: label})
			},
			func() string { x, _ := d.Client(ctx, o, c); return x.Name }},
		{"group", func() int { return groupVersion(t, d, o, g) },
			func(a *db.Actor, version int, label string) error {
				return d.UpdateGroup(ctx, a, g, version, label, 0)
			},
			func() string {
				gs, _ := d.Groups(ctx, o)
				for _, x := range gs {
					if x.ID == g {
						return x.Name
					}
				}
				return ""
			}},
	} {
		start := tc.version()
		before := lastAudit(t, d, o).ID
		if err := tc.save(adm, start, tc.name+" by admin"); err != nil {
			t.Fatalf("%s: first save: %v", tc.name, err)
		}
		if got := tc.version(); got != start+1 {
			t.Fatalf("%s: version %d after a save from %d", tc.name, got, start)
		}
		err := tc.save(o, start, tc.name+" by owner")
		if !db.IsStale(err) || db.ErrorCode(err) != db.EConflict {
			t.Fatalf("%s: stale save: %v", tc.name, err)
		}
		if msg := err.(*db.Error).Message; !strings.Contains(msg, "a@acme.test changed this "+tc.name+" at ") ||
			!strings.Contains(msg, "their current values are shown beside yours") {
			t.Fatalf("%s: message %q", tc.name, msg)
		}
		if got := tc.current(); got != tc.name+" by admin" {
			t.Fatalf("%s: lost update: %q", tc.name, got)
		}
		if e := lastAudit(t, d, o); e.ID != before+1 || e.ActorID != admID {
			t.Fatalf("%s: audit after the refusal: %+v (before %d)", tc.name, e, before)
		}
		// From the current version, the owner's save goes through.
		if err := tc.save(o, start+1, tc.name+" by owner"); err != nil || tc.current() != tc.name+" by owner" {
			t.Fatalf("%s: save from the current version: %v", tc.name, err)
		}
	}
}

// Changes not made from the member's form make a form opened before them
// stale: status, access mode, profile.
func TestMemberVersionMovesWithEveryChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	driver := member(t, d, o, "d@acme.test", perm.Driver)
	steps := []func() error{
		func() error { return d.SetStatus(ctx, o, driver, "deactivated", db.Handover{}) },
		func() error { return d.SetStatus(ctx, o, driver, "active", db.Handover{}) },
		func() error { return d.SetAccessMode(ctx, o, driver, "all") },
		func() error { return d.UpdateProfile(ctx, actorOf(t, d, driver), "Dee", "Driver", "") },
		func() error {
			_, err := d.Bulk(ctx, o, "role", roleID(t, d, o, perm.Accountant), []int64{driver})
			return err
		},
	}
	for i, step := range steps {
		v := memberVersion(t, d, o, driver)
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := memberVersion(t, d, o, driver); got != v+1 {
			t.Fatalf("step %d: version %d, want %d", i, got, v+1)
		}
	}
}

// The actor is read again inside the write too: a Manager made a Driver
// while their request is under way can no longer change anyone with it.
func TestActorReadAgainInsideTheWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	mgrID := member(t, d, o, "m@acme.test", perm.Manager)
	mgr := actorOf(t, d, mgrID)
	target := member(t, d, o, "d@acme.test", perm.Driver)
	v := memberVersion(t, d, o, target)
	d.BeforeNextWriteForTest(func() {
		m, _ := d.Member(ctx, o, mgrID)
		if err := d.UpdateMember(ctx, o, mgrID, m.Version, db.MemberEdit{FirstName: m.FirstName, RoleID: roleID(t, d, o, perm.Driver), Channel: m.Channel}); err != nil {
			t.Error(err)
		}
	})
	err := d.UpdateMember(ctx, mgr, target, v, db.MemberEdit{FirstName: "X", RoleID: roleID(t, d, o, perm.Driver), Channel: "both"})
	if db.ErrorCode(err) != db.EForbidden || !strings.Contains(err.Error(), "Manage users") {
		t.Fatalf("a demoted manager's write: %v", err)
	}
	if m, _ := d.Member(ctx, o, target); m.FirstName == "X" || m.Version != v {
		t.Fatalf("target changed: %+v", m)
	}
	// Deactivated meanwhile: refused as well.
	o2 := actorOf(t, d, o.MemberID)
	if err := d.SetStatus(ctx, o2, mgrID, "deactivated", db.Handover{}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetStatus(ctx, mgr, target, "deactivated", db.Handover{}); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("a deactivated manager's write: %v", err)
	}
}
