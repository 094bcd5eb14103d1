package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
)

// The demo fleet: North (Chicago, Milwaukee) and South (Austin, Houston),
// 40 vehicles, 20 in each region; the manager manages North, the driver
// has two vehicles.
const demoVehicles = 40

var driverVehicles = []string{"Mercedes Sprinter 01", "Toyota Hilux 21"}

// listedVehicles pages through the vehicle list (all statuses) and returns
// name → id, and the group of each.
func listedVehicles(t testing.TB, c *client, query string) (ids map[string]int64, groups map[string]string) {
	t.Helper()
	ids, groups = map[string]int64{}, map[string]string{}
	for page := 1; page < 100; page++ {
		res := c.htmx(fmt.Sprintf("/vehicles?status=all&page=%d%s", page, query), "vehicles-results")
		if res.status != http.StatusOK {
			t.Fatalf("vehicles page %d: %d", page, res.status)
		}
		rows := res.doc().Find("[data-testid=vehicle-row]")
		if rows.Length() == 0 {
			break
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			a := s.Find("[data-testid=vehicle-name]")
			href, _ := a.Attr("href")
			id, _ := strconv.ParseInt(strings.TrimPrefix(href, "/vehicles/"), 10, 64)
			ids[a.Text()] = id
			groups[a.Text()] = strings.TrimSpace(s.Find("td[data-label=Group]").Text())
		})
	}
	return ids, groups
}

func rangeText(r response) string {
	got := r.find("[data-testid=range]")
	if len(got) == 0 {
		return ""
	}
	return got[0]
}

func TestVehicleScopePerBuiltinRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	all, allGroups := listedVehicles(t, owner, "")
	if len(all) != demoVehicles {
		t.Fatalf("owner sees %d vehicles", len(all))
	}
	north := map[string]bool{"North": true, "Chicago": true, "Milwaukee": true}
	want := map[string]map[string]bool{"owner": {}, "admin": {}, "accountant": {}, "manager": {}, "driver": {}}
	for name, g := range allGroups {
		want["owner"][name], want["admin"][name], want["accountant"][name] = true, true, true
		if north[g] {
			want["manager"][name] = true
		}
	}
	for _, n := range driverVehicles {
		want["driver"][n] = true
	}
	if len(want["manager"]) != 20 {
		t.Fatalf("demo: North holds %d vehicles", len(want["manager"]))
	}
	for _, role := range allRoles {
		t.Run(role, func(t *testing.T) {
			c := a.login(roleLogins[role])
			seen, _ := listedVehicles(t, c, "")
			if len(seen) != len(want[role]) {
				t.Fatalf("%s lists %d vehicles, want %d", role, len(seen), len(want[role]))
			}
			for n := range seen {
				if !want[role][n] {
					t.Errorf("%s lists %s, outside their scope", role, n)
				}
			}
			// The count says the same as the rows.
			res := c.get("/vehicles?status=all")
			if r := rangeText(res); !strings.HasSuffix(r, fmt.Sprintf(" of %d", len(want[role]))) {
				t.Errorf("%s: range %q", role, r)
			}
			// Every detail page answers 200 in scope, 404 outside: nothing leaks.
			for name, id := range all {
				res := c.get(fmt.Sprintf("/vehicles/%d", id))
				switch {
				case want[role][name] && res.status != http.StatusOK:
					t.Errorf("%s: %s answers %d", role, name, res.status)
				case !want[role][name] && res.status != http.StatusNotFound:
					t.Errorf("%s: %s (out of scope) answers %d", role, name, res.status)
				case !want[role][name] && strings.Contains(res.body, name):
					t.Errorf("%s: the 404 for %s names it", role, name)
				}
			}
			// Searching cannot reach past the scope either.
			hits, _ := listedVehicles(t, c, "&q=Toyota+Hilux+27")
			for n := range hits {
				if !want[role][n] {
					t.Errorf("%s finds %s, outside their scope", role, n)
				}
			}
			if _, found := hits["Toyota Hilux 27"]; found != want[role]["Toyota Hilux 27"] {
				t.Errorf("%s: search for Toyota Hilux 27 found it: %v", role, found)
			}
		})
	}
}

func TestManagerLimitedToOneGroup(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	all, groups := listedVehicles(t, a.login("owner@demo.test"), "")
	var inNorth, inSouth int64
	var southName string
	for n, g := range groups {
		switch g {
		case "Chicago":
			inNorth = all[n]
		case "Austin":
			inSouth, southName = all[n], n
		}
	}
	m := a.login("manager@demo.test")

	// Edits in scope pass; out of scope they are 404, like the pages.
	form := url.Values{"name": {"Renamed van"}, "plate": {"IL 1"}, "odometer_km": {"1000"}, "group_id": {groupID(t, m, "Chicago")}}
	if res := m.postEdit(t, fmt.Sprintf("/vehicles/%d/edit", inNorth), fmt.Sprintf("/vehicles/%d", inNorth), form); res.status != http.StatusSeeOther {
		t.Fatalf("edit in scope: %d %s", res.status, res.find(".error"))
	}
	for _, path := range []string{"/vehicles/%d", "/vehicles/%d/archive", "/vehicles/%d/restore"} {
		if res := m.postForm(fmt.Sprintf(path, inSouth), form); res.status != http.StatusNotFound {
			t.Errorf("POST %s out of scope: %d", path, res.status)
		}
	}
	for _, path := range []string{"/vehicles/%d/edit", "/vehicles/%d/clients", "/vehicles/%d/members"} {
		if res := m.get(fmt.Sprintf(path, inSouth)); res.status != http.StatusNotFound || strings.Contains(res.body, southName) {
			t.Errorf("GET %s out of scope: %d", path, res.status)
		}
	}
	if res := m.postForm("/pairing/toggle", url.Values{"vehicle_id": {fmt.Sprint(inSouth)}, "client_id": {"1"}, "paired": {"1"}}); res.status != http.StatusNotFound {
		t.Errorf("pair out of scope: %d", res.status)
	}
	// Moving a vehicle out of the managed group is refused next to the field.
	form.Set("group_id", groupID(t, a.login("owner@demo.test"), "Austin"))
	res := m.postEdit(t, fmt.Sprintf("/vehicles/%d/edit", inNorth), fmt.Sprintf("/vehicles/%d", inNorth), form)
	if res.status != http.StatusUnprocessableEntity || len(res.find("#vehicle-group ~ .error")) != 1 {
		t.Fatalf("move out of scope: %d %v", res.status, res.find(".error"))
	}
	// The groups page shows the manager's tree only, with counts of their vehicles.
	res = m.get("/groups")
	names := res.find("[data-testid=group-name]")
	sort.Strings(names)
	if strings.Join(names, ",") != "Chicago,Milwaukee,North" {
		t.Fatalf("manager's groups: %v", names)
	}
	// The group filter cannot widen the scope.
	if _, got := listedVehicles(t, m, "&group="+groupID(t, a.login("owner@demo.test"), "South")); len(got) != 0 {
		t.Fatalf("group filter shows %d vehicles of another region", len(got))
	}
	// Moving a vehicle into the manager's region shows it to them on the next request.
	owner := a.login("owner@demo.test")
	ownerForm := url.Values{"name": {southName}, "group_id": {groupID(t, owner, "Milwaukee")}}
	if res := owner.postEdit(t, fmt.Sprintf("/vehicles/%d/edit", inSouth), fmt.Sprintf("/vehicles/%d", inSouth), ownerForm); res.status != http.StatusSeeOther {
		t.Fatalf("owner moves: %d", res.status)
	}
	if res := m.get(fmt.Sprintf("/vehicles/%d", inSouth)); res.status != http.StatusOK {
		t.Fatalf("moved into scope: %d", res.status)
	}
	if seen, _ := listedVehicles(t, m, ""); len(seen) != 21 {
		t.Fatalf("after the move the manager lists %d", len(seen))
	}
}

// groupID finds a group's id in the vehicle list's group filter.
func groupID(t testing.TB, c *client, name string) string {
	t.Helper()
	var id string
	c.get("/vehicles").doc().Find("#vehicles-group option").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(strings.ReplaceAll(s.Text(), "\u00a0", " ")) == name {
			id, _ = s.Attr("value")
		}
	})
	if id == "" {
		t.Fatalf("no group %s offered", name)
	}
	return id
}

// otherAccount creates a second account with a group, a vehicle, a client
// and a member (fixtures), and returns their ids.
func otherAccount(t testing.TB, a *app) (group, vehicle, client, member int64) {
	t.Helper()
	o := mustAccount(t, a, "Other")
	group = mustGroup(t, o, "Other group", 0)
	vehicle = mustVehicle(t, o, "Other van", group)
	client = mustClient(t, o, "Other client")
	return group, vehicle, client, o.Owner.ID
}

func TestOtherAccountsIdsAnswer404(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	g, v, cl, m := otherAccount(t, a)
	owner := a.login("owner@demo.test")
	for _, path := range []string{
		fmt.Sprintf("/vehicles/%d", v), fmt.Sprintf("/vehicles/%d/edit", v), fmt.Sprintf("/vehicles/%d/clients", v),
		fmt.Sprintf("/vehicles/%d/members", v), fmt.Sprintf("/clients/%d", cl), fmt.Sprintf("/clients/%d/edit", cl),
		fmt.Sprintf("/clients/%d/vehicles", cl), fmt.Sprintf("/users/%d/access", m),
	} {
		if res := owner.get(path); res.status != http.StatusNotFound || strings.Contains(res.body, "Other") {
			t.Errorf("GET %s: %d", path, res.status)
		}
	}
	for path, form := range map[string]url.Values{
		fmt.Sprintf("/vehicles/%d", v):           {"name": {"x"}},
		fmt.Sprintf("/vehicles/%d/archive", v):   nil,
		fmt.Sprintf("/clients/%d", cl):           {"name": {"x"}},
		fmt.Sprintf("/clients/%d/delete", cl):    nil,
		fmt.Sprintf("/groups/%d", g):             {"name": {"x"}},
		fmt.Sprintf("/groups/%d/delete", g):      nil,
		"/pairing/toggle":                        {"vehicle_id": {fmt.Sprint(v)}, "client_id": {"1"}, "paired": {"1"}},
		fmt.Sprintf("/users/%d/access/grant", m): {"kind": {"vehicle"}, "target_id": {"1"}, "level": {"view"}},
		"/users/5/access/grant":                  {"kind": {"vehicle"}, "target_id": {fmt.Sprint(v)}, "level": {"view"}},
	} {
		if res := owner.postForm(path, form); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d", path, res.status)
		}
	}
	// Pairing the demo's vehicle with the other account's client is not found either.
	if res := owner.postForm("/pairing/toggle", url.Values{"vehicle_id": {"1"}, "client_id": {fmt.Sprint(cl)}, "paired": {"1"}}); res.status != http.StatusNotFound {
		t.Errorf("pair with another account's client: %d", res.status)
	}
}

func TestVehicleFormKeepsInputAndSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("admin@demo.test")
	res := c.get("/vehicles/new")
	if res.status != 200 || len(res.find("[data-testid=vehicle-free]")) != 1 {
		t.Fatalf("new form: %d", res.status)
	}
	for _, field := range []string{"vehicle-name", "vehicle-plate", "vehicle-vin", "vehicle-odometer"} {
		if _, ok := res.doc().Find("#" + field).Attr("maxlength"); !ok {
			t.Errorf("%s has no maxlength", field)
		}
		if res.doc().Find("label[for="+field+"]").Length() != 1 {
			t.Errorf("%s has no label", field)
		}
	}
	res = c.postForm("/vehicles", url.Values{"name": {""}, "plate": {"IL 9"}, "vin": {"BAD-VIN!"}, "odometer_km": {"lots"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", res.status)
	}
	if n := len(res.find(".field .error")); n != 3 {
		t.Fatalf("want 3 messages (name, VIN, odometer), got %v", res.find(".field .error"))
	}
	if v, _ := res.doc().Find("#vehicle-plate").Attr("value"); v != "IL 9" {
		t.Fatalf("plate not kept: %q", v)
	}
	if v, _ := res.doc().Find("#vehicle-vin").Attr("aria-invalid"); v != "true" {
		t.Fatal("VIN not marked invalid")
	}
	// Too long for the field: refused by the server too, not only by maxlength.
	res = c.postForm("/vehicles", url.Values{"name": {strings.Repeat("x", 81)}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("long name: %d", res.status)
	}
	res = c.postForm("/vehicles", url.Values{"name": {"New van"}, "odometer_km": {"12,500"}, "group_id": {"0"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create: %d %v", res.status, res.find(".error"))
	}
	page := c.get(res.header.Get("Location"))
	if got := page.find("[data-testid=vehicle-title]"); len(got) != 1 || got[0] != "New van" || !strings.Contains(page.body, "12,500 km") {
		t.Fatalf("created vehicle page: %v", got)
	}
}

func TestVehicleLimitMessage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `UPDATE subscriptions SET paid_vehicles = 40`)
	c := a.login("owner@demo.test")
	res := c.postForm("/vehicles", url.Values{"name": {"One too many"}, "group_id": {"0"}})
	if res.status != http.StatusConflict {
		t.Fatalf("over the limit: %d", res.status)
	}
	msg := strings.Join(res.find("[data-testid=form-error]"), " ")
	if !strings.Contains(msg, "pays for 40 vehicles and 40 are in use") || !strings.Contains(msg, "raise the number of paid vehicles") {
		t.Fatalf("message: %q", msg)
	}
	if v, _ := res.doc().Find("#vehicle-name").Attr("value"); v != "One too many" {
		t.Fatal("name not kept")
	}
	// Archiving one frees a place; restoring it again is refused with the same message.
	ids, _ := listedVehicles(t, c, "")
	id := ids["Mercedes Sprinter 01"]
	if res := c.postForm(fmt.Sprintf("/vehicles/%d/archive", id), url.Values{"back": {"/vehicles"}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/vehicles" {
		t.Fatalf("archive: %d %s", res.status, res.header.Get("Location"))
	}
	if res := c.postForm("/vehicles", url.Values{"name": {"Replacement"}, "group_id": {"0"}}); res.status != http.StatusSeeOther {
		t.Fatalf("create after archive: %d", res.status)
	}
	res = c.postForm(fmt.Sprintf("/vehicles/%d/restore", id), url.Values{"back": {"https://evil.example/"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != fmt.Sprintf("/vehicles/%d", id) {
		t.Fatalf("restore: %d %s", res.status, res.header.Get("Location"))
	}
	if flash := c.get(res.header.Get("Location")).find(".flash-error"); len(flash) != 1 || !strings.Contains(flash[0], "pays for 40 vehicles") {
		t.Fatalf("restore message: %v", flash)
	}
	// The subscription page says the same numbers.
	res = a.login("accountant@demo.test").get("/subscription")
	if got := res.find("[data-testid=paid-vehicles]"); len(got) != 1 || got[0] != "40" {
		t.Fatalf("paid: %v", got)
	}
	if got := res.find("[data-testid=vehicles-in-use]"); len(got) != 1 || !strings.HasPrefix(got[0], "40 ") {
		t.Fatalf("in use: %v", got)
	}
	if got := res.find("[data-testid=subscription-account]"); len(got) != 1 || !strings.Contains(got[0], "Demo Fleet") {
		t.Fatalf("accounts: %v", got)
	}
}

func TestButtonsFollowPermissionsAndLevel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids, _ := listedVehicles(t, a.login("owner@demo.test"), "")
	for who, want := range map[string]struct{ create, edit bool }{
		"owner": {true, true}, "manager": {true, true}, "accountant": {false, false}, "driver": {false, false},
	} {
		res := a.login(roleLogins[who]).get("/vehicles")
		if got := len(res.find("[data-testid=vehicle-new]")) == 1; got != want.create {
			t.Errorf("%s: new button %v", who, got)
		}
		if got := len(res.find("[data-testid=vehicle-edit]")) > 0; got != want.edit {
			t.Errorf("%s: edit links %v", who, got)
		}
	}
	// A vehicle the member only views shows no edit or archive.
	owner := a.login("owner@demo.test")
	mgrID := memberIDStr(t, a, "manager@demo.test")
	res := owner.postForm(fmt.Sprintf("/users/%s/access/grant", mgrID), url.Values{"kind": {"vehicle"}, "target_id": {fmt.Sprint(ids["Toyota Hilux 21"])}, "level": {"view"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("grant: %d %v", res.status, res.find("[data-testid=grant-error]"))
	}
	page := a.login("manager@demo.test").get(fmt.Sprintf("/vehicles/%d", ids["Toyota Hilux 21"]))
	if page.status != 200 || len(page.find("[data-testid=vehicle-edit]")) != 0 || len(page.find("[data-testid=vehicle-archive]")) != 0 {
		t.Fatalf("view-only vehicle page: %d", page.status)
	}
	if got := page.find("[data-testid=vehicle-level]"); len(got) != 1 || got[0] != "view" {
		t.Fatalf("level: %v", got)
	}
	if res := a.login("manager@demo.test").postForm(fmt.Sprintf("/vehicles/%d", ids["Toyota Hilux 21"]), url.Values{"name": {"x"}}); res.status != http.StatusForbidden {
		t.Fatalf("edit a viewed vehicle: %d", res.status)
	}
}

// memberID finds the id of a demo member by e-mail.
func memberIDStr(t testing.TB, a *app, email string) string {
	t.Helper()
	ctx := context.Background()
	owner, err := a.db.ActorByMember(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := a.db.ListMembers(ctx, owner, db.MemberFilter{Query: email})
	if err != nil || len(rows) != 1 {
		t.Fatalf("member %s: %v", email, err)
	}
	return strconv.FormatInt(rows[0].ID, 10)
}

// One-line fields refuse control characters (an escape code would reach
// every list and export that shows the name).
func TestNamesRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("admin@demo.test")
	for _, tc := range []struct {
		path, field string
		form        url.Values
	}{
		{"/vehicles", "name", url.Values{"name": {"Van\x1b[31m"}}},
		{"/vehicles", "plate", url.Values{"name": {"Van"}, "plate": {"AB\x00 1"}}},
		{"/clients", "name", url.Values{"name": {"Acme\x07"}}},
	} {
		res := c.postForm(tc.path, tc.form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find(".field .error"), " "), "Remove the control characters") {
			t.Errorf("%s %s: %d %v", tc.path, tc.field, res.status, res.find(".field .error"))
		}
	}
	res := a.login("owner@demo.test").postForm("/groups", url.Values{"name": {"Depot\x1b"}, "parent_id": {"0"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Remove the control characters") {
		t.Errorf("group: %d", res.status)
	}
}
