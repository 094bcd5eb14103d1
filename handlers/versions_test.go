package handlers_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// formVersionOn reads, from the page at page, the version carried by the
// form that posts to action, as a browser would send it.
func (c *client) formVersionOn(t testing.TB, page, action string) string {
	t.Helper()
	res := c.get(page)
	i := strings.Index(res.body, `action="`+html.EscapeString(action)+`"`)
	if i < 0 {
		t.Fatalf("%s: no form posting to %s (status %d)", page, action, res.status)
	}
	m := versionField.FindStringSubmatch(res.body[i:])
	if m == nil {
		t.Fatalf("%s: the form posting to %s carries no version", page, action)
	}
	return m[1]
}

// postEdit posts an edit form to action as a browser that opened page
// just before would: with the version that page carries.
func (c *client) postEdit(t testing.TB, page, action string, v url.Values) response {
	t.Helper()
	v = clone(v)
	if v.Get("version") == "" {
		v.Set("version", c.formVersionOn(t, page, action))
	}
	return c.postForm(action, v)
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// The API shows each vehicle's and member's version; one vehicle carries
// it as its ETag too, and a change of the vehicle moves it.
func TestAPIShowsVersions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	token := apiToken(t, a, "driver@demo.test")
	c := a.client()
	var list struct {
		Vehicles []struct {
			ID      int64
			Version int
		}
	}
	res := c.api(http.MethodGet, "/api/v1/vehicles?per_page=1", token, "")
	if err := json.Unmarshal([]byte(res.body), &list); err != nil || len(list.Vehicles) != 1 || list.Vehicles[0].Version != 1 {
		t.Fatalf("vehicles: %d %s", res.status, res.body)
	}
	path := fmt.Sprintf("/api/v1/vehicles/%d", list.Vehicles[0].ID)
	if res := c.api(http.MethodGet, path, token, ""); res.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", res.header.Get("ETag"))
	}
	owner := a.login("owner@demo.test")
	if res := owner.postForm(fmt.Sprintf("/vehicles/%d/archive", list.Vehicles[0].ID), nil); res.status != http.StatusSeeOther {
		t.Fatalf("archive: %d", res.status)
	}
	if res := c.api(http.MethodGet, path, token, ""); res.header.Get("ETag") != `"2"` || !strings.Contains(res.body, `"version":2`) {
		t.Fatalf("after a change: ETag %q %s", res.header.Get("ETag"), res.body)
	}
	// Made a Manager, the same login may list members, with their versions.
	driver := memberID(t, a, "driver@demo.test")
	page := fmt.Sprintf("/users/%d", driver)
	if res := owner.postEdit(t, page, page, editForm("Diego", "Driver", roleIDByName(t, a, "Manager"), "both")); res.status != http.StatusSeeOther {
		t.Fatalf("promote: %d", res.status)
	}
	var members struct{ Members []struct{ Version int } }
	res = c.api(http.MethodGet, "/api/v1/users?per_page=1", token, "")
	if err := json.Unmarshal([]byte(res.body), &members); err != nil || len(members.Members) != 1 || members.Members[0].Version < 1 {
		t.Fatalf("users: %d %s", res.status, res.body)
	}
}

// A form refused for its input (422) still carries the version it was
// opened on, so a change saved meanwhile is not overwritten by the next
// attempt: that one is refused (409) with the current values shown.
func TestRefusedFormKeepsItsVersion(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner, admin := a.login("owner@demo.test"), a.login("admin@demo.test")
	driver := memberID(t, a, "driver@demo.test")
	vehicle := firstID(t, owner.get("/vehicles"), `a[href^="/vehicles/"]`, "/vehicles/")
	clientID := firstID(t, owner.get("/clients"), `a[href^="/clients/"]`, "/clients/")
	group := groupID(t, owner, "Chicago")
	for _, k := range []struct {
		kind, page, action string
		bad, good, other   url.Values
	}{
		{"member", fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver),
			editForm("", "", roleIDByName(t, a, "Driver"), "both"),
			editForm("Diego", "Mine", roleIDByName(t, a, "Driver"), "both"),
			editForm("Diego", "Theirs", roleIDByName(t, a, "Driver"), "both")},
		{"vehicle", "/vehicles/" + vehicle + "/edit", "/vehicles/" + vehicle,
			url.Values{"name": {""}}, url.Values{"name": {"Mine"}}, url.Values{"name": {"Theirs"}}},
		{"client", "/clients/" + clientID + "/edit", "/clients/" + clientID,
			url.Values{"name": {""}}, url.Values{"name": {"Mine"}}, url.Values{"name": {"Theirs"}}},
		{"group", "/groups", "/groups/" + group,
			url.Values{"name": {""}}, url.Values{"name": {"Mine"}}, url.Values{"name": {"Theirs"}}},
	} {
		if k.kind == "vehicle" { // keep the vehicle where it is
			gid, _ := owner.get(k.page).doc().Find("#vehicle-group option[selected]").Attr("value")
			for _, v := range []url.Values{k.bad, k.good, k.other} {
				v.Set("group_id", gid)
			}
		}
		if k.kind == "group" {
			parent, _ := owner.get(k.page).doc().Find("#group-parent-" + group + " option[selected]").Attr("value")
			for _, v := range []url.Values{k.bad, k.good, k.other} {
				v.Set("parent_id", parent)
			}
		}
		opened := owner.formVersionOn(t, k.page, k.action)
		bad := clone(k.bad)
		bad.Set("version", opened)
		res := owner.postForm(k.action, bad)
		if res.status != http.StatusUnprocessableEntity || versionIn(res.body, k.action) != opened {
			t.Fatalf("%s: refused input: %d, version %q, opened on %s", k.kind, res.status, versionIn(res.body, k.action), opened)
		}
		if res := admin.postEdit(t, k.page, k.action, k.other); res.status != http.StatusSeeOther {
			t.Fatalf("%s: the other save: %d", k.kind, res.status)
		}
		good := clone(k.good)
		good.Set("version", versionIn(res.body, k.action))
		res = owner.postForm(k.action, good)
		if res.status != http.StatusConflict || len(res.find("[data-testid=conflict]")) != 1 || !strings.Contains(strings.Join(res.find(".current"), " "), "Theirs") {
			t.Fatalf("%s: the save after the refusal: %d %v", k.kind, res.status, res.find(".current"))
		}
	}
}

// firstID is the id in the first link matching sel, after prefix.
func firstID(t testing.TB, res response, sel, prefix string) string {
	t.Helper()
	href, ok := res.doc().Find(sel).Filter(`a:not([href$="/new"])`).First().Attr("href")
	if !ok {
		t.Fatalf("no link %s", sel)
	}
	return strings.SplitN(strings.TrimPrefix(href, prefix), "/", 2)[0]
}
