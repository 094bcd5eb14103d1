package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Inputs that once answered 500: each must now be a field message, a 400
// or a 404, never a server error.

func TestVehicleSearchWithNUL(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	token := apiToken(t, a, "driver@demo.test")
	for _, q := range []string{"a%00b", "abc%00", "%00%00%00", "Mer%00cedes", "a%1Bb"} {
		if res := owner.get("/vehicles?q=" + q); res.status != http.StatusOK {
			t.Errorf("/vehicles?q=%s: %d", q, res.status)
		}
		if res := owner.htmx("/vehicles?q="+q, "vehicles-results"); res.status != http.StatusOK {
			t.Errorf("htmx /vehicles?q=%s: %d", q, res.status)
		}
		if res := a.client().api(http.MethodGet, "/api/v1/vehicles?q="+q, token, ""); res.status != http.StatusOK {
			t.Errorf("/api/v1/vehicles?q=%s: %d %s", q, res.status, res.body)
		}
		if res := owner.get("/users?q=" + q); res.status != http.StatusOK {
			t.Errorf("/users?q=%s: %d", q, res.status)
		}
	}
	// A search word with NUL finds nothing rather than everything.
	res := a.client().api(http.MethodGet, "/api/v1/vehicles?q=Merc%00edes", token, "")
	if !strings.Contains(res.body, `"total":0`) {
		t.Errorf("NUL search found vehicles: %s", res.body)
	}
}

func TestUsersBulkMalformedBody(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	token := c.csrf()
	for name, tc := range map[string]struct{ ctype, body string }{
		"bad escape":         {"application/x-www-form-urlencoded", "ids=%zz&action=deactivate"},
		"bad multipart":      {"multipart/form-data; boundary=xyz", "--xyz\r\nbroken"},
		"multipart no bound": {"multipart/form-data", "ids=1"},
		"json":               {"application/json", `{"ids":[1]}`},
		"unknown type":       {"text/plain", "ids=1"},
		"bad semicolon":      {"application/x-www-form-urlencoded", "ids=1;action=role"},
	} {
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/users/bulk", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("X-CSRF-Token", token)
		res := c.do(req)
		if res.status >= 500 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
}

func TestVehicleFormRefusesJunkGroup(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	for _, g := range []string{"abc", "-3", "1.5", "99999999999999999999", " 1"} {
		res := owner.postForm("/vehicles", url.Values{"name": {"Junk group van"}, "group_id": {g}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("group_id %q: %d, want 422", g, res.status)
			continue
		}
		if got := res.find("#vehicle-group-error"); len(got) == 0 || got[0] == "" {
			t.Errorf("group_id %q: no message next to the group field: %v", g, res.find(".field-error"))
		}
	}
	// The vehicle was not created in "no group".
	if res := owner.get("/vehicles?q=Junk"); strings.Contains(res.body, "Junk group van") {
		t.Error("a vehicle was created with a junk group")
	}
}

func TestGroupFormRefusesJunkParent(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	for _, p := range []string{"abc", "-1", "1e3", "99999999999999999999"} {
		res := owner.postForm("/groups", url.Values{"name": {"Junk parent " + p}, "parent_id": {p}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("parent_id %q: %d, want 422", p, res.status)
		}
		if !strings.Contains(res.body, "Choose one of the offered groups.") {
			t.Errorf("parent_id %q: no message next to the field", p)
		}
	}
	if res := owner.get("/groups"); strings.Contains(res.body, "Junk parent") {
		t.Error("a group was created with a junk parent")
	}
}
