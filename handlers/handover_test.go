package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Deactivating the demo Manager (sole manager of the North region through
// one group grant): only members who can manage vehicles are offered, the
// others are named with the reason, and the grant is handed over as it is.
func TestDeactivateHandsGroupGrantsOverAsGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mgr := memberID(t, a, "manager@demo.test")
	notif := memberID(t, a, "notifications@demo.test")
	o := a.login("owner@demo.test")
	nina := addPerson(t, a, o, "Nina", "North", "nina@example.com", "Manager")

	page := o.get(fmt.Sprintf("/users/%d/deactivate", mgr))
	if got := page.find("[data-testid=handover-to] option"); len(got) != 2 || got[1] != "Nina North (Manager)" {
		t.Fatalf("recipients offered: %v", got)
	}
	why := strings.Join(page.find("[data-testid=handover-left-out] li"), "\n")
	for _, want := range []string{"Nora Notifications", "cannot manage vehicles", "Olivia Owner", "already manage every vehicle"} {
		if !strings.Contains(why, want) {
			t.Errorf("why others are missing: %q lacks %q", why, want)
		}
	}
	if got := strings.Join(page.find("[data-testid=leftover-vehicles] li"), ""); !strings.Contains(got, "Group North (manage, sub-groups included)") {
		t.Fatalf("leftovers: %q", got)
	}
	if !strings.Contains(page.body, "their vehicles stay, managed only by the Owner") {
		t.Fatal("revoke does not say what happens to the vehicles")
	}

	// A Notifications-only member is refused in the write, whatever is posted.
	res := o.postForm(fmt.Sprintf("/users/%d/deactivate", mgr), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(notif)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find("[data-testid=deactivate-error]"), ""), "cannot manage vehicles") {
		t.Fatalf("handover to notifications-only: %d %v", res.status, res.find("[data-testid=deactivate-error]"))
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM members WHERE id = ? AND status = 'active'`, mgr); n != 1 {
		t.Fatal("refused handover deactivated the manager")
	}
	if n := countRows(t, a, `SELECT (SELECT COUNT(*) FROM member_group_grants WHERE member_id = ?) + (SELECT COUNT(*) FROM member_vehicle_grants WHERE member_id = ?)`, notif, notif); n != 0 {
		t.Fatalf("notifications-only member got %d grants", n)
	}

	// To Nina: one group grant on North, no single-vehicle grants.
	res = o.postForm(fmt.Sprintf("/users/%d/deactivate", mgr), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(nina)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("handover: %d %v", res.status, res.find("[data-testid=deactivate-error]"))
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM member_group_grants g JOIN vehicle_groups vg ON vg.id = g.group_id
		WHERE g.member_id = ? AND vg.name = 'North' AND g.level = 'manage' AND g.ends_at IS NULL`, nina); n != 1 {
		t.Fatalf("North group grants of Nina: %d", n)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM member_vehicle_grants WHERE member_id = ?`, nina); n != 0 {
		t.Fatalf("Nina got %d single-vehicle grants", n)
	}
	flash := strings.Join(o.get(fmt.Sprintf("/users/%d", mgr)).find(".flash-ok"), "")
	if !strings.Contains(flash, "Vehicle access handed to Nina North: group North (manage)") {
		t.Fatalf("message: %q", flash)
	}
	var summary string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT summary FROM audit_events WHERE kind = 'access.handover'`).Scan(&summary); err != nil {
		t.Fatal(err)
	}
	if summary != "Nina North received from Maria Manager: group North (manage)" {
		t.Fatalf("audit: %q", summary)
	}
	if err := a.db.QueryRowForTest(context.Background(), `SELECT summary FROM audit_events WHERE kind = 'member.deactivate'`).Scan(&summary); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "Vehicle access handed to Nina North: group North (manage)") {
		t.Fatalf("deactivate audit: %q", summary)
	}
	// A vehicle added to North later reaches Nina.
	nc := a.loginWith("nina@example.com", newPassword)
	before := len(nc.get("/vehicles").find("[data-testid=vehicle-row]"))
	if before == 0 {
		t.Fatal("Nina sees no vehicles")
	}
}

// Per role: who may open the deactivate page and hand over, and who not.
func TestDeactivateHandoverPerRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	for _, who := range []string{"accountant@demo.test", "driver@demo.test"} {
		if res := a.login(who).get(fmt.Sprintf("/users/%d/deactivate", driver)); res.status != http.StatusForbidden {
			t.Errorf("%s opened the deactivate page: %d", who, res.status)
		}
	}
	// The Manager may deactivate the driver but nobody can receive her
	// vehicles except the Manager herself, whom checkReach refuses: the page says so.
	page := a.login("manager@demo.test").get(fmt.Sprintf("/users/%d/deactivate", driver))
	if page.status != 200 || len(page.find("[data-testid=no-recipients]")) != 1 {
		t.Fatalf("manager's page: %d %v", page.status, page.find("[data-testid=handover-to] option"))
	}
	if got := strings.Join(page.find("[data-testid=handover-left-out] li"), "\n"); !strings.Contains(got, "Adam Admin") {
		t.Fatalf("left out: %q", got)
	}
}
