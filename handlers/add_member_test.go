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

func addForm(first, last, phone, email string, role int64, channel, access, pw string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "phone": {phone}, "email": {email},
		"role_id": {fmt.Sprint(role)}, "channel": {channel}, "vehicle_access": {access}, "password": {pw}}
}

func TestAddPersonWithAPassword(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	c := a.login("owner@demo.test")
	form := c.get("/users/add")
	if form.status != 200 || len(form.find("#password")) != 1 || len(form.find("#phone")) != 1 {
		t.Fatalf("add form: %d", form.status)
	}
	res := c.postForm("/users/add", addForm("Dora", "Driver", "+49 30 1234-56", "dora@example.com", builtinRoleID(t, a, owner, perm.Driver), "both", "selected", newPassword))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users" {
		t.Fatalf("add: %d %s", res.status, res.body)
	}
	page := c.get("/users")
	if f := strings.Join(page.find(".flash-ok"), ""); !strings.Contains(f, "Dora Driver was added") {
		t.Fatalf("flash: %q", f)
	}
	found := false
	for _, e := range page.find("[data-testid=user-row] td[data-label=E-mail]") {
		found = found || e == "dora@example.com"
	}
	if !found {
		t.Fatal("the new member is not listed")
	}
	m := memberOfAccount(t, a, "dora@example.com", owner.AccountID)
	if m.Status != "active" || m.Channel != "both" || m.Builtin != perm.Driver || m.VehicleAccess != "selected" {
		t.Fatalf("member: %+v", m)
	}
	// The person logs in with the initial password.
	if r := a.loginWith("dora@example.com", newPassword).get("/profile"); !strings.Contains(r.body, "+49 30 1234-56") {
		t.Fatal("phone not stored")
	}
	es := auditEntries(t, a, owner, "member.add")
	if len(es) != 1 || es[0].Target != "Dora Driver" || !strings.Contains(es[0].After, `"role":"Driver"`) {
		t.Fatalf("audit: %+v", es)
	}
}

// Adding a person whose e-mail already has a login never attaches that
// login: it is invited, joins only by accepting with its own password, and
// the adder reads the same answer as for a new login, so "Add person"
// cannot be used to learn who has a login, nor to see their name and phone.
func TestAddPersonWithAnExistingLogin(t *testing.T) {
	t.Parallel()
	a, logs := newAppWithLog(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	beta := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	c := a.login("owner@demo.test")
	accountant := builtinRoleID(t, a, owner, perm.Accountant)

	res := c.postForm("/users/add", addForm("Someone", "Else", "", "bea@beta.test", accountant, "both", "all", newPassword))
	if res.status != http.StatusSeeOther {
		t.Fatalf("add existing: %d\n%s", res.status, res.body)
	}
	existing := strings.Join(c.get("/users").find(".flash-ok"), "")
	res = c.postForm("/users/add", addForm("Someone", "Else", "", "nobody.yet@example.com", accountant, "both", "all", newPassword))
	if res.status != http.StatusSeeOther {
		t.Fatalf("add new: %d\n%s", res.status, res.body)
	}
	fresh := strings.Join(c.get("/users").find(".flash-ok"), "")
	if strings.ReplaceAll(existing, "bea@beta.test", "X") != strings.ReplaceAll(fresh, "nobody.yet@example.com", "X") || existing == "" {
		t.Fatalf("the answers differ:\n%q\n%q", existing, fresh)
	}

	// Bea is not a member of Demo Fleet yet; her logins still land in Beta.
	ms, err := a.db.Memberships(context.Background(), beta.UserID)
	if err != nil || len(ms) != 1 || ms[0].AccountName != "Beta Fleet" {
		t.Fatalf("memberships before accepting: %+v %v", ms, err)
	}
	if strings.Contains(c.get("/users?q=bea").body, "Bea Other") {
		t.Fatal("the adder sees the existing login's name")
	}
	// The invitation went to her address (the log stands in for e-mail),
	// never to the adder's screen.
	link := ""
	a.sendMail()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "email=bea@beta.test") && strings.Contains(line, "link=") {
			link = line[strings.Index(line, "link=")+len("link="):]
		}
	}
	if link == "" || strings.Contains(res.body, link) {
		t.Fatalf("invitation link: %q", link)
	}
	// She accepts with her own password, and only then joins.
	guest := a.client()
	if r := guest.postForm(linkPath(t, link), url.Values{"existing": {"1"}, "password": {"beta owner password"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
	if m := memberOfAccount(t, a, "bea@beta.test", owner.AccountID); m.Name() != "Bea Other" || m.Builtin != perm.Accountant {
		t.Fatalf("member after accepting: %+v", m)
	}
}

func TestAddPersonRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	c := a.login("owner@demo.test")
	driver := builtinRoleID(t, a, owner, perm.Driver)
	cases := []struct {
		name        string
		form        url.Values
		status      int
		field, want string
	}{
		{"already a member", addForm("A", "B", "", "manager@demo.test", driver, "web", "selected", newPassword), 422, "email", "already a member"},
		{"bad e-mail", addForm("A", "B", "", "a@b", driver, "web", "selected", newPassword), 422, "email", "such as name@example.com"},
		{"no first name", addForm("", "B", "", "n@example.com", driver, "web", "selected", newPassword), 422, "first_name", "Enter the first name"},
		{"no last name", addForm("A", "", "", "n@example.com", driver, "web", "selected", newPassword), 422, "last_name", "Enter the last name"},
		{"long first name", addForm(strings.Repeat("a", 101), "B", "", "n@example.com", driver, "web", "selected", newPassword), 422, "first_name", "at most 100"},
		{"bad phone", addForm("A", "B", "call me maybe", "n@example.com", driver, "web", "selected", newPassword), 422, "phone", "digits"},
		{"long phone", addForm("A", "B", strings.Repeat("1", 41), "n@example.com", driver, "web", "selected", newPassword), 422, "phone", "at most 40"},
		{"short password", addForm("A", "B", "", "n@example.com", driver, "web", "selected", "short"), 422, "password", "at least 12"},
		{"common password", addForm("A", "B", "", "n@example.com", driver, "web", "selected", "qwertyuiopasdf"), 422, "password", "too common"},
		{"no password", addForm("A", "B", "", "n@example.com", driver, "web", "selected", ""), 422, "password", "Choose a password"},
		{"bad channel", addForm("A", "B", "", "n@example.com", driver, "fax", "selected", newPassword), 422, "channel", "web, mobile or both"},
		{"Owner role", addForm("A", "B", "", "n@example.com", builtinRoleID(t, a, owner, perm.Owner), "web", "selected", newPassword), 403, "role_id", "Owner"},
		{"role of another account", addForm("A", "B", "", "n@example.com", builtinRoleID(t, a, other, perm.Driver), "web", "selected", newPassword), 422, "role_id", "offered roles"},
	}
	for _, tc := range cases {
		res := c.postForm("/users/add", tc.form)
		if res.status != tc.status || !strings.Contains(fieldMsg(res, tc.field), tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, res.status, fieldMsg(res, tc.field), tc.status, tc.want)
		}
		for _, f := range []string{"first_name", "last_name", "phone", "email"} {
			if v, _ := res.doc().Find("#" + f).Attr("value"); v != strings.TrimSpace(tc.form.Get(f)) {
				t.Errorf("%s: %s not kept: %q", tc.name, f, v)
			}
		}
		if v, _ := res.doc().Find("#password").Attr("value"); v != "" {
			t.Errorf("%s: the password is sent back", tc.name)
		}
	}
	if _, found, _ := a.db.UserForLogin(t.Context(), "n@example.com"); found {
		t.Fatal("a refused person got a login")
	}
	// A manager cannot give wider roles or all vehicles, and is not offered them.
	m := a.login("manager@demo.test")
	if got := strings.Join(m.get("/users/add").find("#role_id option"), ","); got != "Choose a role,Manager,Driver,Notifications only" {
		t.Fatalf("manager offered %q", got)
	}
	r := m.postForm("/users/add", addForm("A", "B", "", "n@example.com", builtinRoleID(t, a, owner, perm.Admin), "web", "selected", newPassword))
	if r.status != http.StatusForbidden || !strings.Contains(fieldMsg(r, "role_id"), "permissions you do not hold") {
		t.Fatalf("manager adds an admin: %d %q", r.status, fieldMsg(r, "role_id"))
	}
	r = m.postForm("/users/add", addForm("A", "B", "", "n@example.com", driver, "web", "all", newPassword))
	if r.status != http.StatusForbidden || !strings.Contains(fieldMsg(r, "vehicle_access"), "only if you have it yourself") {
		t.Fatalf("manager gives all vehicles: %d %q", r.status, fieldMsg(r, "vehicle_access"))
	}
	if r := m.postForm("/users/add", addForm("Dan", "Driver", "", "dan@example.com", driver, "mobile", "selected", newPassword)); r.status != http.StatusSeeOther {
		t.Fatalf("manager adds a driver: %d", r.status)
	}
	// Accountant and driver may not add anyone.
	for _, who := range []string{"accountant@demo.test", "driver@demo.test"} {
		c := a.login(who)
		for _, r := range []response{c.get("/users/add"), c.postForm("/users/add", addForm("A", "B", "", "z@example.com", driver, "web", "selected", newPassword))} {
			if r.status != http.StatusForbidden || !strings.Contains(strings.Join(r.find("[data-testid=denied]"), ""), "You need 'Manage users'") {
				t.Errorf("%s: %d", who, r.status)
			}
		}
	}
	if _, found, _ := a.db.UserForLogin(t.Context(), "z@example.com"); found {
		t.Fatal("a denied add created a login")
	}
}
