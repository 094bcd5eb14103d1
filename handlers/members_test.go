package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// memberID returns the demo account's member id of a login.
func memberID(t testing.TB, a *app, email string) int64 {
	t.Helper()
	u, found, err := a.db.UserForLogin(context.Background(), email)
	if err != nil || !found {
		t.Fatalf("no login %s: %v", email, err)
	}
	ms, err := a.db.Memberships(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.AccountName == db.DemoAccountName {
			return m.MemberID
		}
	}
	t.Fatalf("%s is not a member of the demo account", email)
	return 0
}

// roleIDByName returns the id of the demo account's role of that name.
func roleIDByName(t testing.TB, a *app, name string) int64 {
	t.Helper()
	opts, err := a.db.RoleOptions(context.Background(), actorByEmail(t, a, "owner@demo.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		if o.Name == name {
			return o.ID
		}
	}
	t.Fatalf("no role %s", name)
	return 0
}

func editForm(first, last string, roleID int64, channel string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "phone": {"+1 555 0100"}, "role_id": {fmt.Sprint(roleID)}, "channel": {channel}}
}

func TestMemberPageShowsWhatTheViewerMayDo(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	admin := memberID(t, a, "admin@demo.test")
	// The owner may edit the driver; the accountant only reads.
	res := a.login("owner@demo.test").get(fmt.Sprintf("/users/%d", driver))
	if res.status != 200 || len(res.find("#member-form")) != 1 || len(res.find("[data-testid=preview]")) != 1 {
		t.Fatalf("owner view: %d", res.status)
	}
	res = a.login("accountant@demo.test").get(fmt.Sprintf("/users/%d", driver))
	if res.status != 200 || len(res.find("#member-form")) != 0 || len(res.find("[data-testid=deactivate]")) != 0 {
		t.Fatal("accountant is offered changes")
	}
	// A manager sees why they cannot change an admin, and no form.
	res = a.login("manager@demo.test").get(fmt.Sprintf("/users/%d", admin))
	if len(res.find("#member-form")) != 0 || !strings.Contains(strings.Join(res.find("[data-testid=reach-reason]"), ""), "permissions you do not hold") {
		t.Fatal("manager may edit an admin")
	}
	// The manager's role select offers only roles within their own.
	res = a.login("manager@demo.test").get(fmt.Sprintf("/users/%d", driver))
	opts := res.find("#role_id option")
	for _, o := range opts {
		if o == "Admin" || o == "Owner" || o == "Accountant (read-only)" {
			t.Fatalf("manager is offered %s: %v", o, opts)
		}
	}
	if !contains(opts, "Driver") || !contains(opts, "Manager") {
		t.Fatalf("manager options: %v", opts)
	}
}

func TestMemberEdit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	c := a.login("admin@demo.test")
	res := c.postEdit(t, fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver), editForm("Diego", "Drives", roleIDByName(t, a, "Manager"), "both"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.status, res.find(".error"))
	}
	page := c.get(fmt.Sprintf("/users/%d", driver))
	if got := page.find("[data-testid=member-role]"); got[0] != "Manager" {
		t.Fatalf("role after save: %v", got)
	}
	// The change applies on the member's next request: a driver could not
	// open the users page, a manager can.
	if res := a.login("driver@demo.test").get("/users"); res.status != 200 {
		t.Fatalf("promoted driver: %d", res.status)
	}
	// It is audited with before and after.
	var before, after string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT before, after FROM audit_events WHERE kind = 'member.update' ORDER BY id DESC LIMIT 1`).Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, `"role":"Driver"`) || !strings.Contains(after, `"role":"Manager"`) {
		t.Fatalf("audit: %s -> %s", before, after)
	}
}

func TestMemberEditBadInputKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	c := a.login("owner@demo.test")
	v := editForm(strings.Repeat("x", 101), "Kept", roleIDByName(t, a, "Driver"), "carrier-pigeon")
	v.Set("phone", "call me")
	res := c.postForm(fmt.Sprintf("/users/%d", driver), v)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.status)
	}
	for _, id := range []string{"#first_name-error", "#phone-error", "#channel-error"} {
		if len(res.find(id)) != 1 {
			t.Errorf("no message %s", id)
		}
	}
	if v, _ := res.doc().Find("#last_name").Attr("value"); v != "Kept" {
		t.Errorf("last name lost: %q", v)
	}
	if v, _ := res.doc().Find("#phone").Attr("value"); v != "call me" {
		t.Errorf("phone lost: %q", v)
	}
}

// Names with control characters (line breaks, escape codes) are refused
// here as on the invite, add and profile forms.
func TestMemberEditRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	c := a.login("owner@demo.test")
	res := c.postForm(fmt.Sprintf("/users/%d", driver), editForm("Die\x1b[31mgo", "Dri\nver", roleIDByName(t, a, "Driver"), "both"))
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.status)
	}
	for _, id := range []string{"#first_name-error", "#last_name-error"} {
		if len(res.find(id)) != 1 {
			t.Errorf("no message %s", id)
		}
	}
	var first string
	_ = a.db.QueryRowForTest(context.Background(), `SELECT first_name FROM users WHERE email = 'driver@demo.test'`).Scan(&first)
	if first != "Diego" {
		t.Fatalf("name saved as %q", first)
	}
}

func TestNoEscalation(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	manager := memberID(t, a, "manager@demo.test")
	owner := memberID(t, a, "owner@demo.test")
	admin := memberID(t, a, "admin@demo.test")
	m := a.login("manager@demo.test")
	// A manager cannot give the Admin role (wider than their own) …
	res := m.postEdit(t, fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver), editForm("Diego", "Driver", roleIDByName(t, a, "Admin"), "web"))
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find("#role_id-error"), ""), "do not hold") {
		t.Fatalf("manager gave Admin: %d", res.status)
	}
	// … nor the Owner role, even as the Owner.
	res = a.login("owner@demo.test").postEdit(t, fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver), editForm("Diego", "Driver", roleIDByName(t, a, "Owner"), "web"))
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("owner role given: %d", res.status)
	}
	// … cannot change themselves, the Owner, or an Admin.
	for _, target := range []int64{manager, owner, admin} {
		res := m.postForm(fmt.Sprintf("/users/%d", target), editForm("X", "Y", roleIDByName(t, a, "Driver"), "web"))
		if res.status != http.StatusForbidden {
			t.Errorf("manager changed member %d: %d", target, res.status)
		}
		if res := m.postForm(fmt.Sprintf("/users/%d/deactivate", target), nil); res.status != http.StatusForbidden {
			t.Errorf("manager deactivated member %d: %d", target, res.status)
		}
	}
	// Nobody deactivates or deletes the Owner, not even an Admin.
	ad := a.login("admin@demo.test")
	if res := ad.postForm(fmt.Sprintf("/users/%d/deactivate", owner), nil); res.status != http.StatusForbidden {
		t.Fatalf("admin deactivated owner: %d", res.status)
	}
	if res := ad.postForm(fmt.Sprintf("/users/%d/delete", owner), nil); res.status != http.StatusForbidden {
		t.Fatalf("admin deleted owner: %d", res.status)
	}
	// The accountant and the driver are refused by the policy itself.
	for _, who := range []string{"accountant@demo.test", "driver@demo.test"} {
		res := a.login(who).postForm(fmt.Sprintf("/users/%d/deactivate", driver), nil)
		if res.status != http.StatusForbidden || len(res.find("[data-testid=denied]")) != 1 {
			t.Errorf("%s deactivated: %d", who, res.status)
		}
	}
}

func TestDeactivateEndsSessionsAndReactivate(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acc := a.login("accountant@demo.test")
	id := memberID(t, a, "accountant@demo.test")
	if _, _, err := a.db.CreateToken(context.Background(), id, "phone"); err != nil {
		t.Fatal(err)
	}
	owner := a.login("owner@demo.test")
	page := owner.get(fmt.Sprintf("/users/%d/deactivate", id))
	if items := page.find("[data-testid=leftover-api_tokens] li"); len(items) != 1 || !strings.HasPrefix(items[0], "phone") {
		t.Fatalf("leftovers: %v", items)
	}
	if res := owner.postForm(fmt.Sprintf("/users/%d/deactivate", id), url.Values{"handover": {"revoke"}}); res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.status)
	}
	if res := acc.get("/users"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("deactivated member still in: %d", res.status)
	}
	var tokens int
	_ = a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM api_tokens WHERE member_id = ?`, id).Scan(&tokens)
	if tokens != 0 {
		t.Fatal("API token survived deactivation")
	}
	// Login is refused with its own message; reactivation lets them in again.
	res := a.client().postForm("/login", url.Values{"email": {"accountant@demo.test"}, "password": {db.DemoPassword}})
	if !strings.Contains(strings.Join(res.find("[data-testid=login-error]"), ""), "deactivated") {
		t.Fatal("no deactivated message")
	}
	if res := owner.postForm(fmt.Sprintf("/users/%d/reactivate", id), nil); res.status != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", res.status)
	}
	a.login("accountant@demo.test")
}

func TestDeactivateHandoverNeedsAMember(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	id := memberID(t, a, "driver@demo.test")
	owner := a.login("owner@demo.test")
	res := owner.postForm(fmt.Sprintf("/users/%d/deactivate", id), url.Values{"handover": {"member"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("handover without member: %d", res.status)
	}
	res = owner.postForm(fmt.Sprintf("/users/%d/deactivate", id), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(id)}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("handover to self: %d", res.status)
	}
}

func TestDeleteMember(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	id := memberID(t, a, "driver@demo.test")
	// Managers lack users.delete.
	if res := a.login("manager@demo.test").postForm(fmt.Sprintf("/users/%d/delete", id), nil); res.status != http.StatusForbidden {
		t.Fatalf("manager deleted: %d", res.status)
	}
	owner := a.login("owner@demo.test")
	page := owner.get(fmt.Sprintf("/users/%d/delete", id))
	if !strings.Contains(page.body, "former member Diego Driver") {
		t.Fatal("confirmation does not say what happens to their trips")
	}
	if res := owner.postForm(fmt.Sprintf("/users/%d/delete", id), nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	if res := owner.get(fmt.Sprintf("/users/%d", id)); res.status != http.StatusNotFound {
		t.Fatalf("deleted member page: %d", res.status)
	}
	res := a.client().postForm("/login", url.Values{"email": {"driver@demo.test"}, "password": {db.DemoPassword}})
	if res.status != http.StatusUnauthorized {
		t.Fatalf("deleted login still logs in: %d", res.status)
	}
}

func TestOwnershipHandover(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := memberID(t, a, "admin@demo.test")
	owner := memberID(t, a, "owner@demo.test")
	// Only the Owner may; an Admin is refused by the policy.
	if res := a.login("admin@demo.test").postForm(fmt.Sprintf("/users/%d/ownership", admin), url.Values{"password": {db.DemoPassword}}); res.status != http.StatusForbidden {
		t.Fatalf("admin took ownership: %d", res.status)
	}
	o := a.login("owner@demo.test")
	res := o.postForm(fmt.Sprintf("/users/%d/ownership", admin), url.Values{"password": {"not-my-password"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find("#owner-password-error"), ""), "not your password") {
		t.Fatalf("wrong password: %d", res.status)
	}
	if res := o.postForm(fmt.Sprintf("/users/%d/ownership", admin), url.Values{"password": {db.DemoPassword}}); res.status != http.StatusSeeOther {
		t.Fatalf("handover: %d", res.status)
	}
	page := o.get(fmt.Sprintf("/users/%d", owner))
	if got := page.find("[data-testid=member-role]"); got[0] != "Admin" {
		t.Fatalf("former owner is %v", got)
	}
	page = o.get(fmt.Sprintf("/users/%d", admin))
	if got := page.find("[data-testid=member-role]"); got[0] != "Owner" {
		t.Fatalf("new owner is %v", got)
	}
	// The former owner can no longer hand it over.
	if res := o.postForm(fmt.Sprintf("/users/%d/ownership", owner), url.Values{"password": {db.DemoPassword}}); res.status != http.StatusForbidden {
		t.Fatalf("former owner still owns: %d", res.status)
	}
}

func TestPreviewAs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	admin := memberID(t, a, "admin@demo.test")
	// The demo driver also has a South vehicle, outside the manager's
	// access (see TestPreviewStaysWithinOwnVehicleAccess): keep them North.
	mustExec(t, a, `DELETE FROM member_vehicle_grants WHERE member_id = ? AND vehicle_id NOT IN (
		SELECT v.id FROM vehicles v JOIN vehicle_groups d ON d.id = v.group_id JOIN vehicle_groups r ON r.id = d.parent_id WHERE r.name = 'North')`, driver)
	m := a.login("manager@demo.test")
	// Within reach only: a manager cannot preview an admin.
	if res := m.postForm(fmt.Sprintf("/users/%d/preview", admin), nil); res.status != http.StatusForbidden {
		t.Fatalf("manager previewed admin: %d", res.status)
	}
	if res := m.postForm(fmt.Sprintf("/users/%d/preview", driver), nil); res.status != http.StatusSeeOther {
		t.Fatalf("preview: %d", res.status)
	}
	// The console is the driver's: no users page, a banner naming them.
	res := m.get("/users")
	if res.status != http.StatusForbidden || !strings.Contains(strings.Join(res.find("[data-testid=preview-banner]"), ""), "Diego Driver") {
		t.Fatalf("preview page: %d", res.status)
	}
	// Nothing can be changed while previewing.
	res = m.postForm("/users/bulk", url.Values{"action": {"deactivate"}, "ids": {fmt.Sprint(driver)}, "confirm": {"1"}})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "previewing") {
		t.Fatalf("change during preview: %d", res.status)
	}
	// Exit returns to the manager's own console.
	if res := m.postForm("/preview/exit", nil); res.status != http.StatusSeeOther {
		t.Fatalf("exit: %d", res.status)
	}
	if res := m.get("/users"); res.status != 200 || len(res.find("[data-testid=preview-banner]")) != 0 {
		t.Fatalf("after exit: %d", res.status)
	}
	var summary string
	_ = a.db.QueryRowForTest(context.Background(), `SELECT summary FROM audit_events WHERE kind = 'member.preview'`).Scan(&summary)
	if summary != "Maria Manager previewed the console as Diego Driver" {
		t.Fatalf("audit: %q", summary)
	}
}

func TestBulkActions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	acc := memberID(t, a, "accountant@demo.test")
	admin := memberID(t, a, "admin@demo.test")
	o := a.login("owner@demo.test")
	dora := addDriver(t, a, o, "Dora", "dora@example.com")
	m := a.login("manager@demo.test")
	// First a summary, nothing changed: Dora will be deactivated, the demo
	// driver (sole manager of a vehicle) needs a handover on her own page,
	// the admin is out of the manager's reach.
	ids := url.Values{"action": {"deactivate"}, "ids": {fmt.Sprint(dora), fmt.Sprint(driver), fmt.Sprint(admin)}, "back": {"/users?q=d"}}
	res := m.postForm("/users/bulk", ids)
	if res.status != http.StatusOK || strings.Join(res.find("[data-testid=bulk-title]"), "") != "Deactivate 1 member?" {
		t.Fatalf("bulk summary: %d %v", res.status, res.find("h1"))
	}
	if got := res.find("[data-testid=bulk-change] li"); len(got) != 1 || got[0] != "Dora Driver" {
		t.Fatalf("will change: %v", got)
	}
	if href, _ := res.doc().Find("[data-testid=bulk-handover]").Attr("href"); href != fmt.Sprintf("/users/%d/deactivate", driver) {
		t.Fatalf("handover link: %q", href)
	}
	if got := res.find("[data-testid=bulk-skip] li"); len(got) != 1 || !strings.Contains(got[0], "Adam Admin") || !strings.Contains(got[0], "do not hold") {
		t.Fatalf("skipped: %v", got)
	}
	// The confirmation carries only the members it changes.
	if got := res.doc().Find("form input[name=ids]").Length(); got != 1 {
		t.Fatalf("confirm form carries %d ids", got)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM members WHERE status = 'deactivated'`); n != 0 {
		t.Fatalf("the summary changed %d members", n)
	}
	// Confirming even with all three: the driver is refused in the write
	// (her vehicles need a decision), the admin too; Dora goes.
	ids.Set("confirm", "1")
	if res := m.postForm("/users/bulk", ids); res.status != http.StatusSeeOther || res.header.Get("Location") != "/users?q=d" {
		t.Fatalf("bulk: %d %s", res.status, res.header.Get("Location"))
	}
	flash := m.get("/users").find(".flash")
	if len(flash) != 1 || !strings.Contains(flash[0], "Changed 1") || !strings.Contains(flash[0], "Skipped 2") || !strings.Contains(flash[0], "hand it over") {
		t.Fatalf("flash: %v", flash)
	}
	rows := o.htmx("/users?status=deactivated", "users-results").find("td[data-label=E-mail]")
	if len(rows) != 1 || rows[0] != "dora@example.com" {
		t.Fatalf("deactivated: %v", rows)
	}
	// Change role in bulk; a role wider than the manager's is refused whole.
	m.postForm("/users/bulk", url.Values{"action": {"role"}, "bulk_role": {fmt.Sprint(roleIDByName(t, a, "Admin"))}, "ids": {fmt.Sprint(acc)}})
	if flash := m.get("/users").find(".flash"); len(flash) != 1 || !strings.Contains(flash[0], "do not hold") {
		t.Fatalf("escalating bulk role: %v", flash)
	}
	role := url.Values{"action": {"role"}, "bulk_role": {fmt.Sprint(roleIDByName(t, a, "Driver"))}, "ids": {fmt.Sprint(acc)}}
	if got := strings.Join(o.postForm("/users/bulk", role).find("[data-testid=bulk-title]"), ""); got != "Give 1 member the role Driver?" {
		t.Fatalf("role summary: %q", got)
	}
	role.Set("confirm", "1")
	o.postForm("/users/bulk", role)
	rows = o.htmx("/users?role="+fmt.Sprint(roleIDByName(t, a, "Driver")), "users-results").find("td[data-label=E-mail]")
	if len(rows) != 3 || !contains(rows, "accountant@demo.test") {
		t.Fatalf("bulk role: %v", rows)
	}
}

// addDriver adds a Driver without vehicle access through the add form.
func addDriver(t *testing.T, a *app, c *client, first, email string) int64 {
	t.Helper()
	return addPerson(t, a, c, first, "Driver", email, "Driver")
}

// addPerson adds a member with the named role and no vehicle access.
func addPerson(t *testing.T, a *app, c *client, first, last, email, role string) int64 {
	t.Helper()
	res := c.postForm("/users/add", addForm(first, last, "", email, roleIDByName(t, a, role), "web", "selected", newPassword))
	if res.status != http.StatusSeeOther {
		t.Fatalf("add %s: %d %v", email, res.status, res.find(".error"))
	}
	return memberID(t, a, email)
}

func countRows(t *testing.T, a *app, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.db.QueryRowForTest(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUsersCSV(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `UPDATE users SET first_name = '=HYPERLINK("x")' WHERE email = 'driver@demo.test'`)
	res := a.login("accountant@demo.test").get("/users/export.csv?q=demo.test")
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", res.status, res.header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(res.body), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "first_name,last_name,email") {
		t.Fatalf("csv lines: %d %q", len(lines), lines[0])
	}
	if !strings.Contains(res.body, `"'=HYPERLINK(""x"")"`) {
		t.Fatalf("formula not neutralised:\n%s", res.body)
	}
	if res := a.login("driver@demo.test").get("/users/export.csv"); res.status != http.StatusForbidden {
		t.Fatalf("driver export: %d", res.status)
	}
}

func TestOtherAccountsMembersAreNotFound(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, driver := otherAccountDriver(t, a)
	other := driver.ID
	o := a.login("owner@demo.test")
	for _, path := range []string{"/users/%d", "/users/%d/deactivate", "/users/%d/delete"} {
		if res := o.get(fmt.Sprintf(path, other)); res.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, res.status)
		}
	}
	for _, path := range []string{"/users/%d", "/users/%d/deactivate", "/users/%d/reactivate", "/users/%d/delete", "/users/%d/preview"} {
		if res := o.postForm(fmt.Sprintf(path, other), editForm("A", "B", 1, "web")); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d", path, res.status)
		}
	}
	if res := o.postForm(fmt.Sprintf("/users/%d/ownership", other), url.Values{"password": {db.DemoPassword}}); res.status != http.StatusNotFound {
		t.Errorf("ownership across accounts: %d", res.status)
	}
	// Bulk silently ignores ids of other accounts.
	o.postForm("/users/bulk", url.Values{"action": {"deactivate"}, "ids": {fmt.Sprint(other)}, "confirm": {"1"}})
	var status string
	_ = a.db.QueryRowForTest(context.Background(), `SELECT status FROM members WHERE id = ?`, other).Scan(&status)
	if status != "active" {
		t.Fatal("bulk reached another account")
	}
}

// otherAccountDriver creates "Other Co" with a driver member (fixtures),
// and returns the account and the driver.
func otherAccountDriver(t testing.TB, a *app) (*fixAccount, *fixMember) {
	t.Helper()
	other := mustAccount(t, a, "Other Co")
	return other, mustMember(t, other, perm.Driver, "selected")
}

func TestAccountSwitcher(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	other, driver := otherAccountDriver(t, a)
	// The demo accountant also keeps the books of Other Co, as Admin there.
	mustJoin(t, other, "accountant@demo.test", perm.Admin)
	c := a.login("accountant@demo.test")
	page := c.get("/users")
	opts := page.find("#account-switch option")
	if len(opts) != 2 {
		t.Fatalf("switcher: %v", opts)
	}
	var target string
	page.doc().Find("#account-switch option").Each(func(_ int, s *goquery.Selection) {
		if strings.HasPrefix(s.Text(), "Other Co") {
			target, _ = s.Attr("value")
		}
	})
	if res := c.postForm("/account/switch", url.Values{"member_id": {target}}); res.status != http.StatusSeeOther {
		t.Fatalf("switch: %d", res.status)
	}
	rows := c.get("/users").find("td[data-label=E-mail]")
	if !contains(rows, driver.Email) || contains(rows, "driver@demo.test") {
		t.Fatalf("after switch: %v", rows)
	}
	// Its own role applies there: as Admin it may edit, as Accountant it could not.
	if res := c.get("/users/export.csv"); res.status != 200 {
		t.Fatal(res.status)
	}
	// A membership of someone else cannot be switched to.
	if res := c.postForm("/account/switch", url.Values{"member_id": {fmt.Sprint(memberID(t, a, "owner@demo.test"))}}); res.status != http.StatusNotFound {
		t.Fatalf("switch to another's membership: %d", res.status)
	}
}

func TestFlashSurvivesTheRedirectThroughHome(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	other, _ := otherAccountDriver(t, a)
	target := mustJoin(t, other, "manager@demo.test", perm.Admin).ID
	c := a.login("manager@demo.test")
	res := c.postForm("/account/switch", url.Values{"member_id": {fmt.Sprint(target)}})
	res = c.get(res.header.Get("Location"))
	res = c.get(res.header.Get("Location"))
	if flash := res.find(".flash"); len(flash) != 1 || !strings.Contains(flash[0], "Other Co") {
		t.Fatalf("flash after switching: %v", flash)
	}
}

func TestDeactivateHandsOverOrRevokesInvitations(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	manager := memberID(t, a, "manager@demo.test")
	m := a.login("manager@demo.test")
	if res, _ := m.invite("new.driver@demo.test", roleIDByName(t, a, "Driver"), "selected"); res.status != 200 {
		t.Fatalf("invite: %d", res.status)
	}
	m.invite("second.driver@demo.test", roleIDByName(t, a, "Driver"), "selected")
	o := a.login("owner@demo.test")
	// Another Manager can take both the invitations and the North region.
	admin := addPerson(t, a, o, "Nina", "North", "nina@example.com", "Manager")
	page := o.get(fmt.Sprintf("/users/%d/deactivate", manager))
	if items := page.find("[data-testid=leftover-invitations] li"); len(items) != 2 {
		t.Fatalf("leftover invitations: %v", items)
	}
	res := o.postForm(fmt.Sprintf("/users/%d/deactivate", manager), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(admin)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %s", res.status, res.find(".flash"))
	}
	var n int
	_ = a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM invitations WHERE invited_by = ? AND revoked_at IS NULL`, admin).Scan(&n)
	if n != 2 {
		t.Fatalf("handed over: %d", n)
	}
	// Revoking instead: her invitations are withdrawn with them.
	o.postForm(fmt.Sprintf("/users/%d/deactivate", admin), url.Values{"handover": {"revoke"}})
	_ = a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM invitations WHERE revoked_at IS NULL`).Scan(&n)
	if n != 0 {
		t.Fatalf("open invitations after revoke: %d", n)
	}
}

func TestDeactivateRefusesRecipientsWhoCannotManageVehicles(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	manager := memberID(t, a, "manager@demo.test")
	driver := memberID(t, a, "driver@demo.test")
	o := a.login("owner@demo.test")
	items := o.get(fmt.Sprintf("/users/%d/deactivate", manager)).find("[data-testid=leftover-vehicles] li")
	if len(items) == 0 {
		t.Fatal("the demo manager's region is not listed as theirs alone")
	}
	// The Driver role cannot manage vehicles: refused, nothing given.
	res := o.postForm(fmt.Sprintf("/users/%d/deactivate", manager), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(driver)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find("[data-testid=deactivate-error]"), ""), "cannot manage vehicles") {
		t.Fatalf("deactivate: %d", res.status)
	}
	if got, _ := res.doc().Find("#handover-member").Attr("checked"); got != "checked" && got != "" {
		t.Fatalf("the choice typed is not kept: %q", got)
	}
	var groups int
	_ = a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM member_group_grants WHERE member_id = ?`, driver).Scan(&groups)
	if groups != 0 {
		t.Fatalf("driver got %d group grants", groups)
	}
	// A member with all vehicles leaves nothing of this kind behind.
	if items := o.get(fmt.Sprintf("/users/%d/deactivate", memberID(t, a, "admin@demo.test"))).find("[data-testid=leftover-vehicles] li"); len(items) != 0 {
		t.Fatalf("admin leftovers: %v", items)
	}
}

func TestDeletedMembersTripsStay(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	mustExec(t, a, `INSERT INTO trips (account_id, vehicle_id, driver_member_id, trip_date, distance_km, created_at)
		SELECT 1, vehicle_id, member_id, '2026-11-02', 42, '2026-11-02T10:00:00Z' FROM member_vehicle_grants WHERE member_id = ? LIMIT 1`, driver)
	if res := a.login("owner@demo.test").postForm(fmt.Sprintf("/users/%d/delete", driver), nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	var name string
	var who any
	if err := a.db.QueryRowForTest(context.Background(), `SELECT driver_name, driver_member_id FROM trips WHERE created_at = '2026-11-02T10:00:00Z'`).Scan(&name, &who); err != nil {
		t.Fatal(err)
	}
	if name != "former member Diego Driver" || who != nil {
		t.Fatalf("trip kept as %q / %v", name, who)
	}
}

func TestMemberPageLinksVehicleAccess(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	mustExec(t, a, `UPDATE member_vehicle_grants SET ends_at = ? WHERE member_id = ?`, time.Now().UTC().Add(72*time.Hour).Format(time.RFC3339), driver)
	page := a.login("accountant@demo.test").get(fmt.Sprintf("/users/%d", driver))
	if len(page.find("[data-testid=member-access-link]")) != 1 {
		t.Fatal("no link to the vehicle access")
	}
	if ending := page.find("[data-testid=grants-ending] li"); len(ending) == 0 {
		t.Fatal("grants ending within 7 days not listed on the member's page")
	}
}

// Previewing shows the console as the member sees it, so it is only for a
// member whose vehicle access lies within the previewer's own: otherwise a
// manager of one region would read other regions' vehicles through a
// driver's eyes. The check holds on every request, not only at the start.
func TestPreviewStaysWithinOwnVehicleAccess(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	var south int64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT g.vehicle_id FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
		JOIN vehicle_groups d ON d.id = v.group_id JOIN vehicle_groups r ON r.id = d.parent_id
		WHERE g.member_id = ? AND r.name = 'South'`, driver).Scan(&south); err != nil {
		t.Fatal(err)
	}
	m := a.login("manager@demo.test")
	// The driver sees a South vehicle; the manager (North only) may not look through their eyes.
	res := m.postForm(fmt.Sprintf("/users/%d/preview", driver), nil)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "outside your own vehicle access") {
		t.Fatalf("preview of a member who sees more: %d", res.status)
	}
	if res := m.get(fmt.Sprintf("/vehicles/%d", south)); res.status != http.StatusNotFound {
		t.Fatalf("manager sees the South vehicle: %d", res.status)
	}
	// Without the South vehicle, the driver is within the manager's access.
	demo := demoAccount(t, a)
	if err := a.db.Revoke(context.Background(), demo.Owner.Actor, driver, "vehicle", south); err != nil {
		t.Fatal(err)
	}
	if res := m.postForm(fmt.Sprintf("/users/%d/preview", driver), nil); res.status != http.StatusSeeOther {
		t.Fatalf("preview within access: %d", res.status)
	}
	if got := m.get("/vehicles").find("[data-testid=vehicle-name]"); len(got) != 1 {
		t.Fatalf("driver's vehicles in preview: %v", got)
	}
	// The driver gets the South vehicle back meanwhile: the preview ends on
	// the next request, and the vehicle stays out of the manager's sight.
	mustGrant(t, demo, &fixMember{ID: driver, a: a}, "vehicle", south, db.Manage)
	res = m.get(fmt.Sprintf("/vehicles/%d", south))
	if res.status != http.StatusNotFound || len(res.find("[data-testid=preview-banner]")) != 0 {
		t.Fatalf("preview went on past the previewer's access: %d %v", res.status, res.find("[data-testid=preview-banner]"))
	}
}

// The deactivate page lists the vehicles only the member manages as the
// viewer may see them: a manager of one region does not learn the names of
// another region's vehicles there.
func TestDeactivateListsOnlyVehiclesTheViewerSees(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	var south string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT v.name FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id
		JOIN vehicle_groups d ON d.id = v.group_id JOIN vehicle_groups r ON r.id = d.parent_id
		WHERE g.member_id = ? AND r.name = 'South'`, driver).Scan(&south); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/users/%d/deactivate", driver)
	if items := a.login("owner@demo.test").get(path).find("[data-testid=leftover-vehicles] li"); !contains(items, "Vehicle "+south+" (manage)") {
		t.Fatalf("owner does not see %s among %v", south, items)
	}
	items := a.login("manager@demo.test").get(path).find("[data-testid=leftover-vehicles] li")
	if contains(items, "Vehicle "+south+" (manage)") || len(items) != 1 || !strings.Contains(items[0], "outside your own vehicle access") {
		t.Fatalf("manager sees %v", items)
	}
}

// A login that works in several accounts keeps its name and phone: one
// account's Admin cannot rewrite what the others show.
func TestSharedLoginNameIsTheirs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	other, _ := otherAccountDriver(t, a)
	mustJoin(t, other, "driver@demo.test", perm.Driver)
	driver := memberID(t, a, "driver@demo.test")
	o := a.login("owner@demo.test")
	page := o.get(fmt.Sprintf("/users/%d", driver))
	if _, disabled := page.doc().Find("#first_name").Attr("disabled"); !disabled || len(page.find("[data-testid=shared-login]")) != 1 {
		t.Fatal("the name of a shared login is offered for editing")
	}
	// The role still changes; the name posted anyway is ignored.
	res := o.postEdit(t, fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver), editForm("Mallory", "Renamed", roleIDByName(t, a, "Manager"), "both"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %v", res.status, res.find(".error"))
	}
	page = o.get(fmt.Sprintf("/users/%d", driver))
	if h := page.find("h1"); h[0] != "Diego Driver" || page.find("[data-testid=member-role]")[0] != "Manager" {
		t.Fatalf("after save: %v %v", h, page.find("[data-testid=member-role]"))
	}
}

// Handing vehicles over is giving access: only to a member within reach.
func TestHandoverOnlyToMembersWithinReach(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	manager := memberID(t, a, "manager@demo.test")
	admin := memberID(t, a, "admin@demo.test")
	mustExec(t, a, `UPDATE members SET vehicle_access = 'selected' WHERE id = ?`, admin)
	// A second manager deactivates the first and tries to hand the region to the admin.
	mustExec(t, a, `UPDATE members SET role_id = (SELECT role_id FROM members WHERE id = ?), vehicle_access = 'all' WHERE id = ?`,
		manager, memberID(t, a, "accountant@demo.test"))
	m2 := a.login("accountant@demo.test")
	res := m2.postForm(fmt.Sprintf("/users/%d/deactivate", manager), url.Values{"handover": {"member"}, "handover_to": {fmt.Sprint(admin)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "You cannot change them") {
		t.Fatalf("hand-over to a wider role: %d", res.status)
	}
	var status string
	_ = a.db.QueryRowForTest(context.Background(), `SELECT status FROM members WHERE id = ?`, manager).Scan(&status)
	if status != "active" {
		t.Fatal("the refused hand-over still deactivated the member")
	}
}
