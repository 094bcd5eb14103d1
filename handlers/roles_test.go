package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// demoActor loads the demo member with this e-mail as an actor.
func rolesDemoActor(t testing.TB, a *app, email string) *db.Actor {
	t.Helper()
	ctx := context.Background()
	u, found, err := a.db.UserForLogin(ctx, email)
	if err != nil || !found {
		t.Fatalf("no login %s: %v", email, err)
	}
	ms, err := a.db.Memberships(ctx, u.ID)
	if err != nil || len(ms) == 0 {
		t.Fatalf("no membership of %s: %v", email, err)
	}
	act, err := a.db.ActorByMember(ctx, ms[0].MemberID)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

// roleIDs maps the demo account's role names to their ids.
func roleIDs(t testing.TB, a *app) map[string]int64 {
	t.Helper()
	opts, err := a.db.RoleOptions(context.Background(), rolesDemoActor(t, a, "owner@demo.test"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, o := range opts {
		out[o.Name] = o.ID
	}
	return out
}

func rolePath(id int64, rest ...string) string {
	return "/roles/" + strconv.FormatInt(id, 10) + strings.Join(rest, "")
}

// savedPerms reads a role's permissions from the database.
func savedRole(t testing.TB, a *app, id int64) db.Role {
	t.Helper()
	r, err := a.db.Role(context.Background(), rolesDemoActor(t, a, "owner@demo.test"), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// matrixValues is what a browser would post from the page's matrix form.
func matrixValues(t testing.TB, res response) url.Values {
	t.Helper()
	v := url.Values{}
	form := res.doc().Find("#role-form")
	if form.Length() == 0 {
		t.Fatalf("no matrix form in %d answer", res.status)
	}
	form.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" || name == "_csrf" || s.Is("[disabled]") {
			return
		}
		if s.AttrOr("type", "text") == "checkbox" {
			if s.Is("[checked]") {
				v.Add(name, s.AttrOr("value", "on"))
			}
			return
		}
		v.Add(name, s.AttrOr("value", ""))
	})
	return v
}

func permOn(v url.Values, keys ...perm.Key) url.Values {
	for _, k := range keys {
		v.Add("p", string(k))
	}
	return v
}

func permOff(v url.Values, keys ...perm.Key) url.Values {
	ps := v["p"]
	for _, k := range keys {
		ps = slices.DeleteFunc(ps, func(s string) bool { return s == string(k) })
	}
	v["p"] = ps
	return v
}

// htmxPost posts a form as htmx would, aimed at the element with id target.
func (c *client) rolesHX(path, target string, v url.Values) response {
	v.Set("_csrf", c.csrf())
	return c.postRaw(path, v, "HX-Request", "true", "HX-Target", target)
}

func matrixChecked(res response) []string {
	var out []string
	res.doc().Find(`#role-form input[name="p"][checked]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("value", ""))
	})
	return out
}

func TestRolesPageShowsListAndMatrix(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	c := a.login("owner@demo.test")

	res := c.get("/roles")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != rolePath(ids["Owner"]) {
		t.Fatalf("/roles: %d %s", res.status, res.header.Get("Location"))
	}
	res = c.get(rolePath(ids["Driver"]))
	if res.status != 200 {
		t.Fatalf("driver role: %d", res.status)
	}
	// Built-in roles first, in their order, each with its number of members.
	links := res.find("[data-testid=role-link]")
	want := []string{"Owner", "Admin", "Manager", "Accountant (read-only)", "Driver", "Notifications only"}
	if len(links) != len(want) {
		t.Fatalf("role list %q", links)
	}
	for i, w := range want {
		if !strings.HasPrefix(links[i], w) || !strings.HasSuffix(links[i], "1 member") {
			t.Errorf("role list line %d: %q, want %s with 1 member", i, links[i], w)
		}
	}
	if cur := res.find(`[data-testid=role-link][aria-current=page] .role-name`); len(cur) != 1 || cur[0] != "Driver" {
		t.Fatalf("current role %q", cur)
	}
	// The matrix: every module, a labelled toggle with help for every permission.
	if legends := res.find("#role-form legend"); len(legends) != len(perm.Catalog) || legends[2] != "Trips" {
		t.Fatalf("modules %q", legends)
	}
	doc := res.doc()
	if n := doc.Find(`#role-form input[name="p"]`).Length(); n != len(perm.All()) {
		t.Fatalf("%d toggles, want %d", n, len(perm.All()))
	}
	doc.Find(`#role-form input[name="p"]`).Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		if doc.Find(`label[for="`+id+`"]`).Length() != 1 || doc.Find("#"+id+"-help").Text() == "" {
			t.Errorf("toggle %s lacks a label or help", id)
		}
	})
	if got := matrixChecked(res); !slices.Equal(got, []string{"vehicles.view", "trips.view", "trips.record"}) {
		t.Fatalf("driver toggles on: %v", got)
	}
	if req := doc.Find("#perm-vehicles-edit").AttrOr("data-requires", ""); req != "vehicles.view" {
		t.Fatalf("data-requires of vehicles.edit: %q", req)
	}
	// Scope settings under View trips, which is on; own trips only is set.
	if doc.Find(`[data-scopes-for="trips.view"]`).Is("[hidden]") || !doc.Find("#scope-trips-view-own-only").Is("[checked]") {
		t.Fatal("trips scopes not shown as saved")
	}
	if !doc.Find(`[data-scopes-for="trips.view"] #scope-trips-view-history-days`).Is("[max]") {
		t.Fatal("no days input")
	}
	// Nothing differs yet: Save disabled, no marker.
	if !doc.Find("[data-testid=save]").Is("[disabled]") || !doc.Find("[data-testid=dirty]").Is("[hidden]") {
		t.Fatal("Save enabled on a clean matrix")
	}
	if doc.Find("[data-testid=new-role]").Length() != 1 {
		t.Fatal("owner is not offered New role")
	}

	// The role list asks for the matrix alone.
	frag := c.htmx(rolePath(ids["Manager"]), "role-panel")
	if frag.status != 200 || strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `id="role-panel"`) {
		t.Fatalf("fragment: %d", frag.status)
	}

	// The Owner's matrix is read-only and says why.
	res = c.get(rolePath(ids["Owner"]))
	if note := strings.Join(res.find("[data-testid=readonly-note]"), ""); !strings.Contains(note, "always holds every permission") {
		t.Fatalf("owner note %q", note)
	}
	if res.doc().Find(`#role-form input[name="p"]:not([disabled])`).Length() != 0 || len(res.find("[data-testid=save]")) != 0 {
		t.Fatal("owner matrix is editable")
	}
	if len(res.find("[data-testid=rename]")) != 0 || len(res.find("[data-testid=delete]")) != 0 {
		t.Fatal("a built-in role offers rename or delete")
	}
}

func TestRolesReadOnlyForViewers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	c := a.login("accountant@demo.test")
	res := c.get(rolePath(ids["Driver"]))
	if res.status != 200 {
		t.Fatalf("accountant: %d", res.status)
	}
	if note := strings.Join(res.find("[data-testid=readonly-note]"), ""); !strings.Contains(note, "needs 'Manage roles'") {
		t.Fatalf("note %q", note)
	}
	doc := res.doc()
	if doc.Find(`#role-form input:not([type=hidden]):not([disabled])`).Length() != 0 {
		t.Fatal("a viewer gets usable toggles")
	}
	if len(res.find("[data-testid=save]"))+len(res.find("[data-testid=new-role]"))+len(res.find("[data-testid=rename]")) != 0 {
		t.Fatal("a viewer is offered changes")
	}
	if !slices.Contains(res.find("nav.side a"), "Roles") {
		t.Fatal("accountant is not offered Roles")
	}
	// The matrix's form is no way around the policy.
	if res := c.postForm(rolePath(ids["Driver"]), permOn(url.Values{"version": {"1"}}, perm.VehiclesView)); res.status != http.StatusForbidden ||
		!strings.Contains(res.body, "You need 'Manage roles'") {
		t.Fatalf("accountant save: %d", res.status)
	}
	// Those without roles.view are not offered the section and are refused.
	m := a.login("manager@demo.test")
	if slices.Contains(m.get("/users").find("nav.side a"), "Roles") {
		t.Fatal("manager is offered Roles")
	}
	res = m.htmx(rolePath(ids["Driver"]), "role-panel")
	if res.status != http.StatusForbidden || strings.Contains(res.body, "<html") || !strings.Contains(res.body, "You need 'View roles'") {
		t.Fatalf("htmx refusal: %d %q", res.status, res.body)
	}
}

func TestRoleSaveShowsImpactThenSaves(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	driver := ids["Driver"]
	c := a.login("admin@demo.test")
	form := matrixValues(t, c.get(rolePath(driver)))

	// Export reports without View reports: the server completes it, and the
	// review names the impact before anything is saved.
	permOn(form, perm.ReportsExport)
	permOff(form, perm.TripsRecord)
	res := c.rolesHX(rolePath(driver, "/impact"), "role-review", form)
	if res.status != 200 || strings.Contains(res.body, "<html") {
		t.Fatalf("impact: %d %s", res.status, res.body)
	}
	// Who is reached, by name; gains and losses apart.
	if got := strings.Join(strings.Fields(strings.Join(res.find("[data-testid=impact-members]"), "")), " "); got != "1 member (Diego Driver) holding Driver get the change on their next request." {
		t.Fatalf("impact members %q", got)
	}
	if got := strings.Join(res.find("[data-testid=impact-gain]"), ""); got != "Gain: View dashboard and reports, Export reports" {
		t.Fatalf("impact gain %q", got)
	}
	if got := strings.Join(res.find("[data-testid=impact-lose]"), ""); got != "Lose: Record trips" {
		t.Fatalf("impact lose %q", got)
	}
	if !strings.Contains(res.body, "Also turned on, because other permissions need them: View dashboard and reports.") {
		t.Fatal("the review does not say what was turned on")
	}
	if savedRole(t, a, driver).Version != 1 {
		t.Fatal("the review saved")
	}
	// Confirm: the matrix comes back saved, clean, with the new version.
	res = c.rolesHX(rolePath(driver), "role-panel", form)
	if res.status != 200 {
		t.Fatalf("save: %d %s", res.status, res.body)
	}
	if msg := strings.Join(res.find("[data-testid=role-message]"), ""); !strings.Contains(msg, "Saved Driver as version 2") {
		t.Fatalf("message %q", msg)
	}
	if got := matrixChecked(res); !slices.Equal(got, []string{"reports.view", "reports.export", "vehicles.view", "trips.view"}) {
		t.Fatalf("saved toggles %v", got)
	}
	doc := res.doc()
	if !doc.Find("[data-testid=save]").Is("[disabled]") || doc.Find(`input[name=version]`).AttrOr("value", "") != "2" {
		t.Fatal("after a save: Save must be disabled and the version 2")
	}
	r := savedRole(t, a, driver)
	if r.Version != 2 || !r.Perms.Has(perm.ReportsView) || r.Perms.Has(perm.TripsRecord) || r.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) != 1 {
		t.Fatalf("saved %v", r.Perms)
	}
	// The audit event holds before and after.
	log, _, _ := a.db.AuditLog(context.Background(), rolesDemoActor(t, a, "owner@demo.test"), db.AuditFilter{Kind: "role.update"})
	if len(log) != 1 || log[0].ActorName != "Adam Admin" || !strings.Contains(log[0].Before, "trips.record") || strings.Contains(log[0].After, "trips.record") {
		t.Fatalf("audit %+v", log)
	}

	// Without script the same steps are whole pages and a redirect.
	form = matrixValues(t, c.get(rolePath(driver)))
	permOn(form, perm.AuditView)
	res = c.postForm(rolePath(driver, "/impact"), form)
	if res.status != 200 || !strings.Contains(res.body, "<html") || len(res.find("[data-testid=confirm-save]")) != 1 {
		t.Fatalf("plain review: %d", res.status)
	}
	res = c.postForm(rolePath(driver), form)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != rolePath(driver) {
		t.Fatalf("plain save: %d", res.status)
	}
	if flash := c.get(rolePath(driver)).find(".flash-ok"); len(flash) != 1 || !strings.Contains(flash[0], "version 3") {
		t.Fatalf("flash %q", flash)
	}
}

func TestRoleScopesAreSavedWithTheirPermission(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	manager := ids["Manager"]
	c := a.login("owner@demo.test")
	form := matrixValues(t, c.get(rolePath(manager)))
	form.Set("scope.trips.view.own_only", "1")
	form.Set("scope.trips.view.history_days", "90")
	if res := c.rolesHX(rolePath(manager), "role-panel", form); res.status != 200 {
		t.Fatalf("save: %d", res.status)
	}
	r := savedRole(t, a, manager)
	if r.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) != 1 || r.Perms.Scope(perm.TripsView, perm.ScopeHistoryDays) != 90 {
		t.Fatalf("scopes %v", r.Perms[perm.TripsView])
	}
	res := c.get(rolePath(manager))
	if v := res.doc().Find("#scope-trips-view-history-days").AttrOr("value", ""); v != "90" {
		t.Fatalf("days shown %q", v)
	}
	// A number of days out of range is refused beside its input; the
	// matrix keeps what was typed.
	form = matrixValues(t, res)
	form.Set("scope.trips.view.history_days", "99999")
	res = c.rolesHX(rolePath(manager, "/impact"), "role-review", form)
	if res.status != http.StatusUnprocessableEntity || res.header.Get("HX-Retarget") != "#role-panel" {
		t.Fatalf("bad days: %d %v", res.status, res.header)
	}
	if e := res.doc().Find("#scope-trips-view-history-days").Parent().Find(".error").Text(); !strings.Contains(e, "from 0 to 3650") {
		t.Fatalf("message %q", e)
	}
	if v := res.doc().Find("#scope-trips-view-history-days").AttrOr("value", ""); v != "99999" {
		t.Fatalf("typed value lost: %q", v)
	}
}

func TestRoleSaveRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	c := a.login("admin@demo.test")
	driver := ids["Driver"]

	// No permission at all.
	res := c.rolesHX(rolePath(driver), "role-panel", url.Values{"version": {"1"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.find("[data-testid=matrix-error]"), ""), "at least one permission") {
		t.Fatalf("empty: %d %s", res.status, res.body)
	}
	// The Owner role and one's own role.
	for _, id := range []int64{ids["Owner"], ids["Admin"]} {
		res := c.rolesHX(rolePath(id), "role-panel", permOn(url.Values{"version": {"1"}}, perm.VehiclesView))
		if res.status != http.StatusForbidden {
			t.Fatalf("role %d: %d", id, res.status)
		}
	}
	if note := strings.Join(c.get(rolePath(ids["Admin"])).find("[data-testid=readonly-note]"), ""); !strings.Contains(note, "your own role") {
		t.Fatalf("own role note %q", note)
	}
	if savedRole(t, a, ids["Admin"]).Version != 1 || savedRole(t, a, driver).Version != 1 {
		t.Fatal("a refused save was written")
	}
	// A role of another account does not exist here.
	other := mustAccount(t, a, "Other").Owner.Actor
	opts, _ := a.db.RoleOptions(context.Background(), other)
	for _, o := range opts {
		if o.Builtin != perm.Driver {
			continue
		}
		for _, try := range []struct{ method, path string }{
			{"GET", rolePath(o.ID)}, {"GET", rolePath(o.ID, "/history")}, {"GET", rolePath(o.ID, "/history/1")},
			{"POST", rolePath(o.ID)}, {"POST", rolePath(o.ID, "/impact")}, {"POST", rolePath(o.ID, "/rename")},
			{"POST", rolePath(o.ID, "/delete")}, {"POST", rolePath(o.ID, "/history/1/restore")},
		} {
			var res response
			if try.method == "GET" {
				res = c.get(try.path)
			} else {
				res = c.postForm(try.path, permOn(url.Values{"version": {"1"}, "name": {"Mine"}}, perm.VehiclesView))
			}
			if res.status != http.StatusNotFound {
				t.Errorf("%s %s of another account: %d, want 404", try.method, try.path, res.status)
			}
		}
		if savedRole(t, a, driver).Version != 1 {
			t.Fatal("changed")
		}
	}
}

// A member who manages roles through a custom role can only hand out what
// they hold and cannot change their own role.
func TestRoleManagerCannotEscalate(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	owner := a.login("owner@demo.test")
	keeper := createRole(t, owner, "Role keeper", 0)
	saveRole(t, owner, keeper, perm.RolesManage, perm.VehiclesView, perm.TripsView, perm.TripsRecord, perm.UsersView)
	mustExec(t, a, `UPDATE members SET role_id = ? WHERE user_id = (SELECT id FROM users WHERE email = 'manager@demo.test')`, keeper)
	narrow := createRole(t, owner, "Narrow", 0)

	c := a.login("manager@demo.test")
	res := c.get(rolePath(narrow))
	doc := res.doc()
	if !doc.Find("#perm-audit-view").Is("[disabled]") || doc.Find("#perm-vehicles-view").Is("[disabled]") {
		t.Fatal("toggles the keeper lacks must be disabled, the others not")
	}
	if !strings.Contains(doc.Find("#perm-audit-view-help").Text(), "You do not hold this permission") {
		t.Fatal("no hint on a permission the keeper lacks")
	}
	form := permOn(matrixValues(t, res), perm.AuditView, perm.VehiclesView)
	res = c.rolesHX(rolePath(narrow), "role-panel", form)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "You cannot give permissions you do not hold yourself: View audit log.") {
		t.Fatalf("escalation: %d %s", res.status, res.body)
	}
	// Within their own permissions it works.
	saveRole(t, c, narrow, perm.TripsRecord)
	if r := savedRole(t, a, narrow); !r.Perms.Has(perm.VehiclesView) || r.Perms.Has(perm.AuditView) {
		t.Fatalf("narrow %v", r.Perms.Keys())
	}
	// Their own role and the wider Manager role are read-only to them.
	if note := strings.Join(c.get(rolePath(keeper)).find("[data-testid=readonly-note]"), ""); !strings.Contains(note, "your own role") {
		t.Fatalf("own role note %q", note)
	}
	if note := strings.Join(c.get(rolePath(ids["Manager"])).find("[data-testid=readonly-note]"), ""); !strings.Contains(note, "do not hold") {
		t.Fatalf("wider role note %q", note)
	}
	res = c.rolesHX(rolePath(keeper), "role-panel", permOn(url.Values{"version": {"2"}}, perm.RolesManage, perm.UsersManage))
	if res.status != http.StatusForbidden {
		t.Fatalf("own role save: %d", res.status)
	}
	// Copying a wider role into a new one is refused beside the field.
	res = c.rolesHX("/roles", "new-role-form", url.Values{"name": {"Copy"}, "copy_from": {strconv.FormatInt(ids["Admin"], 10)}})
	if res.status != http.StatusForbidden || !strings.Contains(strings.Join(res.find(".error"), ""), "permissions you do not hold") {
		t.Fatalf("wide copy: %d %s", res.status, res.body)
	}
	if opts := res.find("#new-role-copy option"); slices.Contains(opts, "Admin") || !slices.Contains(opts, "Narrow") {
		t.Fatalf("copy offers %q", opts)
	}
}

// createRole creates a custom role through the dialog and returns its id.
func createRole(t testing.TB, c *client, name string, copyFrom int64) int64 {
	t.Helper()
	v := url.Values{"name": {name}}
	if copyFrom != 0 {
		v.Set("copy_from", strconv.FormatInt(copyFrom, 10))
	}
	res := c.rolesHX("/roles", "new-role-form", v)
	loc := res.header.Get("HX-Redirect")
	if res.status != 200 || !strings.HasPrefix(loc, "/roles/") {
		t.Fatalf("create %s: %d %s", name, res.status, res.body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/roles/"), 10, 64)
	return id
}

// saveRole turns on keys in a role's matrix and saves it as c.
func saveRole(t testing.TB, c *client, id int64, keys ...perm.Key) response {
	t.Helper()
	res := c.rolesHX(rolePath(id), "role-panel", permOn(matrixValues(t, c.get(rolePath(id))), keys...))
	if res.status != 200 {
		t.Fatalf("save role %d: %d %s", id, res.status, res.body)
	}
	return res
}

func TestRoleConcurrentSaveIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	manager := roleIDs(t, a)["Manager"]
	owner, admin := a.login("owner@demo.test"), a.login("admin@demo.test")
	ownerForm := matrixValues(t, owner.get(rolePath(manager)))
	adminForm := matrixValues(t, admin.get(rolePath(manager)))

	permOff(ownerForm, perm.UsersManage)
	if res := owner.rolesHX(rolePath(manager), "role-panel", ownerForm); res.status != 200 {
		t.Fatalf("first save: %d", res.status)
	}
	// The admin's page still says version 1: their review and their save
	// are refused, and they see the role as it is now.
	permOn(adminForm, perm.AuditView)
	for _, path := range []string{rolePath(manager, "/impact"), rolePath(manager)} {
		res := admin.rolesHX(path, "role-review", adminForm)
		if res.status != http.StatusConflict || res.header.Get("HX-Retarget") != "#role-panel" {
			t.Fatalf("%s: %d, want 409 showing the panel", path, res.status)
		}
		msg := strings.Join(res.find("[data-testid=role-message]"), "")
		if !strings.Contains(msg, "Manager was saved by Olivia Owner at") || !strings.Contains(msg, "Your changes were not saved") {
			t.Fatalf("message %q", msg)
		}
		if slices.Contains(matrixChecked(res), "users.manage") || slices.Contains(matrixChecked(res), "audit.view") ||
			res.doc().Find("input[name=version]").AttrOr("value", "") != "2" {
			t.Fatalf("not the current state: %v", matrixChecked(res))
		}
	}
	if r := savedRole(t, a, manager); r.Perms.Has(perm.AuditView) || r.Perms.Has(perm.UsersManage) || r.Version != 2 {
		t.Fatalf("silent overwrite: v%d %v", r.Version, r.Perms.Keys())
	}
}

func TestRoleChangeAppliesOnTheNextRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	driver := ids["Driver"]
	owner, d := a.login("owner@demo.test"), a.login("driver@demo.test")
	if res := d.get(rolePath(driver)); res.status != http.StatusForbidden {
		t.Fatalf("driver before: %d", res.status)
	}
	saveRole(t, owner, driver, perm.RolesView)
	// The driver's same session, very next request.
	if res := d.get(rolePath(driver)); res.status != 200 || !slices.Contains(res.find("nav.side a"), "Roles") {
		t.Fatalf("driver after grant: %d", res.status)
	}
	form := permOff(matrixValues(t, owner.get(rolePath(driver))), perm.RolesView)
	if res := owner.rolesHX(rolePath(driver), "role-panel", form); res.status != 200 {
		t.Fatalf("revoke: %d", res.status)
	}
	if res := d.get(rolePath(driver)); res.status != http.StatusForbidden || !strings.Contains(res.body, "You need 'View roles'") {
		t.Fatalf("driver after revoke: %d", res.status)
	}
}

func TestRoleCreateRenameDelete(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ids := roleIDs(t, a)
	c := a.login("owner@demo.test")

	id := createRole(t, c, "Dispatch", ids["Manager"])
	res := c.get(rolePath(id))
	if title := res.find("[data-testid=role-title]"); len(title) != 1 || title[0] != "Dispatch" {
		t.Fatalf("title %q", title)
	}
	if flash := res.find(".flash-ok"); len(flash) != 1 || !strings.Contains(flash[0], "Created the role Dispatch") {
		t.Fatalf("flash %q", flash)
	}
	if !perm.Equal(savedRole(t, a, id).Perms, savedRole(t, a, ids["Manager"]).Perms) {
		t.Fatal("copy differs from its source")
	}
	// Custom roles come after the built-in ones.
	if links := res.find("[data-testid=role-link] .role-name"); links[len(links)-1] != "Dispatch" {
		t.Fatalf("list %q", links)
	}
	// A duplicate name, whatever its case, is refused beside the field and
	// the dialog keeps what was typed.
	for _, name := range []string{"dispatch", "DRIVER"} {
		res := c.rolesHX("/roles", "new-role-form", url.Values{"name": {name}})
		if res.status != http.StatusConflict || strings.Contains(res.body, "<html") {
			t.Fatalf("duplicate %s: %d", name, res.status)
		}
		if e := strings.Join(res.find("[data-testid=name-error]"), ""); !strings.Contains(e, "already a role named") {
			t.Fatalf("message %q", e)
		}
		if v := res.doc().Find("#new-role-name").AttrOr("value", ""); v != name {
			t.Fatalf("typed name lost: %q", v)
		}
	}
	res = c.rolesHX("/roles", "new-role-form", url.Values{"name": {strings.Repeat("n", 61)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "at most 60 characters") {
		t.Fatalf("long name: %d", res.status)
	}
	if res.doc().Find("#new-role-name").AttrOr("maxlength", "") != "60" {
		t.Fatal("no maxlength on the name")
	}
	// Without script a refusal is the whole page with the dialog open.
	res = c.postForm("/roles", url.Values{"name": {""}})
	if res.status != http.StatusUnprocessableEntity || !res.doc().Find("dialog#new-role").Is("[open]") {
		t.Fatalf("plain refusal: %d", res.status)
	}
	// A new role without a copy starts empty; it cannot be saved so.
	empty := createRole(t, c, "Empty", 0)
	if len(savedRole(t, a, empty).Perms) != 0 {
		t.Fatal("not empty")
	}

	// Rename: custom roles only, same uniqueness rule.
	res = c.rolesHX(rolePath(id, "/rename"), "rename-form", url.Values{"name": {"Dispatchers"}})
	if res.status != 200 || res.header.Get("HX-Redirect") != rolePath(id) || savedRole(t, a, id).Name != "Dispatchers" {
		t.Fatalf("rename: %d %v", res.status, res.header)
	}
	res = c.rolesHX(rolePath(id, "/rename"), "rename-form", url.Values{"name": {"empty"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, `already a role named &#34;Empty&#34;`) {
		t.Fatalf("rename to a taken name: %d %s", res.status, res.body)
	}
	if res := c.postForm(rolePath(ids["Driver"], "/rename"), url.Values{"name": {"Chauffeur"}}); res.status != http.StatusForbidden {
		t.Fatalf("rename built-in: %d", res.status)
	}

	// Delete: refused while members hold the role, naming how many.
	mustExec(t, a, `UPDATE members SET role_id = ? WHERE user_id IN (SELECT id FROM users WHERE email IN ('driver@demo.test', 'manager@demo.test'))`, id)
	res = c.rolesHX(rolePath(id, "/delete"), "role-panel", url.Values{})
	if res.status != http.StatusConflict || !strings.Contains(strings.Join(res.find("[data-testid=role-message]"), ""), "Dispatchers cannot be deleted: 2 members hold it") {
		t.Fatalf("delete held role: %d %s", res.status, res.body)
	}
	if res := c.postForm(rolePath(ids["Accountant (read-only)"], "/delete"), nil); res.status != http.StatusForbidden {
		t.Fatalf("delete built-in: %d", res.status)
	}
	mustExec(t, a, `UPDATE members SET role_id = ? WHERE role_id = ?`, ids["Driver"], id)
	res = c.postForm(rolePath(id, "/delete"), nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/roles" {
		t.Fatalf("delete: %d", res.status)
	}
	if res := c.get(rolePath(id)); res.status != http.StatusNotFound {
		t.Fatalf("deleted role: %d", res.status)
	}
	log, _, _ := a.db.AuditLog(context.Background(), rolesDemoActor(t, a, "owner@demo.test"), db.AuditFilter{Kind: "role."})
	kinds := map[string]int{}
	for _, e := range log {
		kinds[e.Kind]++
	}
	if kinds["role.create"] != 2 || kinds["role.rename"] != 1 || kinds["role.delete"] != 1 {
		t.Fatalf("audit kinds %v", kinds)
	}
}

func TestRoleHistoryAndRestore(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := roleIDs(t, a)["Driver"]
	owner := a.login("owner@demo.test")
	saveRole(t, owner, driver, perm.ReportsView)
	saveRole(t, a.login("admin@demo.test"), driver, perm.AuditView)

	res := a.login("accountant@demo.test").get(rolePath(driver, "/history"))
	rows := res.find("[data-testid=version-row]")
	if res.status != 200 || len(rows) != 3 {
		t.Fatalf("history: %d %q", res.status, rows)
	}
	if !strings.Contains(rows[0], "Adam Admin") || !strings.Contains(rows[0], "Turned on View audit log") || !strings.Contains(rows[0], "current") {
		t.Fatalf("newest %q", rows[0])
	}
	if !strings.Contains(rows[2], "system") {
		t.Fatalf("first %q", rows[2])
	}
	// Version 1 beside the current one; a viewer cannot restore it.
	res = a.login("accountant@demo.test").get(rolePath(driver, "/history/1"))
	differs := res.find("[data-testid=differs] th")
	if len(differs) != 2 || !strings.HasPrefix(differs[0], "View dashboard and reports") || !strings.HasPrefix(differs[1], "View audit log") {
		t.Fatalf("differences %q", differs)
	}
	if len(res.find("[data-testid=restore]")) != 0 {
		t.Fatal("a viewer is offered restore")
	}
	res = owner.get(rolePath(driver, "/history/1"))
	if got := strings.Join(res.find("[data-testid=impact-summary]"), ""); got != "1 member; lose View dashboard and reports, View audit log" {
		t.Fatalf("restore impact %q", got)
	}
	if res := owner.get(rolePath(driver, "/history/9")); res.status != http.StatusNotFound {
		t.Fatalf("missing version: %d", res.status)
	}
	// Restoring from a page that is out of date is refused like a save.
	res = owner.postForm(rolePath(driver, "/history/1/restore"), url.Values{"version": {"2"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "saved by Adam Admin") {
		t.Fatalf("stale restore: %d", res.status)
	}
	res = owner.postForm(rolePath(driver, "/history/1/restore"), url.Values{"version": {"3"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", res.status, res.body)
	}
	r := savedRole(t, a, driver)
	if r.Version != 4 || r.Perms.Has(perm.AuditView) || !r.Perms.Has(perm.TripsRecord) || r.Perms.Scope(perm.TripsView, perm.ScopeOwnOnly) != 1 {
		t.Fatalf("restored v%d %v", r.Version, r.Perms)
	}
	if flash := owner.get(rolePath(driver)).find(".flash-ok"); len(flash) != 1 || !strings.Contains(flash[0], "Restored version 1 of Driver as version 4") {
		t.Fatalf("flash %q", flash)
	}
	log, _, _ := a.db.AuditLog(context.Background(), rolesDemoActor(t, a, "owner@demo.test"), db.AuditFilter{Kind: "role.restore"})
	if len(log) != 1 || !strings.Contains(log[0].Before, "audit.view") || strings.Contains(log[0].After, "audit.view") {
		t.Fatalf("audit %+v", log)
	}
	// An empty first version cannot be restored: a role needs a permission.
	empty := createRole(t, owner, "Empty", 0)
	saveRole(t, owner, empty, perm.VehiclesView)
	res = owner.postForm(rolePath(empty, "/history/1/restore"), url.Values{"version": {"2"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "at least one permission") {
		t.Fatalf("empty restore: %d", res.status)
	}
}

// BenchmarkRoleSaveHTTP is one matrix save through the whole stack:
// session, CSRF, policy, form, checks, write, and the panel rendered back.
func BenchmarkRoleSaveHTTP(b *testing.B) {
	a := newApp(b)
	manager := roleIDs(b, a)["Manager"]
	c := a.login("owner@demo.test")
	version := 1
	for i := 0; b.Loop(); i++ {
		v := url.Values{"version": {strconv.Itoa(version)}, "p": {"vehicles.view", "trips.view"}}
		if i%2 == 0 {
			v.Add("p", "reports.view")
		}
		res := c.rolesHX(rolePath(manager), "role-panel", v)
		if res.status != 200 {
			b.Fatalf("%d %s", res.status, res.body)
		}
		version++
	}
}
