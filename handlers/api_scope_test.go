package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// apiCall is one request of the scope tests.
type apiCall struct {
	method, path, body string
	ifMatch            bool
}

func (k apiCall) send(c *client, token string) response {
	if k.ifMatch {
		return c.send(k.method, "/api/v1"+k.path, token, k.body, "If-Match", `"1"`)
	}
	return c.send(k.method, "/api/v1"+k.path, token, k.body)
}

// TestAPIOtherAccountIDs: the Owner of one account, who may do anything
// in it, gets 404 for every id of another account, through every API
// route that takes one, and nothing of the other account changes.
func TestAPIOtherAccountIDs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	home, other := mustAccount(t, a, "Home Fleet"), mustAccount(t, a, "Other Fleet")
	hv, hc := mustVehicle(t, home, "Home Van", 0), mustClient(t, home, "Home Client")
	hm := mustMember(t, home, perm.Driver, "selected")
	g := mustGroup(t, other, "Other Depot", 0)
	v, cl := mustVehicle(t, other, "Other Van", g), mustClient(t, other, "Other Client")
	m := mustMember(t, other, perm.Driver, "selected")
	mustGrant(t, other, m, "vehicle", v, db.View)
	if _, _, err := a.db.SetPairing(t0, other.Owner.Actor, v, cl, true); err != nil {
		t.Fatal(err)
	}
	role := other.role(t, perm.Manager)
	day := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	tr := idOf(t, a.client().send(POST, "/api/v1/trips", tokenOf(t, other.Owner), fmt.Sprintf(`{"vehicle_id":%d,"date":%q,"purpose":"business","distance_km":5}`, v, day)))
	auditBefore := countRows(t, a, `SELECT COUNT(*) FROM audit_events WHERE account_id = ?`, other.ID)

	calls := []apiCall{
		{GET, fmt.Sprintf("/vehicles/%d", v), "", false},
		{PUT, fmt.Sprintf("/vehicles/%d", v), `{"name":"Taken"}`, true},
		{DELETE, fmt.Sprintf("/vehicles/%d", v), "", false},
		{POST, fmt.Sprintf("/vehicles/%d/restore", v), "", false},
		{GET, fmt.Sprintf("/groups/%d", g), "", false},
		{PUT, fmt.Sprintf("/groups/%d", g), `{"name":"Taken"}`, true},
		{DELETE, fmt.Sprintf("/groups/%d", g), "", false},
		{GET, fmt.Sprintf("/clients/%d", cl), "", false},
		{PUT, fmt.Sprintf("/clients/%d", cl), `{"name":"Taken"}`, true},
		{DELETE, fmt.Sprintf("/clients/%d", cl), "", false},
		{GET, fmt.Sprintf("/pairings?vehicle_id=%d", v), "", false},
		{GET, fmt.Sprintf("/pairings?client_id=%d", cl), "", false},
		{POST, "/pairings", fmt.Sprintf(`{"vehicle_id":%d,"client_id":%d}`, v, hc), false},
		{POST, "/pairings", fmt.Sprintf(`{"vehicle_id":%d,"client_id":%d}`, hv, cl), false},
		{DELETE, fmt.Sprintf("/pairings/%d/%d", v, cl), "", false},
		{GET, fmt.Sprintf("/users/%d", m.ID), "", false},
		{PUT, fmt.Sprintf("/users/%d", m.ID), `{"channel":"both"}`, true},
		{DELETE, fmt.Sprintf("/users/%d", m.ID), "", false},
		{POST, fmt.Sprintf("/users/%d/deactivate", m.ID), "", false},
		{POST, fmt.Sprintf("/users/%d/reactivate", m.ID), "", false},
		{GET, fmt.Sprintf("/users/%d/access", m.ID), "", false},
		{PUT, fmt.Sprintf("/users/%d/access/mode", m.ID), `{"mode":"all"}`, false},
		{POST, fmt.Sprintf("/users/%d/grants", m.ID), fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"manage"}`, hv), false},
		{POST, fmt.Sprintf("/users/%d/grants", hm.ID), fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view"}`, v), false},
		{POST, fmt.Sprintf("/users/%d/grants", hm.ID), fmt.Sprintf(`{"kind":"group","target_id":%d,"level":"view"}`, g), false},
		{DELETE, fmt.Sprintf("/users/%d/grants/vehicle/%d", m.ID, v), "", false},
		{GET, fmt.Sprintf("/roles/%d", role), "", false},
		{PUT, fmt.Sprintf("/roles/%d", role), `{"permissions":{"vehicles.view":{}}}`, true},
		{GET, fmt.Sprintf("/trips/%d", tr), "", false},
		{PUT, fmt.Sprintf("/trips/%d", tr), fmt.Sprintf(`{"date":%q,"purpose":"private","distance_km":1,"version":1}`, day), false},
		{DELETE, fmt.Sprintf("/trips/%d?version=1", tr), "", false},
	}
	tok := tokenOf(t, home.Owner)
	c := a.client()
	for _, k := range calls {
		if r := k.send(c, tok); r.status != http.StatusNotFound || !problemJSON(r) {
			t.Errorf("%s %s with another account's id: %d, want 404: %s", k.method, k.path, r.status, r.body)
		}
	}
	// Creates that name another account's group or role are refused, as
	// in the console: it is not among the offered ones.
	for _, k := range []apiCall{
		{POST, "/vehicles", fmt.Sprintf(`{"name":"Sneaky","group_id":%d}`, g), false},
		{POST, "/groups", fmt.Sprintf(`{"name":"Sneaky","parent_id":%d}`, g), false},
		{POST, "/users", fmt.Sprintf(`{"email":"sneaky@example.com","role_id":%d}`, role), false},
		{POST, "/roles", fmt.Sprintf(`{"name":"Sneaky","copy_from":%d}`, role), false},
	} {
		if r := k.send(c, tok); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s %s naming another account's id: %d, want 422: %s", k.method, k.path, r.status, r.body)
		}
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM audit_events WHERE account_id = ?`, other.ID); n != auditBefore {
		t.Errorf("the other account has %d audit events, had %d: something changed", n, auditBefore)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM vehicles WHERE name = 'Sneaky' OR name = 'Taken'`); n != 0 {
		t.Error("a vehicle was written through another account's id")
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM vehicles v JOIN vehicle_clients p ON p.vehicle_id = v.id WHERE v.id = ? AND v.status = 'active'`, v); n != 1 {
		t.Error("the other account's vehicle or pairing changed")
	}
}

// TestAPIOutOfScopeIDs: a Manager who manages the group North gets 404
// for what lies in South, on every route, and cannot change a member
// whose access reaches beyond their own.
func TestAPIOutOfScopeIDs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Scoped Fleet")
	north, south := mustGroup(t, acct, "North", 0), mustGroup(t, acct, "South", 0)
	vn, vs := mustVehicle(t, acct, "North Van", north), mustVehicle(t, acct, "South Van", south)
	cl := mustClient(t, acct, "Acme")
	mgr := mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, mgr, "group", north, db.Manage)
	southDriver := mustMember(t, acct, perm.Driver, "selected")
	mustGrant(t, acct, southDriver, "vehicle", vs, db.Manage)
	newDriver := mustMember(t, acct, perm.Driver, "selected")
	day := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	tr := idOf(t, a.client().send(POST, "/api/v1/trips", tokenOf(t, acct.Owner), fmt.Sprintf(`{"vehicle_id":%d,"date":%q,"purpose":"business","distance_km":5}`, vs, day)))

	tok := tokenOf(t, mgr)
	c := a.client()
	for _, k := range []apiCall{
		{GET, fmt.Sprintf("/vehicles/%d", vs), "", false},
		{PUT, fmt.Sprintf("/vehicles/%d", vs), fmt.Sprintf(`{"name":"Mine","group_id":%d}`, north), true},
		{DELETE, fmt.Sprintf("/vehicles/%d", vs), "", false},
		{POST, fmt.Sprintf("/vehicles/%d/restore", vs), "", false},
		{GET, fmt.Sprintf("/groups/%d", south), "", false},
		{PUT, fmt.Sprintf("/groups/%d", south), fmt.Sprintf(`{"name":"Mine","parent_id":%d}`, north), true},
		{DELETE, fmt.Sprintf("/groups/%d", south), "", false},
		{GET, fmt.Sprintf("/pairings?vehicle_id=%d", vs), "", false},
		{POST, "/pairings", fmt.Sprintf(`{"vehicle_id":%d,"client_id":%d}`, vs, cl), false},
		{DELETE, fmt.Sprintf("/pairings/%d/%d", vs, cl), "", false},
		{POST, fmt.Sprintf("/users/%d/grants", newDriver.ID), fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view"}`, vs), false},
		{POST, fmt.Sprintf("/users/%d/grants", newDriver.ID), fmt.Sprintf(`{"kind":"group","target_id":%d,"level":"view"}`, south), false},
		{GET, fmt.Sprintf("/trips/%d", tr), "", false},
		{PUT, fmt.Sprintf("/trips/%d", tr), fmt.Sprintf(`{"date":%q,"purpose":"private","distance_km":1,"version":1}`, day), false},
	} {
		if r := k.send(c, tok); r.status != http.StatusNotFound || !problemJSON(r) {
			t.Errorf("manager of North: %s %s: %d, want 404: %s", k.method, k.path, r.status, r.body)
		}
	}
	// The lists hold North only.
	var names []string
	for _, v := range jsonOf(t, c.send(GET, "/api/v1/vehicles?status=all", tok, ""))["vehicles"].([]any) {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "North Van" {
		t.Errorf("manager's vehicles: %v", names)
	}
	// A member whose access reaches South is given nothing by the manager
	// and not brought back (no escalation through what a change leaves
	// them with): refused, and unchanged.
	mustSetStatus(t, acct, southDriver.ID, "deactivated")
	for _, k := range []apiCall{
		{POST, fmt.Sprintf("/users/%d/reactivate", southDriver.ID), "", false},
		{POST, fmt.Sprintf("/users/%d/grants", southDriver.ID), fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view"}`, vn), false},
	} {
		if r := k.send(c, tok); r.status != http.StatusForbidden || !problemJSON(r) {
			t.Errorf("manager of North: %s %s: %d, want 403: %s", k.method, k.path, r.status, r.body)
		}
	}
	m := jsonOf(t, c.send(GET, fmt.Sprintf("/api/v1/users/%d", southDriver.ID), tok, ""))
	if m["status"] != "deactivated" {
		t.Errorf("the south driver changed: %v", m)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM member_vehicle_grants WHERE member_id = ?`, southDriver.ID); n != 1 {
		t.Errorf("the south driver has %d grants, want 1", n)
	}
	// What the manager may do, it does: a North vehicle, a view grant on it.
	if r := c.send(POST, fmt.Sprintf("/api/v1/users/%d/grants", newDriver.ID), tok, fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view"}`, vn)); r.status != http.StatusCreated {
		t.Errorf("grant within reach: %d %s", r.status, r.body)
	}
}

// scenarioState is what the web-or-API scenario leaves, by name.
type scenarioState struct {
	DriverAPI    []string // vehicles the Driver lists through the API
	DriverWeb    []string // vehicles the Driver's console lists
	Clients      []string // clients usable with the new vehicle
	Audit        []string // the account's audit kinds, oldest first
	VehicleGroup string
	Version      float64
}

// TestWebAndAPIGiveTheSameState runs one scenario through the console and,
// on a second server, through the API: a Manager scoped to the group North
// creates a vehicle, pairs it with a client and grants it to a Driver.
// Both leave the same state, and the Driver sees the vehicle both ways.
func TestWebAndAPIGiveTheSameState(t *testing.T) {
	t.Parallel()
	run := func(viaAPI bool) scenarioState {
		a := newApp(t)
		acct := mustAccount(t, a, "Same Fleet")
		north, south := mustGroup(t, acct, "North", 0), mustGroup(t, acct, "South", 0)
		mustVehicle(t, acct, "South Van", south)
		mgr := mustMemberOn(t, acct, perm.Manager, "selected", "both")
		mustGrant(t, acct, mgr, "group", north, db.Manage)
		driver := mustMemberOn(t, acct, perm.Driver, "selected", "both")
		cl := mustClient(t, acct, "Acme")
		mustClient(t, acct, "Other Client")
		var vid int64
		if viaAPI {
			tok := tokenOf(t, mgr)
			c := a.client()
			r := c.send(POST, "/api/v1/vehicles", tok, fmt.Sprintf(`{"name":"Van 1","plate":"nv 1","group_id":%d,"odometer_km":100}`, north), "Idempotency-Key", "scenario")
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			vid = idOf(t, r)
			if r := c.send(POST, "/api/v1/pairings", tok, fmt.Sprintf(`{"vehicle_id":%d,"client_id":%d}`, vid, cl)); r.status != http.StatusCreated {
				t.Fatalf("pair: %d %s", r.status, r.body)
			}
			if r := c.send(POST, fmt.Sprintf("/api/v1/users/%d/grants", driver.ID), tok, fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"manage"}`, vid)); r.status != http.StatusCreated {
				t.Fatalf("grant: %d %s", r.status, r.body)
			}
		} else {
			web := mgr.login()
			r := web.postForm("/vehicles", url.Values{"name": {"Van 1"}, "plate": {"nv 1"}, "group_id": {id(north)}, "odometer_km": {"100"}})
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/vehicles/") {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			fmt.Sscan(strings.TrimPrefix(loc, "/vehicles/"), &vid)
			if r := web.postForm("/pairing/toggle", url.Values{"vehicle_id": {id(vid)}, "client_id": {id(cl)}, "paired": {"1"}}); r.status != http.StatusSeeOther {
				t.Fatalf("pair: %d %s", r.status, r.body)
			}
			if r := web.postForm(fmt.Sprintf("/users/%d/access/grant", driver.ID), url.Values{"kind": {"vehicle"}, "target_id": {id(vid)}, "level": {"manage"}}); r.status >= 400 {
				t.Fatalf("grant: %d %s", r.status, r.body)
			}
		}
		var st scenarioState
		dtok := tokenOf(t, driver)
		c := a.client()
		for _, v := range jsonOf(t, c.send(GET, "/api/v1/vehicles", dtok, ""))["vehicles"].([]any) {
			st.DriverAPI = append(st.DriverAPI, v.(map[string]any)["name"].(string)+" "+v.(map[string]any)["plate"].(string))
		}
		st.DriverWeb = driver.login().get("/vehicles").find(`[data-testid="vehicle-name"]`)
		one := jsonOf(t, c.send(GET, fmt.Sprintf("/api/v1/vehicles/%d", vid), dtok, ""))
		for _, x := range one["clients"].([]any) {
			st.Clients = append(st.Clients, x.(map[string]any)["name"].(string))
		}
		st.VehicleGroup = one["vehicle"].(map[string]any)["group"].(string)
		st.Version = one["vehicle"].(map[string]any)["version"].(float64)
		rows, err := a.db.QueryForTest(t0, `SELECT kind FROM audit_events WHERE account_id = ? AND actor_member_id = ?
			AND (kind LIKE 'vehicle.%' OR kind LIKE 'pairing.%' OR kind LIKE 'access.%') ORDER BY id`, acct.ID, mgr.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			_ = rows.Scan(&k)
			st.Audit = append(st.Audit, k)
		}
		sort.Strings(st.Clients)
		return st
	}
	web, api := run(false), run(true)
	if fmt.Sprint(web) != fmt.Sprint(api) {
		t.Errorf("web and API differ:\nweb %+v\napi %+v", web, api)
	}
	if fmt.Sprint(api.DriverAPI) != "[Van 1 NV 1]" || len(api.DriverWeb) != 1 || !strings.Contains(api.DriverWeb[0], "Van 1") {
		t.Errorf("the driver sees %v through the API and %v in the console", api.DriverAPI, api.DriverWeb)
	}
	if fmt.Sprint(api.Clients) != "[Acme]" || api.VehicleGroup != "North" ||
		fmt.Sprint(api.Audit) != "[vehicle.create pairing.add access.grant]" {
		t.Errorf("state: %+v", api)
	}
}

// TestAPIRolesFollowTheMatrixRules: through the API a role is saved only
// from its current version, only with permissions the saver holds, and
// never the saver's own role or the Owner's.
func TestAPIRolesFollowTheMatrixRules(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Roles Fleet")
	c, owner := a.client(), tokenOf(t, acct.Owner)
	mk := func(name, perms string) int64 {
		r := c.send(POST, "/api/v1/roles", owner, `{"name":"`+name+`"}`, "Idempotency-Key", name)
		rid := idOf(t, r)
		if r := c.send(PUT, fmt.Sprintf("/api/v1/roles/%d", rid), owner, `{"permissions":`+perms+`}`, "If-Match", `"1"`); r.status != http.StatusOK {
			t.Fatalf("save %s: %d %s", name, r.status, r.body)
		}
		return rid
	}
	keeper := mk("Role keeper", `{"roles.view":{},"roles.manage":{},"users.view":{},"vehicles.view":{}}`)
	target := mk("Target", `{"vehicles.view":{}}`)
	uid, err := a.db.CreateUser(t0, db.NewUser{Email: "keeper@roles.test", PasswordHash: fixtureHash(t), FirstName: "Kim", LastName: "Keeper"})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := a.db.AddMember(t0, acct.Owner.Actor, db.NewMember{UserID: uid, RoleID: keeper, Channel: "web", VehicleAccess: "all"})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, fixtureMember(t, a, mid, uid, "keeper@roles.test"))
	path := fmt.Sprintf("/api/v1/roles/%d", target)
	// Within its own permissions: saved, version 3 (created 1, saved 2).
	r := c.send(PUT, path, tok, `{"permissions":{"vehicles.view":{},"users.view":{}}}`, "If-Match", `"2"`)
	if r.status != http.StatusOK || r.header.Get("ETag") != `"3"` {
		t.Fatalf("save within: %d %s", r.status, r.body)
	}
	// From the old version: 412 with the role as it is now.
	r = c.send(PUT, path, tok, `{"permissions":{"vehicles.view":{}}}`, "If-Match", `"2"`)
	cur, _ := jsonOf(t, r)["current"].(map[string]any)
	if r.status != http.StatusPreconditionFailed || cur["version"].(float64) != 3 || cur["permissions"].(map[string]any)["users.view"] == nil {
		t.Errorf("stale save: %d %s", r.status, r.body)
	}
	// More than it holds, its own role, the Owner role: 403.
	for _, k := range []struct{ path, body, etag string }{
		{path, `{"permissions":{"vehicles.view":{},"billing.manage":{}}}`, `"3"`},
		{fmt.Sprintf("/api/v1/roles/%d", keeper), `{"permissions":{"roles.view":{}}}`, `"2"`},
		{fmt.Sprintf("/api/v1/roles/%d", acct.role(t, perm.Owner)), `{"permissions":{"roles.view":{}}}`, `"1"`},
	} {
		if r := c.send(PUT, k.path, tok, k.body, "If-Match", k.etag); r.status != http.StatusForbidden || !problemJSON(r) {
			t.Errorf("PUT %s %s: %d, want 403: %s", k.path, k.body, r.status, r.body)
		}
	}
	if r := c.send(POST, "/api/v1/roles", tok, fmt.Sprintf(`{"name":"Copy","copy_from":%d}`, acct.role(t, perm.Admin))); r.status != http.StatusForbidden {
		t.Errorf("copy a wider role: %d %s", r.status, r.body)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM role_permissions WHERE role_id = ?`, target); n != 2 {
		t.Errorf("target has %d permissions, want 2", n)
	}
}

// TestAPITimeBoxedGrants: a grant with a last day is kept to the end of
// that day in the account's time zone, and a member whose own access ends
// cannot give access that outlasts it.
func TestAPITimeBoxedGrants(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Boxed Fleet")
	north := mustGroup(t, acct, "North", 0)
	v := mustVehicle(t, acct, "Van", north)
	mgr := mustMember(t, acct, perm.Manager, "selected")
	ends := db.EndOfDay(time.Now().UTC().AddDate(0, 0, 10))
	if err := a.db.Grant(t0, acct.Owner.Actor, mgr.ID, db.GrantInput{Kind: "group", TargetID: north, Level: db.Manage, EndsAt: &ends}); err != nil {
		t.Fatal(err)
	}
	d := mustMember(t, acct, perm.Driver, "selected")
	c, tok := a.client(), tokenOf(t, mgr)
	path := fmt.Sprintf("/api/v1/users/%d/grants", d.ID)
	r := c.send(POST, path, tok, fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view"}`, v))
	if errs, _ := jsonOf(t, r)["errors"].(map[string]any); r.status != http.StatusForbidden || errs["last_day"] == nil {
		t.Errorf("a grant without end from a time-boxed manager: %d %s", r.status, r.body)
	}
	last := time.Now().UTC().AddDate(0, 0, 5).Format(time.DateOnly)
	r = c.send(POST, path, tok, fmt.Sprintf(`{"kind":"vehicle","target_id":%d,"level":"view","last_day":%q}`, v, last))
	if r.status != http.StatusCreated {
		t.Fatalf("a grant within: %d %s", r.status, r.body)
	}
	g := jsonOf(t, r)["grants"].([]any)[0].(map[string]any)
	if g["last_day"] != last || g["level"] != "view" || g["active"] != true {
		t.Errorf("grant: %v", g)
	}
	if r := c.send(GET, "/api/v1/vehicles", tokenOf(t, d), ""); !strings.Contains(r.body, `"name":"Van"`) {
		t.Errorf("the driver does not see the vehicle: %s", r.body)
	}
}
