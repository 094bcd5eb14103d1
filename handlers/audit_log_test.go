package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
	"fleetgate/db/perm"
)

func TestAuditLogShowsWhoDidWhatToWhom(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	oc := a.login("owner@demo.test")
	oc.invite("ivy@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	a.login("driver@demo.test").postForm("/profile", url.Values{"first_name": {"Diego"}, "last_name": {"Dias"}, "phone": {"123"}})
	// Account B's events never show in account A's log.
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	if _, _, err := a.db.CreateInvitation(t.Context(), other, db.NewInvitation{Email: "secret-b@example.com", RoleID: builtinRoleID(t, a, other, perm.Driver), VehicleAccess: "selected"}); err != nil {
		t.Fatal(err)
	}

	for _, who := range []string{"owner@demo.test", "admin@demo.test", "accountant@demo.test"} {
		res := a.login(who).get("/audit")
		if res.status != 200 {
			t.Fatalf("%s: %d", who, res.status)
		}
		if strings.Contains(res.body, "secret-b@example.com") {
			t.Fatalf("%s sees account B's audit", who)
		}
		nav := res.find("nav.side a[aria-current=page]")
		if len(nav) != 1 || nav[0] != "Audit log" {
			t.Fatalf("%s: nav %v", who, nav)
		}
	}
	res := a.login("accountant@demo.test").get("/audit")
	rows := res.doc().Find("[data-testid=audit-row]")
	if rows.Length() < 3 {
		t.Fatalf("rows: %d", rows.Length())
	}
	// Newest first: the driver's profile change, with before and after per field.
	first := rows.First()
	if who := strings.TrimSpace(first.Find("td[data-label=Who]").Text()); who != "Diego Driver" { // named as they were when they acted
		t.Fatalf("who: %q", who)
	}
	if kind := first.Find("code.kind").Text(); kind != "profile.update" {
		t.Fatalf("kind: %q", kind)
	}
	changed := first.Find("details table.changes tr.changed")
	if changed.Length() != 2 { // last_name and phone changed, first_name did not
		t.Fatalf("changed fields: %d\n%s", changed.Length(), res.body)
	}
	if f := strings.TrimSpace(changed.First().Find("th").Text()); f != "last name" {
		t.Fatalf("first changed field %q", f)
	}
	if b, af := changed.First().Find("td").First().Text(), changed.First().Find("td").Last().Text(); b != "Driver" || af != "Dias" {
		t.Fatalf("last_name %q -> %q", b, af)
	}
	// The invitation names its target.
	found := false
	rows.Each(func(_ int, r *goquery.Selection) {
		if r.Find("code.kind").Text() == "invitation.create" {
			found = strings.TrimSpace(r.Find("td[data-label='To whom']").Text()) == "ivy@example.com" &&
				strings.TrimSpace(r.Find("td[data-label=Who]").Text()) == "Olivia Owner"
		}
	})
	if !found {
		t.Fatal("invitation.create row missing or wrong")
	}
}

func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	driver := actorByEmail(t, a, "driver@demo.test")
	oc := a.login("owner@demo.test")
	oc.invite("ivy@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	a.login("driver@demo.test").postForm("/profile", url.Values{"first_name": {"Diego"}, "last_name": {"Dias"}})
	c := a.login("admin@demo.test")

	kinds := func(r response) []string { return r.find("[data-testid=audit-row] code.kind") }
	// By kind (a prefix), as an htmx fragment.
	res := c.htmx("/audit?kind=invitation.", "audit-results")
	if res.status != 200 || strings.Contains(res.body, "<html") {
		t.Fatalf("fragment: %d", res.status)
	}
	if k := kinds(res); len(k) != 1 || k[0] != "invitation.create" {
		t.Fatalf("kind filter: %v", k)
	}
	// By person.
	res = c.get(fmt.Sprintf("/audit?person=%d", driver.MemberID))
	if k := kinds(res); len(k) != 1 || k[0] != "profile.update" {
		t.Fatalf("person filter: %v", k)
	}
	if v, _ := res.doc().Find("#audit-person option[selected]").Attr("value"); v != fmt.Sprint(driver.MemberID) {
		t.Fatalf("person not kept in the filter: %q", v)
	}
	// A person of another account, or nonsense, means no filter (not an error).
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	all := len(kinds(c.get("/audit")))
	for _, q := range []string{fmt.Sprintf("person=%d", other.MemberID), "person=abc", "kind=%25", "kind=" + strings.Repeat("a", 41), "page=-3"} {
		if r := c.get("/audit?" + q); r.status != 200 || len(kinds(r)) != all {
			t.Errorf("%s: %d, %d rows, want %d", q, r.status, len(kinds(r)), all)
		}
	}
	// Only members of the account are offered as people.
	for _, p := range c.get("/audit").find("#audit-person option") {
		if p == "Bea Other" {
			t.Fatal("a member of another account is offered")
		}
	}
	// Paginated, 50 a page, keeping the filter.
	mustExec(t, a, `INSERT INTO audit_events (account_id, actor_member_id, actor_name, kind, target, summary, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
		SELECT ?, ?, 'Olivia Owner', 'vehicle.update', 'Van ' || i, 'Renamed', '2026-01-01T00:00:00Z' FROM n`, owner.AccountID, owner.MemberID)
	res = c.htmx("/audit?kind=vehicle.&page=2", "audit-results")
	if n := len(kinds(res)); n != 10 {
		t.Fatalf("page 2: %d rows", n)
	}
	if r := res.find("[data-testid=range]"); len(r) != 1 || r[0] != "51–60 of 60" {
		t.Fatalf("range %v", r)
	}
	if prev, _ := res.doc().Find("a[rel=prev]").Attr("href"); prev != "/audit?kind=vehicle." {
		t.Fatalf("prev %q", prev)
	}
}

func TestAuditLogDenied(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, who := range []string{"manager@demo.test", "driver@demo.test"} {
		c := a.login(who)
		res := c.get("/audit")
		if res.status != http.StatusForbidden || !strings.Contains(strings.Join(res.find("[data-testid=denied]"), ""), "You need 'View audit log'") {
			t.Errorf("%s: %d", who, res.status)
		}
		for _, l := range res.find("nav.side a") {
			if l == "Audit log" {
				t.Errorf("%s is offered the audit log", who)
			}
		}
		if r := c.htmx("/audit?kind=role.", "audit-results"); r.status != http.StatusForbidden || strings.Contains(r.body, "<html") {
			t.Errorf("%s htmx: %d", who, r.status)
		}
	}
}
