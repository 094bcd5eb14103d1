package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPairingToggleInPlace(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("manager@demo.test")
	res := c.get("/pairing?vq=Sprinter+01&cq=Zenith")
	if res.status != 200 || len(res.find("[data-testid=pairing-table]")) != 0 {
		t.Fatalf("grid without clients: %d", res.status)
	}
	res = c.get("/pairing?vq=Sprinter+01&cq=Lakeside")
	boxes := res.doc().Find("[data-testid=pair-box]")
	if boxes.Length() != 1 {
		t.Fatalf("cells: %d", boxes.Length())
	}
	form := res.doc().Find("[data-testid=pair-toggle]")
	v, cl := form.Find("input[name=vehicle_id]").AttrOr("value", ""), form.Find("input[name=client_id]").AttrOr("value", "")
	// The vehicle's two pairings are not in this grid: the count says where they are.
	if got := strings.Join(strings.Fields(strings.Join(res.find("[data-testid=pair-count]"), "")), " "); got != "2 paired clients, 2 not shown here" {
		t.Fatalf("count in the grid: %q", got)
	}
	if href, _ := res.doc().Find("[data-testid=pair-elsewhere]").Attr("href"); href != "/vehicles/"+v+"/clients" {
		t.Fatalf("link to the other pairings: %q", href)
	}
	elsewhere := form.Find("input[name=elsewhere]").AttrOr("value", "")
	if _, checked := boxes.Attr("checked"); checked {
		t.Fatal("already paired")
	}
	if form.Find("label").Length() != 1 {
		t.Fatal("the checkbox has no label")
	}
	// htmx posts the cell; the answer is the new cell and the count, no page.
	toggle := func(on bool) response {
		vals := url.Values{"vehicle_id": {v}, "client_id": {cl}, "_csrf": {c.csrf()}, "elsewhere": {elsewhere}}
		if on {
			vals.Set("paired", "1")
		}
		return c.postRaw("/pairing/toggle", vals, "HX-Request", "true", "X-CSRF-Token", c.csrf())
	}
	res = toggle(true)
	if res.status != 200 || strings.Contains(res.body, "<html") {
		t.Fatalf("toggle: %d", res.status)
	}
	if _, checked := res.doc().Find("[data-testid=pair-box]").Attr("checked"); !checked {
		t.Fatal("answer not checked")
	}
	if oob := strings.Join(strings.Fields(res.doc().Find("[hx-swap-oob]").Text()), " "); oob != "3 paired clients, 2 not shown here" {
		t.Fatalf("count: %q", oob)
	}
	if got := strings.Join(strings.Fields(res.doc().Find("[data-testid=pair-saved]").Text()), " "); !strings.HasPrefix(got, "Saved") {
		t.Fatalf("the answer does not say it saved: %q", got)
	}
	// Kept after reload.
	res = c.get("/pairing?vq=Sprinter+01&cq=Lakeside")
	if _, checked := res.doc().Find("[data-testid=pair-box]").Attr("checked"); !checked {
		t.Fatal("pairing not kept")
	}
	// And visible from the client's side.
	res = c.htmx("/clients/"+cl+"/vehicles", "client-vehicles")
	if got := res.find("[data-testid=client-vehicles] li a"); strings.Join(got, ",") != "Mercedes Sprinter 01,Ram ProMaster 02" {
		t.Fatalf("client's vehicles: %v", got)
	}
	res = toggle(false)
	if _, checked := res.doc().Find("[data-testid=pair-box]").Attr("checked"); res.status != 200 || checked {
		t.Fatalf("untoggle: %d", res.status)
	}
	// Without script, the form posts and comes back to where it was.
	vals := url.Values{"vehicle_id": {v}, "client_id": {cl}, "paired": {"1"}, "back": {"/pairing?vq=x"}}
	if res := c.postForm("/pairing/toggle", vals); res.status != http.StatusSeeOther || res.header.Get("Location") != "/pairing?vq=x" {
		t.Fatalf("no-script toggle: %d %s", res.status, res.header.Get("Location"))
	}
}

func TestPairingGridPagesBothAxes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	res := c.get("/pairing")
	if n := len(res.find("[data-testid=pairing-row]")); n != 25 {
		t.Fatalf("vehicle rows: %d", n)
	}
	if n := len(res.find("[data-testid=pairing-client]")); n != 10 {
		t.Fatalf("client columns: %d", n)
	}
	if n := len(res.find("[data-testid=pair-box]")); n != 250 {
		t.Fatalf("cells: %d", n)
	}
	nav := res.find("[data-testid=pairing-clients] [data-testid=range]")
	if len(nav) != 1 || nav[0] != "1–10 of 15" {
		t.Fatalf("clients range: %v", nav)
	}
	next := res.doc().Find("[data-testid=pairing-clients] a[rel=next]").AttrOr("href", "")
	res = c.htmx(next, "pairing-grid")
	if n := len(res.find("[data-testid=pairing-client]")); n != 5 || strings.Contains(res.body, "<html") {
		t.Fatalf("second clients page: %d", n)
	}
	next = res.doc().Find("[data-testid=pairing-vehicles] a[rel=next]").AttrOr("href", "")
	if !strings.Contains(next, "cp=2") || !strings.Contains(next, "page=2") {
		t.Fatalf("next vehicles page keeps the clients page: %s", next)
	}
	if n := len(c.htmx(next, "pairing-grid").find("[data-testid=pairing-row]")); n != 15 {
		t.Fatalf("second vehicles page: %d", n)
	}
	// The manager's grid holds their vehicles only.
	res = a.login("manager@demo.test").get("/pairing?page=1")
	if r := res.find("[data-testid=pairing-vehicles] [data-testid=range]"); len(r) != 1 || r[0] != "1–20 of 20" {
		t.Fatalf("manager's vehicles: %v", r)
	}
}

func TestVehicleAndClientPairingSections(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	ids, _ := listedVehicles(t, c, "")
	id := ids["Mercedes Sprinter 01"]
	// The vehicle's page loads its clients section; by default the paired ones.
	page := c.get(fmt.Sprintf("/vehicles/%d", id))
	if got := page.find("[data-testid=pair-count]"); len(got) != 1 || got[0] != "2 paired clients" {
		t.Fatalf("count: %v", got)
	}
	res := c.htmx(fmt.Sprintf("/vehicles/%d/clients", id), "vehicle-clients")
	if got := res.find("[data-testid=vehicle-clients] li a"); strings.Join(got, ",") != "Acme Logistics,Fulton Market Co-op" {
		t.Fatalf("paired clients: %v", got)
	}
	res = c.htmx(fmt.Sprintf("/vehicles/%d/clients?show=all&q=harbor", id), "vehicle-clients")
	if got := res.find("[data-testid=vehicle-clients] li a"); strings.Join(got, ",") != "Blue Harbor Foods,Harbor Hospital" {
		t.Fatalf("search: %v", got)
	}
	// An accountant (no pairing.manage) sees the paired clients, read-only.
	page = a.login("accountant@demo.test").get(fmt.Sprintf("/vehicles/%d", id))
	if got := page.find("[data-testid=vehicle-client-list] a"); len(got) != 2 || len(page.find("#vehicle-clients")) != 0 {
		t.Fatalf("accountant's view: %v", got)
	}
	// A driver sees neither clients nor who else sees the vehicle.
	page = a.login("driver@demo.test").get(fmt.Sprintf("/vehicles/%d", id))
	if page.status != 200 || len(page.find("[data-testid=vehicle-client-list]")) != 0 || len(page.find("#vehicle-members")) != 0 {
		t.Fatalf("driver's view: %d", page.status)
	}
}
