package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func groupIDByName(t testing.TB, a *app, name string) int64 {
	t.Helper()
	groups, err := a.db.Groups(context.Background(), actorByEmail(t, a, "owner@demo.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if g.Name == name {
			return g.ID
		}
	}
	t.Fatalf("no group %s", name)
	return 0
}

// Vehicle access chosen up front: a group grant given with the invitation
// applies when the person accepts it.
func TestInviteWithGroupAccess(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.login("owner@demo.test")
	page := o.get("/users/invite")
	if len(page.find("[data-testid=group-grants] select")) < 6 {
		t.Fatal("the invite form does not offer groups")
	}
	austin := groupIDByName(t, a, "Austin")
	res := o.postForm("/users/invite", url.Values{"email": {"temp@example.com"}, "role_id": {fmt.Sprint(roleIDByName(t, a, "Driver"))},
		"channel": {"web"}, "vehicle_access": {"selected"}, fmt.Sprintf("group_%d", austin): {"manage"}})
	link, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	if res.status != 200 || link == "" {
		t.Fatalf("invite: %d", res.status)
	}
	guest := a.client()
	done := guest.postForm(linkPath(t, link), url.Values{"first_name": {"Tem"}, "last_name": {"Porary"}, "password": {"velvet tram orbit"}, "password_again": {"velvet tram orbit"}})
	if done.status != http.StatusSeeOther {
		t.Fatalf("accept: %d", done.status)
	}
	rows := guest.get("/vehicles").find("[data-testid=vehicle-row]")
	if len(rows) != 9 {
		t.Fatalf("the new driver sees %d vehicles, want Austin's 9", len(rows))
	}
}

// A manager limited to North cannot invite someone onto South, nor give
// manage where they only view.
func TestInviteGroupAccessWithinOwn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	m := a.login("manager@demo.test")
	page := m.get("/users/invite")
	offered := strings.Join(page.find("[data-testid=group-grants] label"), ",")
	if strings.Contains(offered, "South") || strings.Contains(offered, "Austin") || !strings.Contains(offered, "North") {
		t.Fatalf("manager is offered: %s", offered)
	}
	res := m.postForm("/users/invite", url.Values{"email": {"x@example.com"}, "role_id": {fmt.Sprint(roleIDByName(t, a, "Driver"))},
		"channel": {"web"}, "vehicle_access": {"selected"}, fmt.Sprintf("group_%d", groupIDByName(t, a, "Austin")): {"view"}})
	if res.status/100 != 4 || len(res.find("[data-testid=error-grants]")) != 1 {
		t.Fatalf("grant outside scope: %d", res.status)
	}
	if v, _ := res.doc().Find("#email").Attr("value"); v != "x@example.com" {
		t.Fatal("e-mail not kept")
	}
	// Adding directly follows the same rule.
	res = m.postForm("/users/add", url.Values{"first_name": {"A"}, "last_name": {"B"}, "email": {"ab@example.com"}, "password": {"velvet tram orbit"},
		"role_id": {fmt.Sprint(roleIDByName(t, a, "Driver"))}, "channel": {"web"}, "vehicle_access": {"selected"},
		fmt.Sprintf("group_%d", groupIDByName(t, a, "Houston")): {"manage"}})
	if res.status/100 != 4 || len(res.find("[data-testid=error-grants]")) != 1 {
		t.Fatalf("add with grant outside scope: %d", res.status)
	}
	res = m.postForm("/users/add", url.Values{"first_name": {"A"}, "last_name": {"B"}, "email": {"ab@example.com"}, "password": {"velvet tram orbit"},
		"role_id": {fmt.Sprint(roleIDByName(t, a, "Driver"))}, "channel": {"web"}, "vehicle_access": {"selected"},
		fmt.Sprintf("group_%d", groupIDByName(t, a, "Chicago")): {"view"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("add within scope: %d %v", res.status, res.find(".error"))
	}
	if rows := a.loginWith("ab@example.com", "velvet tram orbit").get("/vehicles").find("[data-testid=vehicle-row]"); len(rows) != 9 {
		t.Fatalf("added driver sees %d vehicles, want Chicago's 9", len(rows))
	}
}
