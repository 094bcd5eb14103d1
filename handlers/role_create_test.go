package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/db/perm"
)

// A custom role created without cloning has no permission: it is not
// offered wherever a role is given (invite, add person, member page, bulk)
// and the server refuses it, until it is saved with a permission.
func TestEmptyRoleCannotBeGiven(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	empty := createRole(t, c, "Fresh", 0)
	emptyID := fmt.Sprint(empty)
	driver := memberID(t, a, "driver@demo.test")
	pages := map[string]string{
		"invite":      "/users/invite",
		"add person":  "/users/add",
		"member page": fmt.Sprintf("/users/%d", driver),
		"bulk":        "/users",
	}
	for name, path := range pages {
		res := c.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", name, res.status)
		}
		if res.doc().Find(`select[name=role_id] option[value="`+emptyID+`"], select[name=bulk_role] option[value="`+emptyID+`"]`).Length() > 0 {
			t.Errorf("%s offers the role without permissions", name)
		}
	}
	const msg = "This role has no permission yet"
	res := c.postForm("/users/invite", url.Values{"email": {"fresh@example.com"}, "role_id": {emptyID}, "channel": {"web"}, "vehicle_access": {"selected"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), msg) {
		t.Errorf("invite: %d", res.status)
	}
	res = c.postForm("/users/add", url.Values{"first_name": {"Fre"}, "last_name": {"Sh"}, "email": {"fresh2@example.com"},
		"password": {"a quiet river at dawn"}, "role_id": {emptyID}, "channel": {"web"}, "vehicle_access": {"selected"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), msg) {
		t.Errorf("add person: %d", res.status)
	}
	page := fmt.Sprintf("/users/%d", driver)
	res = c.postEdit(t, page, page, editForm("Dan", "Driver", empty, "web"))
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), msg) {
		t.Errorf("member edit: %d", res.status)
	}
	c.postForm("/users/bulk", url.Values{"ids": {fmt.Sprint(driver)}, "action": {"role"}, "bulk_role": {emptyID}})
	if got := c.get("/users"); !strings.Contains(got.text(), msg) {
		t.Error("bulk: no refusal shown")
	}
	if got := roleOf(t, a, driver); got != "Driver" {
		t.Errorf("driver's role changed to %s", got)
	}
	// Saved with a permission, the role is offered and can be given.
	saveRole(t, c, empty, perm.VehiclesView)
	if res := c.get("/users/invite"); res.doc().Find(`select[name=role_id] option[value="`+emptyID+`"]`).Length() != 1 {
		t.Error("the role with a permission is not offered")
	}
	res = c.postEdit(t, page, page, editForm("Dan", "Driver", empty, "web"))
	if res.status != http.StatusSeeOther || roleOf(t, a, driver) != "Fresh" {
		t.Errorf("member edit with the saved role: %d, role %s", res.status, roleOf(t, a, driver))
	}
}

func roleOf(t testing.TB, a *app, memberID int64) string {
	t.Helper()
	var name string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT r.name FROM members m JOIN roles r ON r.id = m.role_id WHERE m.id = ?`, memberID).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}
