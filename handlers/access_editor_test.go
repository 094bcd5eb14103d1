package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAccessEditorGrantsAndExplains(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	drv := memberIDStr(t, a, "driver@demo.test")
	base := "/users/" + drv + "/access"

	res := owner.get(base)
	if res.status != 200 {
		t.Fatalf("editor: %d", res.status)
	}
	if got := res.find("[data-testid=grant-row]"); len(got) != 2 {
		t.Fatalf("driver's grants: %v", got)
	}
	if got := res.find("[data-testid=visible-row] [data-testid=reason]"); len(got) != 2 || got[0] != "direct, manage" {
		t.Fatalf("explainer: %v", got)
	}
	// Give the Chicago depot, view, until three days from now.
	last := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	res = owner.postForm(base+"/grant", url.Values{"kind": {"group"}, "target_id": {groupID(t, owner, "Chicago")}, "level": {"view"}, "ends_on": {last}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("grant: %d %v", res.status, res.find("[data-testid=grant-error]"))
	}
	res = owner.get(base)
	if got := res.find("[data-testid=grants-ending] li"); len(got) != 1 || !strings.Contains(got[0], "group North › Chicago, view: last day "+last) {
		t.Fatalf("ending soon: %v", got)
	}
	if r := rangeText(res); r != "1–10 of 10" {
		t.Fatalf("driver now sees: %q", r)
	}
	reasons := strings.Join(res.find("[data-testid=reason]"), "|")
	if !strings.Contains(reasons, "group North › Chicago, view until "+last+"; direct, manage") {
		t.Fatalf("reasons: %s", reasons)
	}
	// The vehicle's "who can see" says the same from the other side.
	ids, _ := listedVehicles(t, owner, "")
	res = owner.htmx(fmt.Sprintf("/vehicles/%d/members", ids["Mercedes Sprinter 01"]), "vehicle-members")
	who := map[string]string{}
	for i, m := range res.find("[data-testid=vehicle-member] td[data-label=Member]") {
		who[strings.Fields(m)[len(strings.Fields(m))-1]] = res.find("[data-testid=vehicle-member] [data-testid=reason]")[i]
	}
	if who["manager@demo.test"] != "group North, manage" || who["owner@demo.test"] != "all vehicles" ||
		!strings.HasPrefix(who["driver@demo.test"], "group North › Chicago, view until") || len(who) != 5 {
		t.Fatalf("who can see: %v", who)
	}
	// Past dates and nonsense are refused with a message, nothing saved.
	res = owner.postForm(base+"/grant", url.Values{"kind": {"group"}, "target_id": {groupID(t, owner, "Austin")}, "level": {"view"}, "ends_on": {"2001-01-01"}})
	if res.status != http.StatusUnprocessableEntity || len(res.find("[data-testid=grant-error]")) != 1 {
		t.Fatalf("past end: %d", res.status)
	}
	res = owner.postForm(base+"/grant", url.Values{"kind": {"group"}, "target_id": {groupID(t, owner, "Austin")}, "level": {"admin"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad level: %d", res.status)
	}
	// Revoke.
	res = owner.postForm(base+"/revoke", url.Values{"kind": {"group"}, "target_id": {groupID(t, owner, "Chicago")}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	if r := rangeText(owner.get(base)); r != "1–2 of 2" {
		t.Fatalf("after revoke: %q", r)
	}
}

func TestAccessEditorGivesOnlyWhatOneHolds(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	m := a.login("manager@demo.test")
	drv := memberIDStr(t, a, "driver@demo.test")
	base := "/users/" + drv + "/access"
	ids, groups := listedVehicles(t, owner, "")

	// The manager sees the driver's Chicago vehicle; the Austin one is
	// counted but not named.
	res := m.get(base)
	if got := res.find("[data-testid=grant-row]"); len(got) != 1 || !strings.Contains(got[0], "Mercedes Sprinter 01") {
		t.Fatalf("grants as the manager sees them: %v", got)
	}
	if strings.Contains(res.body, "Toyota Hilux 21") || len(res.find("[data-testid=grants-hidden]")) != 1 {
		t.Fatal("a grant outside the manager's access shows")
	}
	// No "all vehicles" for someone who does not have it.
	if len(res.find("[data-testid=access-mode-form]")) != 0 {
		t.Fatal("manager is offered all vehicles")
	}
	if res := m.postForm(base+"/mode", url.Values{"mode": {"all"}}); res.status != http.StatusForbidden {
		t.Fatalf("manager sets all vehicles: %d", res.status)
	}
	// Within their region: fine.
	var milwaukee, austin string
	for n, g := range groups {
		if g == "Milwaukee" {
			milwaukee = fmt.Sprint(ids[n])
		}
		if g == "Austin" {
			austin = fmt.Sprint(ids[n])
		}
	}
	// The driver also drives an Austin vehicle: more access for them would
	// widen a member whose access reaches beyond the manager's own.
	res = m.postForm(base+"/grant", url.Values{"kind": {"vehicle"}, "target_id": {milwaukee}, "level": {"manage"}})
	if res.status != http.StatusForbidden || !strings.Contains(strings.Join(res.find("[data-testid=grant-error]"), ""), "outside your own vehicle access") {
		t.Fatalf("grant to a driver who reaches beyond the manager: %d %v", res.status, res.find("[data-testid=grant-error]"))
	}
	// So the page offers no way to give: it says why, and keeps "Remove".
	page := m.get(base)
	if r := page.find("[data-testid=grant-refusal]"); len(r) != 1 || !strings.Contains(r[0], "outside your own vehicle access") {
		t.Fatalf("no refusal shown: %v", r)
	}
	if len(page.find("[data-testid=grant-group-form]")) != 0 || len(page.find("[data-testid=grant-vq]")) != 0 {
		t.Fatal("grant controls offered for a member wider than the manager")
	}
	if len(page.find("[data-testid=grant-remove]")) == 0 {
		t.Fatal("no Remove for the grants the manager sees")
	}
	// Without the Austin vehicle (the Owner takes it away), the driver lies
	// within the manager's region, and the manager may give them more.
	if res := owner.postForm(base+"/revoke", url.Values{"kind": {"vehicle"}, "target_id": {austinOf(t, ids, groups)}}); res.status != http.StatusSeeOther {
		t.Fatalf("owner revokes the Austin vehicle: %d", res.status)
	}
	if page := m.get(base); len(page.find("[data-testid=grant-group-form]")) != 1 || len(page.find("[data-testid=grant-refusal]")) != 0 {
		t.Fatal("grant controls not offered once the driver lies within the manager's access")
	}
	res = m.postForm(base+"/grant", url.Values{"kind": {"vehicle"}, "target_id": {milwaukee}, "level": {"manage"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("grant within: %d %v", res.status, res.find("[data-testid=grant-error]"))
	}
	// Outside: not found, as if it did not exist.
	if res := m.postForm(base+"/grant", url.Values{"kind": {"vehicle"}, "target_id": {austin}, "level": {"view"}}); res.status != http.StatusNotFound {
		t.Fatalf("grant outside: %d", res.status)
	}
	// The search for vehicles to give finds only the manager's own.
	res = m.htmx(base+"?vq=Toyota", "grant-vehicles")
	for _, n := range res.find("[data-testid=grant-found] strong") {
		if groups[n] != "Chicago" && groups[n] != "Milwaukee" && groups[n] != "North" {
			t.Fatalf("search offers %s (%s)", n, groups[n])
		}
	}
	// The Owner and the manager themselves are out of reach.
	for _, who := range []string{"1", memberIDStr(t, a, "manager@demo.test"), memberIDStr(t, a, "admin@demo.test")} {
		res := m.get("/users/" + who + "/access")
		if res.status != 200 || len(res.find("[data-testid=access-refusal]")) != 1 && who != "1" || len(res.find("[data-testid=grant-group-form]")) != 0 {
			t.Errorf("editor of %s as manager: %d", who, res.status)
		}
		if res := m.postForm("/users/"+who+"/access/grant", url.Values{"kind": {"vehicle"}, "target_id": {milwaukee}, "level": {"view"}}); res.status != http.StatusForbidden {
			t.Errorf("grant to %s: %d", who, res.status)
		}
	}
	// Read-only users see the editor without its controls.
	res = a.login("accountant@demo.test").get(base)
	if res.status != 200 || len(res.find("[data-testid=grant-group-form]")) != 0 || len(res.find("[data-testid=grant-remove]")) != 0 {
		t.Fatalf("accountant: %d", res.status)
	}
}

// austinOf is the id of the demo driver's vehicle in Austin.
func austinOf(t testing.TB, ids map[string]int64, groups map[string]string) string {
	t.Helper()
	for n, g := range groups {
		if g == "Austin" && n == "Toyota Hilux 21" {
			return fmt.Sprint(ids[n])
		}
	}
	t.Fatal("the driver's Austin vehicle is not listed")
	return ""
}
