package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// clientIDs pages through the client list and returns name → id.
func clientIDs(t testing.TB, c *client) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for page := 1; page < 50; page++ {
		res := c.htmx(fmt.Sprintf("/clients?page=%d", page), "clients-results")
		links := res.doc().Find("[data-testid=client-name]")
		if res.status != http.StatusOK || links.Length() == 0 {
			break
		}
		for i := range links.Length() {
			l := links.Eq(i)
			id, _ := strconv.ParseInt(strings.TrimPrefix(l.AttrOr("href", ""), "/clients/"), 10, 64)
			out[l.Text()] = id
		}
	}
	return out
}

func TestClientsFollowRule4(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	all := clientIDs(t, a.login("owner@demo.test"))
	if len(all) != 15 {
		t.Fatalf("owner sees %d clients", len(all))
	}
	// The accountant has all vehicles, and some of them have no pairings:
	// every client is usable, so every client is listed.
	if got := clientIDs(t, a.login("accountant@demo.test")); len(got) != 15 {
		t.Fatalf("accountant sees %d clients", len(got))
	}
	// A member without clients.manage whose vehicles are all paired sees
	// only the paired clients. Make the accountant such a member: one
	// vehicle, paired with two clients.
	owner := a.login("owner@demo.test")
	acct := memberIDStr(t, a, "accountant@demo.test")
	ids, _ := listedVehicles(t, owner, "")
	van := ids["Toyota Hilux 03"]
	if res := owner.postForm("/users/"+acct+"/access/mode", url.Values{"mode": {"selected"}}); res.status != http.StatusSeeOther {
		t.Fatalf("mode: %d", res.status)
	}
	if res := owner.postForm("/users/"+acct+"/access/grant", url.Values{"kind": {"vehicle"}, "target_id": {fmt.Sprint(van)}, "level": {"view"}}); res.status != http.StatusSeeOther {
		t.Fatalf("grant: %d", res.status)
	}
	// The demo pairs Toyota Hilux 03 with Evergreen Schools only.
	c := a.login("accountant@demo.test")
	got := clientIDs(t, c)
	if len(got) != 1 || got["Evergreen Schools"] == 0 {
		t.Fatalf("accountant with one paired vehicle sees %v", got)
	}
	if res := c.get(fmt.Sprintf("/clients/%d", all["Acme Logistics"])); res.status != http.StatusNotFound {
		t.Fatalf("client outside the client-usability rule: %d", res.status)
	}
	if res := c.get(fmt.Sprintf("/clients/%d", all["Evergreen Schools"])); res.status != http.StatusOK {
		t.Fatalf("paired client: %d", res.status)
	}
	// Read-only: no buttons to change clients.
	if res := c.get("/clients"); len(res.find("[data-testid=client-new]")) != 0 {
		t.Fatal("accountant is offered New client")
	}
}

func TestClientCRUDAndDeleteRefusedWhileTripsReferToIt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("manager@demo.test")
	res := c.postForm("/clients", url.Values{"name": {""}, "email": {"nope"}, "phone": {"+1 555"}})
	if res.status != http.StatusUnprocessableEntity || len(res.find(".field .error")) != 2 {
		t.Fatalf("bad form: %d %v", res.status, res.find(".field .error"))
	}
	if v, _ := res.doc().Find("#client-phone").Attr("value"); v != "+1 555" {
		t.Fatal("phone not kept")
	}
	res = c.postForm("/clients", url.Values{"name": {"acme logistics"}})
	if res.status != http.StatusConflict || !strings.Contains(strings.Join(res.find(".field .error"), ""), "already exists") {
		t.Fatalf("duplicate: %d", res.status)
	}
	res = c.postForm("/clients", url.Values{"name": {"Zenith Couriers"}, "email": {"ops@zenith.example"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create: %d", res.status)
	}
	loc := res.header.Get("Location")
	id := strings.TrimPrefix(loc, "/clients/")
	if res := c.postEdit(t, loc+"/edit", loc, url.Values{"name": {"Zenith Couriers Ltd"}}); res.status != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.status)
	}
	if got := c.get(loc).find("[data-testid=client-title]"); len(got) != 1 || got[0] != "Zenith Couriers Ltd" {
		t.Fatalf("after edit: %v", got)
	}
	// A trip with this client blocks the delete, with a message that says why.
	mustExec(t, a, `INSERT INTO trips (account_id, vehicle_id, client_id, trip_date, distance_km, created_at) VALUES (1, 1, ?, '2026-01-05', 12, '')`, id)
	res = c.postForm(loc+"/delete", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != loc {
		t.Fatalf("refused delete: %d %s", res.status, res.header.Get("Location"))
	}
	if flash := c.get(loc).find(".flash-error"); len(flash) != 1 || !strings.Contains(flash[0], "it is the client of 1 trip") {
		t.Fatalf("message: %v", flash)
	}
	mustExec(t, a, `DELETE FROM trips WHERE client_id = ?`, id)
	if res := c.postForm(loc+"/delete", nil); res.status != http.StatusSeeOther || res.header.Get("Location") != "/clients" {
		t.Fatalf("delete: %d", res.status)
	}
	if res := c.get(loc); res.status != http.StatusNotFound {
		t.Fatalf("deleted client: %d", res.status)
	}
}
