package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db/perm"
)

func TestUsersPageDeniedNamesThePermission(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.login("driver@demo.test").get("/users")
	if res.status != http.StatusForbidden {
		t.Fatalf("driver: %d", res.status)
	}
	msg := strings.Join(res.find("[data-testid=denied]"), " ")
	if !strings.Contains(msg, "You need 'View users' — ask your account Owner or an Admin.") {
		t.Fatalf("message: %q", msg)
	}
	// The sidebar does not offer what the driver cannot open.
	for _, l := range res.find("nav.side a") {
		if l == "Users" {
			t.Fatal("driver is offered Users")
		}
	}
	// An htmx request gets the notice alone, to show in place.
	res = a.login("driver@demo.test").htmx("/users?q=x", "users-results")
	if res.status != http.StatusForbidden || strings.Contains(res.body, "<html") || !strings.Contains(res.body, "View users") {
		t.Fatalf("htmx denied: %d %q", res.status, res.body)
	}
}

func TestUsersSearchFragment(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("accountant@demo.test")
	res := c.htmx("/users?q=mana", "users-results")
	if res.status != 200 || strings.Contains(res.body, "<html") {
		t.Fatalf("fragment: %d", res.status)
	}
	rows := res.find("[data-testid=user-row] td[data-label=E-mail]")
	if len(rows) != 1 || rows[0] != "manager@demo.test" {
		t.Fatalf("search rows: %v", rows)
	}
	// The same address without htmx (reload, back) is the whole page, filtered.
	res = c.get("/users?q=mana")
	if !strings.Contains(res.body, "<html") || len(res.find("[data-testid=user-row]")) != 1 {
		t.Fatal("reload does not keep the search")
	}
	if v, _ := res.doc().Find("#users-q").Attr("value"); v != "mana" {
		t.Fatalf("search box lost the query: %q", v)
	}
}

func TestUsersFilters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	mustSetStatus(t, demoAccount(t, a), memberID(t, a, "admin@demo.test"), "deactivated")
	rows := c.htmx("/users?status=deactivated", "users-results").find("[data-testid=user-row] td[data-label=E-mail]")
	if len(rows) != 1 || rows[0] != "admin@demo.test" {
		t.Fatalf("status filter: %v", rows)
	}
	rows = c.htmx("/users?channel=both", "users-results").find("[data-testid=user-row] td[data-label=E-mail]")
	if len(rows) != 1 || rows[0] != "driver@demo.test" {
		t.Fatalf("channel filter: %v", rows)
	}
	page := c.get("/users")
	var driverRole string
	page.doc().Find("#users-role option").Each(func(_ int, s *goquery.Selection) {
		if s.Text() == "Driver" {
			driverRole, _ = s.Attr("value")
		}
	})
	rows = c.htmx("/users?role="+driverRole, "users-results").find("[data-testid=user-row] td[data-label=E-mail]")
	if len(rows) != 1 || rows[0] != "driver@demo.test" {
		t.Fatalf("role filter: %v", rows)
	}
	// Nonsense filter values are ignored, not errors.
	if res := c.get("/users?status=%3Cscript%3E&page=-4&role=abc"); res.status != 200 || len(res.find("[data-testid=user-row]")) != 6 {
		t.Fatalf("bad filter values: %d", res.status)
	}
}

func TestUsersPagination(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Bulk")
	for i := 0; i < 60; i++ {
		mustMember(t, acct, perm.Driver, "selected")
	}
	mustMember(t, acct, perm.Manager, "selected") // filtered out by role
	c := acct.Owner.login()
	driverRole := ""
	c.get("/users").doc().Find("#users-role option").Each(func(_ int, s *goquery.Selection) {
		if s.Text() == "Driver" {
			driverRole, _ = s.Attr("value")
		}
	})
	// Every sort, each through its index from cursors: each
	// walk forward and back shows every matching member once, in order,
	// and every link keeps the filter.
	// Some signed in (a few at the same second), the others never.
	mustExec(t, a, `UPDATE members SET last_login_at = '2026-01-0' || (id % 4 + 1) || 'T10:00:00Z' WHERE id % 3 = 0 AND account_id = ?`, acct.ID)
	for _, sort := range []string{"", "email", "-email", "-name", "status", "-status", "last_login", "-last_login", "role", "-role"} {
		keep := url.Values{"role": {driverRole}, "status": {"active"}, "sort": {sort}}
		first := "/users?" + keep.Encode()
		forward, backward, pages := keysetWalk(t, c, first, "users-results", "[data-testid=user-row] td[data-label=E-mail]", keep)
		if pages != 3 || len(forward) != 60 {
			t.Fatalf("sort %q: %d pages, %d rows", sort, pages, len(forward))
		}
		seen := map[string]bool{}
		for _, e := range forward {
			if seen[e] {
				t.Fatalf("sort %q: %s twice", sort, e)
			}
			seen[e] = true
		}
		onceEach(t, "back "+sort, backward, forward)
		if sort == "email" && !slices.IsSorted(forward) {
			t.Fatalf("not by e-mail: %v", forward)
		}
		// A cursor that is not one is the first page.
		if r := c.htmx(first+"&after=bm90LWEta2V5&before=%25", "users-results"); r.status != 200 ||
			strings.Join(r.find("[data-testid=user-row] td[data-label=E-mail]"), ",") != strings.Join(forward[:25], ",") {
			t.Fatalf("sort %q: bad cursor: %d", sort, r.status)
		}
	}
	// No count unless asked for; the count keeps the filter.
	res := c.htmx("/users?q=driver", "users-results")
	if r := res.find("[data-testid=range]"); len(r) != 1 || r[0] != "25 shown" {
		t.Fatalf("range: %v", r)
	}
	count, _ := res.doc().Find("[data-testid=count]").Attr("hx-get")
	if count != "/users?count=1&q=driver" {
		t.Fatalf("count link: %q", count)
	}
	if r := c.htmx(count, "users-results").find("[data-testid=range]"); len(r) != 1 || r[0] != "1–25 of 60" {
		t.Fatalf("counted range: %v", r)
	}
	// One page holding all needs no count.
	if r := c.htmx("/users?q=driver&role="+driverRole+"&sort=email", "users-results"); len(r.find("[data-testid=count]")) != 1 {
		t.Fatal("a partial list offers no count")
	}
	if r := c.get("/users?role=" + driverRole + "&q=nobody-matches"); r.status != 200 || len(r.find("[data-testid=user-row]")) != 0 {
		t.Fatalf("empty: %d", r.status)
	}
	// An old numbered link still reads its page, and goes back from it.
	res = c.htmx("/users?q=driver&page=3", "users-results")
	if got := len(res.find("[data-testid=user-row]")); got != 10 {
		t.Fatalf("page 3 rows: %d", got)
	}
	prev, _ := res.doc().Find("a[rel=prev]").Attr("hx-get")
	if !strings.HasPrefix(prev, "/users?before=") || !strings.Contains(prev, "q=driver") {
		t.Fatalf("prev link keeps filter: %q", prev)
	}
	if got := len(c.htmx(prev, "users-results").find("[data-testid=user-row]")); got != 25 {
		t.Fatalf("before page 3: %d rows", got)
	}
	// A cursor that is not one reads the first page.
	if r := c.get("/users?q=driver&after=%25%25"); r.status != 200 || len(r.find("[data-testid=user-row]")) != 25 {
		t.Fatalf("bad cursor: %d", r.status)
	}
}
