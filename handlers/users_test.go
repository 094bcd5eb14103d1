package handlers_test

import (
	"net/http"
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
	c := acct.Owner.login()
	res := c.htmx("/users?q=driver&page=3", "users-results")
	if got := len(res.find("[data-testid=user-row]")); got != 10 {
		t.Fatalf("page 3 rows: %d", got)
	}
	if r := res.find("[data-testid=range]"); len(r) != 1 || r[0] != "51–60 of 60" {
		t.Fatalf("range: %v", r)
	}
	prev, _ := res.doc().Find("a[rel=prev]").Attr("href")
	if prev != "/users?page=2&q=driver" {
		t.Fatalf("prev link keeps filter: %q", prev)
	}
}
