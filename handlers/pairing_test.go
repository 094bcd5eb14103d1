package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
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
	// No count per view: the range tells what the page shows.
	if len(nav) != 1 || nav[0] != "10 shown" {
		t.Fatalf("clients range: %v", nav)
	}
	next := res.doc().Find("[data-testid=pairing-clients] a[rel=next]").AttrOr("href", "")
	res = c.htmx(next, "pairing-grid")
	if n := len(res.find("[data-testid=pairing-client]")); n != 5 || strings.Contains(res.body, "<html") {
		t.Fatalf("second clients page: %d", n)
	}
	next = res.doc().Find("[data-testid=pairing-vehicles] a[rel=next]").AttrOr("href", "")
	if u, _ := url.Parse(next); u == nil || u.Query().Get("ca") == "" || u.Query().Get("va") == "" {
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

// pairingAxisWalk follows one axis of the grid (testid "pairing-vehicles"
// or "pairing-clients") from first to its end by its Next links and back
// by its Previous links, as htmx requests. It answers the rows (by
// rowSel) seen each way, in list order, and checks that the other axis
// (otherSel) stays where it stood on every page.
func pairingAxisWalk(t *testing.T, c *client, first, axis, rowSel, otherSel string) (forward, backward []string) {
	t.Helper()
	href := first
	var other []string
	var pagesBack [][]string
	link := func(res response, rel string) (string, bool) {
		return res.doc().Find("[data-testid=" + axis + "] a[rel=" + rel + "]").Attr("hx-get")
	}
	step := func(href string) response {
		t.Helper()
		res := c.htmx(href, "pairing-grid")
		if res.status != 200 || strings.Contains(res.body, "<html") {
			t.Fatalf("%s: %d", href, res.status)
		}
		o := res.find(otherSel)
		if other == nil {
			other = o
		} else if strings.Join(o, "\n") != strings.Join(other, "\n") {
			t.Fatalf("%s: the other axis moved: %v, was %v", href, o, other)
		}
		return res
	}
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatal("no end going forward")
		}
		res := step(href)
		forward = append(forward, res.find(rowSel)...)
		next, ok := link(res, "next")
		if ok {
			href = next
			continue
		}
		pagesBack = append(pagesBack, res.find(rowSel))
		prev, ok := link(res, "prev")
		for ok {
			if len(pagesBack) > 50 {
				t.Fatal("no end going back")
			}
			r := step(prev)
			pagesBack = append(pagesBack, r.find(rowSel))
			prev, ok = link(r, "prev")
		}
		break
	}
	for i := len(pagesBack) - 1; i >= 0; i-- {
		backward = append(backward, pagesBack[i]...)
	}
	return forward, backward
}

// TestPairingGridCursorsWalkEachScope walks both axes of the grid with
// their cursors, forward and back, for each role that has the grid: every
// vehicle and client the member sees comes exactly once, in order, and
// nothing out of the member's scope ever shows; a bad cursor is the first
// page.
func TestPairingGridCursorsWalkEachScope(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Pair Walk")
	mustExec(t, a, `UPDATE subscriptions SET paid_vehicles = 1000 WHERE id = (SELECT subscription_id FROM accounts WHERE id = ?)`, acct.ID)
	in := mustGroup(t, acct, "In", 0)
	sub := mustGroup(t, acct, "In sub", in)
	out := mustGroup(t, acct, "Out", 0)
	var inNames, allNames, clients []string
	for i := 1; i <= 30; i++ {
		g := in
		if i%3 == 0 {
			g = sub
		}
		name := fmt.Sprintf("In %02d", i)
		mustVehicle(t, acct, name, g)
		inNames = append(inNames, name)
		mustVehicle(t, acct, fmt.Sprintf("Out %02d", i), out)
	}
	for i := 1; i <= 30; i++ {
		allNames = append(allNames, fmt.Sprintf("In %02d", i))
	}
	for i := 1; i <= 30; i++ {
		allNames = append(allNames, fmt.Sprintf("Out %02d", i))
	}
	for i := 1; i <= 23; i++ {
		name := fmt.Sprintf("Client %02d", i)
		mustClient(t, acct, name)
		clients = append(clients, name)
	}
	mgr := mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, mgr, "group", in, db.Manage)
	admin := mustMember(t, acct, perm.Admin, "all")
	const vrow, crow = "[data-testid=pairing-vehicle]", "[data-testid=pairing-client]"
	for _, tc := range []struct {
		name     string
		c        *client
		vehicles []string
	}{
		{"owner", acct.Owner.login(), allNames},
		{"admin", admin.login(), allNames},
		{"manager", mgr.login(), inNames},
	} {
		// Across the vehicles, with the clients on their second page.
		res := tc.c.htmx("/pairing", "pairing-grid")
		cnext, _ := res.doc().Find("[data-testid=pairing-clients] a[rel=next]").Attr("hx-get")
		if cnext == "" {
			t.Fatalf("%s: no next clients page", tc.name)
		}
		fwd, back := pairingAxisWalk(t, tc.c, cnext, "pairing-vehicles", vrow, crow)
		onceEach(t, tc.name+" vehicles forward", fwd, tc.vehicles)
		onceEach(t, tc.name+" vehicles back", back, tc.vehicles)
		// Across the clients, with the vehicles on their second page.
		vnext, _ := res.doc().Find("[data-testid=pairing-vehicles] a[rel=next]").Attr("hx-get")
		fwd, back = pairingAxisWalk(t, tc.c, vnext, "pairing-clients", crow, vrow)
		onceEach(t, tc.name+" clients forward", fwd, clients)
		onceEach(t, tc.name+" clients back", back, clients)
		// Within a search and a group filter the cursors keep to it.
		fwd, _ = pairingAxisWalk(t, tc.c, "/pairing?group="+fmt.Sprint(in)+"&cq=Client+1", "pairing-vehicles", vrow, crow)
		onceEach(t, tc.name+" group In", fwd, inNames)
		// A cursor that is not one is the first page, not an error.
		first := res.find(vrow)
		bad := tc.c.htmx("/pairing?va=%25%25not-a-cursor&vb=Zm9v&ca=!!", "pairing-grid")
		if bad.status != 200 || strings.Join(bad.find(vrow), ",") != strings.Join(first, ",") || len(bad.find(crow)) != 10 {
			t.Fatalf("%s: bad cursor: %d %v", tc.name, bad.status, bad.find(vrow))
		}
	}
	// No total is counted per view; count=1 asks for it.
	c := mgr.login()
	if r := c.get("/pairing").find("[data-testid=pairing-vehicles] [data-testid=range]"); len(r) != 1 || r[0] != "25 shown" {
		t.Fatalf("manager's range: %v", r)
	}
	if r := c.get("/pairing?count=1").find("[data-testid=pairing-vehicles] [data-testid=range]"); len(r) != 1 || r[0] != "1–25 of 30" {
		t.Fatalf("manager's counted range: %v", r)
	}
}
