package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// "Your access" is what the grant and the role allow together: the
// read-only Accountant (all vehicles) reads "view"; the Manager, whose
// role can change vehicles, "manage" on her region.
func TestYourAccessIsTheEffectiveLevel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for who, want := range map[string]string{"accountant@demo.test": "view", "manager@demo.test": "manage", "owner@demo.test": "manage"} {
		c := a.login(who)
		cells := c.get("/vehicles").find("td[data-label='Your access']")
		if len(cells) == 0 {
			t.Fatalf("%s: no vehicles", who)
		}
		for _, got := range cells {
			if got != want {
				t.Fatalf("%s: list says %q, want %q", who, got, want)
			}
		}
		res := c.get("/vehicles/1")
		if res.status == http.StatusOK {
			if got := strings.Join(res.find("[data-testid=vehicle-level]"), ""); got != want {
				t.Fatalf("%s: vehicle page says %q, want %q", who, got, want)
			}
		}
	}
	// The driver's role records trips, which needs manage: her grants show as they are.
	if got := a.login("driver@demo.test").get("/vehicles").find("td[data-label='Your access']"); len(got) != 2 || got[0] != "manage" {
		t.Fatalf("driver: %v", got)
	}
}

// The Groups page counts the vehicles access to a group covers: its own
// and its sub-groups'.
func TestGroupCountsIncludeSubGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var north, direct int
	if err := a.db.QueryRowForTest(context.Background(), `SELECT
		(SELECT COUNT(*) FROM vehicles v WHERE v.status = 'active' AND v.group_id IN (
			WITH RECURSIVE sub(id) AS (SELECT id FROM vehicle_groups WHERE name = 'North' AND account_id = 1
				UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id) SELECT id FROM sub)),
		(SELECT COUNT(*) FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id WHERE g.name = 'North' AND g.account_id = 1 AND v.status = 'active')`).Scan(&north, &direct); err != nil {
		t.Fatal(err)
	}
	doc := a.login("owner@demo.test").get("/groups").doc()
	var got string
	doc.Find("[data-testid=group-row]").Each(func(_ int, r *goquery.Selection) {
		if strings.TrimSpace(r.Find("[data-testid=group-name]").Text()) == "North" {
			got = strings.Join(strings.Fields(r.Find("[data-testid=group-vehicles]").Text()), " ")
		}
	})
	want := fmt.Sprintf("%d (%d directly in it)", north, direct)
	if north == direct {
		want = fmt.Sprint(north)
	}
	if north < 2 || got != want {
		t.Fatalf("North: %q, want %q", got, want)
	}
	// The Accountant's access reads view on every group.
	for _, lvl := range a.login("accountant@demo.test").get("/groups").find("td[data-label='Your access']") {
		if lvl != "view" {
			t.Fatalf("accountant's group access: %q", lvl)
		}
	}
}

// The users list: sortable columns, select all, a bulk role picker that
// names no role until one is chosen, no filter that matches nothing, one
// message on an empty search.
func TestUsersListBasics(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.login("owner@demo.test")
	page := o.get("/users?sort=-email")
	emails := page.find("td[data-label=E-mail]")
	if len(emails) != 6 || emails[0] != "owner@demo.test" || emails[5] != "accountant@demo.test" {
		t.Fatalf("by e-mail, descending: %v", emails)
	}
	if got, _ := page.doc().Find("th[aria-sort=descending] a").Attr("href"); got != "/users?sort=email" {
		t.Fatalf("the sorted column links to the other direction: %q", got)
	}
	if href, _ := page.doc().Find("[data-testid=sort-role]").Attr("href"); href != "/users?sort=role" {
		t.Fatalf("role heading: %q", href)
	}
	if got := o.get("/users?sort=role").find("td[data-label=Role]"); got[0] != "Accountant (read-only)" || got[5] != "Owner" {
		t.Fatalf("by role: %v", got)
	}
	// An unknown sort is the default order, not an error.
	if res := o.get("/users?sort=password"); res.status != 200 || len(res.find("[data-testid=user-row]")) != 6 {
		t.Fatalf("unknown sort: %d", res.status)
	}
	if len(page.find("[data-testid=select-all]")) != 1 {
		t.Fatal("no select all")
	}
	if first := page.doc().Find("#bulk-role option").First(); first.AttrOr("value", "x") != "" {
		t.Fatalf("bulk role picker pre-set to %q", first.Text())
	}
	if opts := page.find("#users-status option"); contains(opts, "invited") {
		t.Fatalf("status filter offers invited: %v", opts)
	}
	// Changing the role in bulk without choosing one says so.
	o.postForm("/users/bulk", map[string][]string{"action": {"role"}, "ids": {"5"}})
	if flash := o.get("/users").find(".flash-error"); len(flash) != 1 || !strings.Contains(flash[0], "Choose the new role") {
		t.Fatalf("no role chosen: %v", flash)
	}
	empty := o.htmx("/users?q=nobody-at-all", "users-results")
	if len(empty.find("[data-testid=users-empty]")) != 1 || len(empty.find("[data-testid=range]")) != 0 {
		t.Fatalf("empty search: %v / %v", empty.find("[data-testid=users-empty]"), empty.find("[data-testid=range]"))
	}
	// Managers and read-only members get no select boxes.
	if got := a.login("accountant@demo.test").get("/users").find("[data-testid=select-all]"); len(got) != 0 {
		t.Fatal("accountant is offered select all")
	}
}

// A member's page leads with what is safe: what cannot be undone sits in
// its own section at the end; vehicle access names the groups.
func TestMemberPageDangerLastAndGrantsNamed(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mgr := memberID(t, a, "manager@demo.test")
	page := a.login("owner@demo.test").get(fmt.Sprintf("/users/%d", mgr))
	sections := page.doc().Find("main section")
	last := sections.Last()
	if last.AttrOr("data-testid", "") != "danger-zone" || last.Find("[data-testid=delete]").Length() != 1 || last.Find("#owner-password").Length() != 1 {
		t.Fatalf("the last section is %q", last.AttrOr("data-testid", last.Find("h2").Text()))
	}
	if page.doc().Find("[data-testid=delete]").Length() != 1 {
		t.Fatal("delete offered twice")
	}
	if got := strings.Join(strings.Fields(strings.Join(page.find("[data-testid=member-grants] li"), "|")), " "); got != "Group North, sub-groups included: manage" {
		t.Fatalf("grants: %q", got)
	}
	if strings.Contains(page.body, "grant(s)") {
		t.Fatal("still counts grant(s)")
	}
	// A Manager (no Delete users, not the Owner) is offered none of it.
	if res := a.login("manager@demo.test").get(fmt.Sprintf("/users/%d", memberID(t, a, "driver@demo.test"))); len(res.find("[data-testid=danger-zone]")) != 0 {
		t.Fatal("manager is offered what cannot be undone")
	}
}

// After cloning a role, the message says its permissions are on already.
func TestCloneRoleMessage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.login("owner@demo.test")
	res := o.postForm("/roles", map[string][]string{"name": {"Night drivers"}, "copy_from": {fmt.Sprint(roleIDByName(t, a, "Driver"))}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create: %d", res.status)
	}
	flash := strings.Join(o.get(res.header.Get("Location")).find(".flash-ok"), "")
	if !strings.Contains(flash, "as a copy, with the same permissions turned on") || strings.Contains(flash, "Turn on its permissions") {
		t.Fatalf("clone message: %q", flash)
	}
	res = o.postForm("/roles", map[string][]string{"name": {"Empty one"}})
	if flash := strings.Join(o.get(res.header.Get("Location")).find(".flash-ok"), ""); !strings.Contains(flash, "Turn on its permissions") {
		t.Fatalf("new role message: %q", flash)
	}
}

// Add person says what it is for without contradicting its required e-mail.
func TestAddPersonTextIsTrue(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	page := a.login("owner@demo.test").get("/users/add")
	intro := strings.Join(page.find("[data-testid=add-intro]"), "")
	if strings.Contains(intro, "do not use e-mail") || !strings.Contains(intro, "login name") {
		t.Fatalf("intro: %q", intro)
	}
	if _, req := page.doc().Find("#email").Attr("required"); !req {
		t.Fatal("e-mail not marked required")
	}
	// Without an e-mail the form says why it is needed, beside the field.
	res := a.login("owner@demo.test").postForm("/users/add", addForm("No", "Mail", "", "", roleIDByName(t, a, "Driver"), "web", "selected", newPassword))
	if res.status != http.StatusUnprocessableEntity || len(res.find("#email-error")) != 1 {
		t.Fatalf("no e-mail: %d %v", res.status, res.find(".error"))
	}
}

// The audit log leads with the sentence, says its time zone, filters by
// date range and person, and exports what it shows.
func TestAuditLogSentenceDatesExport(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.login("owner@demo.test")
	acc := a.login("accountant@demo.test") // signing in is an event too: before counting
	o.postForm("/roles", map[string][]string{"name": {"Night drivers"}})
	page := o.get("/audit")
	if first := page.doc().Find("[data-testid=audit-table] thead th").First().Text(); first != "What" {
		t.Fatalf("first column: %q", first)
	}
	if !strings.Contains(strings.Join(page.find("[data-testid=audit-tz]"), ""), "UTC") {
		t.Fatal("no time zone")
	}
	all := len(page.find("[data-testid=audit-row]"))
	if all == 0 {
		t.Fatal("no events")
	}
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if n := len(o.get("/audit?from=" + today + "&to=" + today).find("[data-testid=audit-row]")); n != all {
		t.Fatalf("today: %d of %d", n, all)
	}
	if n := len(o.get("/audit?from=" + tomorrow).find("[data-testid=audit-row]")); n != 0 {
		t.Fatalf("from tomorrow: %d", n)
	}
	if n := len(o.get("/audit?to=2000-01-01").find("[data-testid=audit-row]")); n != 0 {
		t.Fatalf("until 2000: %d", n)
	}
	// A bad date is no filter, not an error.
	if res := o.get("/audit?from=yesterday"); res.status != 200 || len(res.find("[data-testid=audit-row]")) != all {
		t.Fatalf("bad date: %d", res.status)
	}
	href, _ := o.get("/audit?from=" + today).doc().Find("[data-testid=audit-csv]").Attr("href")
	if href != "/exports/audit.csv?from="+today {
		t.Fatalf("export link: %q", href)
	}
	res := acc.get(href)
	lines, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || strings.Join(lines[0], ",") != "when,summary,who,to_whom,kind,before,after" {
		t.Fatalf("export: %d %s %v", res.status, res.header.Get("Content-Type"), err)
	}
	// The export records itself first: one event more than the page showed.
	if len(lines) != all+2 || !strings.Contains(res.body, "Night drivers") || lines[1][4] != "export.audit" {
		t.Fatalf("export has %d records for %d events", len(lines)-1, all)
	}
	for _, who := range []string{"manager@demo.test", "driver@demo.test"} {
		if res := a.login(who).get("/audit/export.csv"); res.status != http.StatusForbidden {
			t.Errorf("%s exported the audit log: %d", who, res.status)
		}
	}
}

func TestFavicon(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.client().get("/favicon.ico")
	if res.status != 200 || res.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(res.body, "<svg") {
		t.Fatalf("favicon: %d %s", res.status, res.header.Get("Content-Type"))
	}
}
