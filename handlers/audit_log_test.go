package handlers_test

import (
	"context"
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
	// Newest first (sign-ins aside): the driver's profile change, with
	// before and after per field.
	first := rows.FilterFunction(func(_ int, r *goquery.Selection) bool {
		return !strings.HasPrefix(r.Find("code.kind").Text(), "signin.")
	}).First()
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
	if k := kinds(res); len(k) != 2 || k[0] != "profile.update" || k[1] != "signin.web" {
		t.Fatalf("person filter: %v", k)
	}
	if v, _ := res.doc().Find("#audit-who").Attr("value"); v != "Diego Dias" {
		t.Fatalf("person not kept in the filter: %q", v)
	}
	// The person field takes a name or an e-mail (no list of all members):
	// labelled, and a plain GET as without script.
	if len(res.find("label[for=audit-who]")) != 1 {
		t.Fatal("the person field has no label")
	}
	for _, who := range []string{"diego", "Diego Dias", "DRIVER@demo.test"} {
		r := c.get("/audit?who=" + url.QueryEscape(who))
		if k := kinds(r); len(k) != 2 || k[0] != "profile.update" {
			t.Fatalf("who=%s: %v", who, k)
		}
		if v, _ := r.doc().Find("#audit-who").Attr("value"); v != "Diego Dias" {
			t.Fatalf("who=%s: field %q", who, v)
		}
	}
	// Several match: nothing is filtered, and the page offers them as links.
	r := c.htmx("/audit?who=demo.test", "audit-results")
	picks := r.doc().Find("[data-testid=audit-who-pick]")
	if picks.Length() < 5 || len(kinds(r)) != len(kinds(c.get("/audit"))) {
		t.Fatalf("several: %d picks, %d rows", picks.Length(), len(kinds(r)))
	}
	if href := picks.First().AttrOr("href", ""); !strings.HasPrefix(href, "/audit?") || !strings.Contains(href, "person=") || strings.Contains(href, "who=") {
		t.Fatalf("pick link: %q", href)
	}
	// The field suggests the people of the page shown.
	people := c.get("/audit").doc().Find("#audit-people option")
	if people.Length() == 0 || people.Length() > 20 {
		t.Fatalf("suggestions: %d", people.Length())
	}
	// A person of another account, or nonsense, means no filter (not an error).
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	all := len(kinds(c.get("/audit")))
	// No one (or someone of another account): said so, and no events.
	for _, who := range []string{"nobody-here", "Bea", "bea@beta.test"} {
		r := c.htmx("/audit?who="+url.QueryEscape(who), "audit-results")
		if len(kinds(r)) != 0 || len(r.find("[data-testid=audit-who-note] .error")) != 1 {
			t.Fatalf("who=%s: %v", who, kinds(r))
		}
	}
	for _, q := range []string{fmt.Sprintf("person=%d", other.MemberID), "person=abc", "kind=%25", "kind=" + strings.Repeat("a", 41), "page=-3"} {
		if r := c.get("/audit?" + q); r.status != 200 || len(kinds(r)) != all {
			t.Errorf("%s: %d, %d rows, want %d", q, r.status, len(kinds(r)), all)
		}
		if r := c.htmx("/audit?"+q, "audit-results"); r.status != 200 || len(kinds(r)) != all {
			t.Errorf("fragment %s: %d, %d rows, want %d", q, r.status, len(kinds(r)), all)
		}
	}
	// Only members of the account are offered as people.
	for _, p := range c.get("/audit").doc().Find("#audit-people option").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }) {
		if p == "Bea Other" {
			t.Fatal("a member of another account is offered")
		}
	}
	// Paged by cursor (event ids), 50 a page, keeping the filter: walked
	// forward and back, every matching event shows once, newest first.
	mustExec(t, a, `INSERT INTO audit_events (account_id, actor_member_id, actor_name, kind, target, summary, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
		SELECT ?, ?, 'Olivia Owner', CASE WHEN i % 7 = 0 THEN 'group.update' ELSE 'vehicle.update' END, 'Van ' || i, 'Renamed',
		       CASE WHEN i % 11 = 0 THEN '2025-06-01T12:00:00Z' ELSE '2026-01-01T12:00:00Z' END FROM n`, owner.AccountID, owner.MemberID)
	var want []string
	for i := 120; i >= 1; i-- {
		if i%7 != 0 && i%11 != 0 {
			want = append(want, fmt.Sprintf("Van %d", i))
		}
	}
	keep := url.Values{"kind": {"vehicle."}, "person": {fmt.Sprint(owner.MemberID)}, "from": {"2025-12-01"}, "to": {"2026-01-31"}}
	forward, backward, pages := keysetWalk(t, c, "/audit?"+keep.Encode(), "audit-results", "[data-testid=audit-row] td[data-label='To whom']", keep)
	if pages != 2 || len(want) != 94 {
		t.Fatalf("%d pages, %d events", pages, len(want))
	}
	onceEach(t, "forward", forward, want)
	onceEach(t, "back", backward, want)
	// No count unless asked for (or one page holds all).
	res = c.htmx("/audit?"+keep.Encode(), "audit-results")
	if r := res.find("[data-testid=range]"); len(r) != 1 || r[0] != "50 shown" {
		t.Fatalf("range %v", r)
	}
	count, _ := res.doc().Find("[data-testid=count]").Attr("hx-get")
	if r := c.htmx(count, "audit-results").find("[data-testid=range]"); len(r) != 1 || r[0] != fmt.Sprintf("1–50 of %d", len(want)) {
		t.Fatalf("counted range %v (%s)", r, count)
	}
	if r := c.htmx("/audit?kind=invitation.", "audit-results").find("[data-testid=range]"); len(r) != 1 || r[0] != "1–1 of 1" {
		t.Fatalf("one page range %v", r)
	}
	// An old numbered link still reads its page.
	var kindOnly []string // vehicle.* events, any day
	for i := 120; i >= 1; i-- {
		if i%7 != 0 {
			kindOnly = append(kindOnly, fmt.Sprintf("Van %d", i))
		}
	}
	res = c.htmx("/audit?kind=vehicle.&page=2", "audit-results")
	if k := res.find("[data-testid=audit-row] td[data-label='To whom']"); len(k) != 50 || k[0] != kindOnly[50] {
		t.Fatalf("page 2: %d rows %v", len(k), k)
	}
	prev, _ := res.doc().Find("a[rel=prev]").Attr("href")
	if !strings.HasPrefix(prev, "/audit?before=") || !strings.HasSuffix(prev, "&kind=vehicle.") {
		t.Fatalf("prev %q", prev)
	}
	if k := c.htmx(prev, "audit-results").find("[data-testid=audit-row] td[data-label='To whom']"); len(k) != 50 || k[0] != kindOnly[0] || k[49] != kindOnly[49] {
		t.Fatalf("before page 2: %d rows %v", len(k), k)
	}
	// A cursor that is not an id reads the first page.
	if r := c.get("/audit?kind=vehicle.&after=abc"); r.status != 200 || len(kinds(r)) != 50 {
		t.Fatalf("bad cursor: %d", r.status)
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

// The audit log follows vehicle scope: an Accountant who sees only the
// North region reads the events about North's vehicles, groups and
// pairings, and nothing of South's (not even a new plate), while the Owner
// reads both. Account-wide events (members, roles) stay visible to both.
func TestAuditLogFollowsVehicleScope(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	owner := actorByEmail(t, a, "owner@demo.test")
	acct := actorByEmail(t, a, "accountant@demo.test")
	mustExec(t, a, `UPDATE members SET vehicle_access = 'selected' WHERE id = ?`, acct.MemberID)
	mustExec(t, a, `INSERT INTO member_group_grants (member_id, group_id, level, created_at)
		SELECT ?, id, 'view', '2026-01-01T00:00:00Z' FROM vehicle_groups WHERE account_id = ? AND name = 'North'`, acct.MemberID, owner.AccountID)

	vehicleIn := func(region string) (int64, db.Vehicle) {
		var id int64
		if err := a.db.QueryRowForTest(ctx, `SELECT v.id FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id
			JOIN vehicle_groups p ON p.id = g.parent_id WHERE v.account_id = ? AND p.name = ? ORDER BY v.id LIMIT 1`, owner.AccountID, region).Scan(&id); err != nil {
			t.Fatal(err)
		}
		v, err := a.db.Vehicle(ctx, owner, id)
		if err != nil {
			t.Fatal(err)
		}
		return id, v
	}
	rename := func(region, plate string) {
		id, v := vehicleIn(region)
		// Through the real edit form, as the Owner.
		oc := a.login("owner@demo.test")
		form := oc.get(fmt.Sprintf("/vehicles/%d/edit", id)).doc().Find("form[data-testid=vehicle-form]")
		vals := url.Values{}
		form.Find("input[name], select[name]").Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			val, _ := s.Attr("value")
			if s.Is("select") {
				val, _ = s.Find("option[selected]").Attr("value")
			}
			vals.Set(name, val)
		})
		vals.Set("plate", plate)
		if res := oc.postForm(fmt.Sprintf("/vehicles/%d", id), vals); res.status != http.StatusSeeOther {
			t.Fatalf("rename %s (%s): %d\n%s", v.Name, region, res.status, res.body)
		}
	}
	rename("North", "NORTH-77")
	rename("South", "SOUTH-99")
	oc := a.login("owner@demo.test")
	oc.invite("scoped.audit@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")

	ownerLog := oc.get("/audit?per=200").body
	acctLog := a.login("accountant@demo.test").get("/audit?per=200").body
	for _, want := range []string{"NORTH-77", "SOUTH-99", "scoped.audit@example.com"} {
		if !strings.Contains(ownerLog, want) {
			t.Errorf("the Owner's log lacks %s", want)
		}
	}
	if !strings.Contains(acctLog, "NORTH-77") || !strings.Contains(acctLog, "scoped.audit@example.com") {
		t.Errorf("the North accountant's log lacks North's vehicle or the account's invitation")
	}
	if strings.Contains(acctLog, "SOUTH-99") {
		t.Errorf("the North accountant reads the new plate of a South vehicle in the audit log")
	}
	// The vehicle itself answers 404 to them, as it did.
	southID, _ := vehicleIn("South")
	if res := a.login("accountant@demo.test").get(fmt.Sprintf("/vehicles/%d", southID)); res.status != http.StatusNotFound {
		t.Errorf("South vehicle for the North accountant: %d", res.status)
	}
}

// The log's days are the account's days: in Chicago, an event at 03:00 UTC
// on the 2nd happened on the 1st.
func TestAuditLogDaysAreTheAccountsDays(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	mustExec(t, a, `INSERT INTO account_settings (account_id, time_zone) VALUES (?, 'America/Chicago') ON CONFLICT (account_id) DO UPDATE SET time_zone = excluded.time_zone`, owner.AccountID)
	for _, at := range []string{"2026-03-01T05:59:59.5Z", "2026-03-01T06:00:00Z", "2026-03-02T03:00:00.25Z", "2026-03-02T05:59:59Z", "2026-03-02T06:00:00Z"} {
		mustExec(t, a, `INSERT INTO audit_events (account_id, actor_member_id, actor_name, kind, target, summary, created_at)
			VALUES (?, ?, 'Olivia Owner', 'vehicle.update', ?, 'Renamed', ?)`, owner.AccountID, owner.MemberID, at, at)
	}
	c := a.login("owner@demo.test")
	targets := func(q string) string {
		return strings.Join(c.get("/audit?kind=vehicle.update&"+q).find("[data-testid=audit-row] td[data-label=\"To whom\"]"), ",")
	}
	// 1 March in Chicago (UTC-6) runs from 06:00 UTC on the 1st to 06:00 UTC on the 2nd.
	if got, want := targets("from=2026-03-01&to=2026-03-01"), "2026-03-02T05:59:59Z,2026-03-02T03:00:00.25Z,2026-03-01T06:00:00Z"; got != want {
		t.Fatalf("1 March: %s, want %s", got, want)
	}
	if got, want := targets("to=2026-02-28"), "2026-03-01T05:59:59.5Z"; got != want {
		t.Fatalf("up to 28 February: %s, want %s", got, want)
	}
}
