package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

func TestGrantingGivesOnlyWhatOneHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return clock }
	mgr := member(t, d, f.owner, "mgr@acme.test", perm.Manager)
	drv := member(t, d, f.owner, "drv@acme.test", perm.Driver)
	endMonth := db.EndOfDay(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
	grant(t, d, f.owner, mgr, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, mgr, "group", f.othr, db.View, nil)
	grant(t, d, f.owner, mgr, "vehicle", f.v["in-region"], db.Manage, &endMonth)
	ma := actorOf(t, d, mgr)
	give := func(kind string, id int64, lvl db.Level, ends *time.Time) error {
		return d.Grant(ctx, ma, drv, db.GrantInput{Kind: kind, TargetID: id, Level: lvl, EndsAt: ends})
	}
	// Within their own access: a sub-group at manage, a vehicle below it.
	if err := give("group", f.depot, db.Manage, nil); err != nil {
		t.Fatal(err)
	}
	if err := give("vehicle", f.v["in-city"], db.View, nil); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "access.grant" || e.Target != "drv@acme.test" || e.Summary != "Access given: vehicle in-city, view" {
		t.Fatalf("audit: %+v", e)
	}
	// Not above their level, not outside their access.
	var e *db.Error
	if err := give("group", f.othr, db.Manage, nil); !asErr(err, &e) || e.Code != db.EForbidden || e.Field != "level" {
		t.Fatalf("manage on a viewed group: %v", err)
	}
	if err := give("group", f.othr, db.View, nil); err != nil {
		t.Fatalf("view on a viewed group: %v", err)
	}
	if err := give("group", f.region, db.View, nil); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("group above theirs (visible through a vehicle): %v", err)
	}
	if err := give("vehicle", f.v["loose"], db.View, nil); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("unseen vehicle: %v", err)
	}
	// Not longer than their own access lasts.
	if err := give("vehicle", f.v["in-region"], db.Manage, nil); !asErr(err, &e) || e.Field != "ends_on" || !strings.Contains(e.Message, "2026-03-31") {
		t.Fatalf("open-ended beyond their end: %v", err)
	}
	later := db.EndOfDay(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	if err := give("vehicle", f.v["in-region"], db.Manage, &later); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("later than their end: %v", err)
	}
	if err := give("vehicle", f.v["in-region"], db.Manage, &endMonth); err != nil {
		t.Fatal(err)
	}
	// Ends in the past are refused.
	past := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := give("vehicle", f.v["in-city"], db.View, &past); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("past end: %v", err)
	}
	// "All vehicles" only from someone who has all vehicles.
	if err := d.SetAccessMode(ctx, ma, drv, "all"); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("manager gives all vehicles: %v", err)
	}
	// Reach: not themselves, not the Owner, not a wider role.
	admin := member(t, d, f.owner, "adm@acme.test", perm.Admin)
	for _, who := range []int64{mgr, f.owner.MemberID, admin} {
		if err := d.Grant(ctx, ma, who, db.GrantInput{Kind: "group", TargetID: f.depot, Level: db.View}); db.ErrorCode(err) != db.EForbidden {
			t.Fatalf("grant to %d: %v", who, err)
		}
	}
	// Revoking: what they could give, they can take away; not more.
	if err := d.Revoke(ctx, ma, drv, "vehicle", f.v["in-city"]); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "access.revoke" || !strings.Contains(e.Before, "in-city") {
		t.Fatalf("revoke audit: %+v", e)
	}
	grant(t, d, f.owner, drv, "group", f.othr, db.Manage, nil)
	if err := d.Revoke(ctx, ma, drv, "group", f.othr); db.ErrorCode(err) != db.EForbidden {
		t.Fatalf("revoke manage on a viewed group: %v", err)
	}
	if err := d.Revoke(ctx, ma, drv, "vehicle", f.v["in-depot"]); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("revoke a grant that does not exist: %v", err)
	}
	// The Owner switches the mode; it is audited.
	if err := d.SetAccessMode(ctx, f.owner, drv, "all"); err != nil {
		t.Fatal(err)
	}
	if e := lastAudit(t, d, f.owner); e.Kind != "access.mode" || !strings.Contains(e.After, `"all"`) {
		t.Fatalf("mode audit: %+v", e)
	}
}

func TestMemberAccessHidesWhatTheViewerDoesNotSee(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	mgr := member(t, d, f.owner, "mgr@acme.test", perm.Manager)
	drv := member(t, d, f.owner, "drv@acme.test", perm.Driver)
	grant(t, d, f.owner, mgr, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, drv, "group", f.depot, db.View, nil)
	grant(t, d, f.owner, drv, "group", f.othr, db.View, nil)
	grant(t, d, f.owner, drv, "vehicle", f.v["loose"], db.Manage, nil)
	acc, err := d.MemberAccess(ctx, actorOf(t, d, mgr), drv)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Grants) != 1 || acc.Grants[0].Name != "City › Depot" || acc.Hidden != 2 || acc.Mode != "selected" {
		t.Fatalf("as the manager: %+v", acc)
	}
	acc, _ = d.MemberAccess(ctx, f.owner, drv)
	if len(acc.Grants) != 3 || acc.Hidden != 0 || acc.Grants[0].Kind != "vehicle" {
		t.Fatalf("as the owner: %+v", acc)
	}
	if _, err := d.MemberAccess(ctx, f.owner, account(t, d, "Beta", "o@beta.test").MemberID); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("member of another account: %v", err)
	}
}

func TestExplainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFleet(t)
	d := f.d
	mgr := member(t, d, f.owner, "mgr@acme.test", perm.Manager)
	drv := member(t, d, f.owner, "drv@acme.test", perm.Driver)
	acct := member(t, d, f.owner, "acct@acme.test", perm.Accountant)
	gone := member(t, d, f.owner, "gone@acme.test", perm.Driver)
	grant(t, d, f.owner, mgr, "group", f.city, db.Manage, nil)
	grant(t, d, f.owner, drv, "vehicle", f.v["in-depot"], db.View, nil)
	grant(t, d, f.owner, drv, "group", f.depot, db.View, nil)
	grant(t, d, f.owner, gone, "vehicle", f.v["in-depot"], db.View, nil)
	if err := d.ExecForTest(ctx, `UPDATE members SET status = 'deactivated' WHERE id = ?`, gone); err != nil {
		t.Fatal(err)
	}
	if err := d.SetAccessMode(ctx, f.owner, acct, "all"); err != nil {
		t.Fatal(err)
	}

	// "What can this person see?"
	vs, total, err := d.MemberVehicles(ctx, f.owner, mgr, db.VehicleFilter{Status: "all"})
	if err != nil || total != 2 {
		t.Fatalf("manager's vehicles: %d %v", total, err)
	}
	if vs[0].Name != "in-city" || len(vs[0].Reasons) != 1 || vs[0].Reasons[0].String() != "group Region › City, manage" {
		t.Fatalf("reasons: %+v", vs[0])
	}
	vs, _, _ = d.MemberVehicles(ctx, f.owner, drv, db.VehicleFilter{})
	var rs []string
	for _, r := range vs[0].Reasons {
		rs = append(rs, r.String())
	}
	same(t, "driver's reasons", rs, "group Region › City › Depot, view", "direct, view")
	vs, total, _ = d.MemberVehicles(ctx, f.owner, acct, db.VehicleFilter{Status: "all", PerPage: 2})
	if total != 5 || len(vs) != 2 || vs[0].Reasons[0].String() != "all vehicles" {
		t.Fatalf("all vehicles: %d %+v", total, vs)
	}
	// Seen by the manager, the accountant's list is cut to the manager's scope.
	if _, total, _ = d.MemberVehicles(ctx, actorOf(t, d, mgr), acct, db.VehicleFilter{Status: "all"}); total != 2 {
		t.Fatalf("accountant's vehicles as the manager sees them: %d", total)
	}

	// "Who can see this vehicle?"
	ms, total, err := d.VehicleMembers(ctx, f.owner, f.v["in-depot"], 1, 25)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, m := range ms {
		var rs []string
		for _, r := range m.Reasons {
			rs = append(rs, r.String())
		}
		who = append(who, m.Email+"="+strings.Join(rs, "+"))
	}
	same(t, "who sees in-depot", who,
		"o@acme.test=all vehicles",
		"acct@acme.test=all vehicles",
		"mgr@acme.test=group Region › City, manage",
		"drv@acme.test=group Region › City › Depot, view+direct, view")
	if total != 4 {
		t.Fatalf("total %d", total)
	}
	if ms, total, _ := d.VehicleMembers(ctx, f.owner, f.v["in-other"], 1, 25); total != 2 || len(ms) != 2 {
		t.Fatalf("who sees in-other: %d", total)
	}
	if _, _, err := d.VehicleMembers(ctx, actorOf(t, d, mgr), f.v["in-other"], 1, 25); db.ErrorCode(err) != db.ENotFound {
		t.Fatalf("explain an unseen vehicle: %v", err)
	}
}
