package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

const newPassword = "tram orbit velvet 42"

func TestInviteAndAcceptWithANewLogin(t *testing.T) {
	t.Parallel()
	a, logs := newAppWithLog(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	c := a.login("owner@demo.test")

	res, link := c.invite("new.person@example.com", builtinRoleID(t, a, owner, perm.Accountant), "all")
	if res.status != http.StatusOK || link == "" {
		t.Fatalf("invite: %d, link %q\n%s", res.status, link, res.body)
	}
	if !strings.HasPrefix(link, a.srv.URL+"/invite/") {
		t.Fatalf("link %q is not an absolute link to this server", link)
	}
	// Without SMTP the link goes to the server log.
	a.sendMail()
	if !strings.Contains(logs.String(), link) {
		t.Fatalf("link not in the server log:\n%s", logs)
	}
	// It is listed under pending invitations on the Users page; it is not a member.
	users := c.get("/users")
	if rows := users.find("[data-testid=invitation-row] td[data-label=E-mail]"); len(rows) != 1 || rows[0] != "new.person@example.com" {
		t.Fatalf("pending list: %v", rows)
	}
	for _, e := range users.find("[data-testid=user-row] td[data-label=E-mail]") {
		if e == "new.person@example.com" {
			t.Fatal("a pending invitation is listed as a member")
		}
	}
	if es := auditEntries(t, a, owner, "invitation.create"); len(es) != 1 || es[0].Target != "new.person@example.com" ||
		!strings.Contains(es[0].After, `"role":"Accountant (read-only)"`) || es[0].ActorName != "Olivia Owner" {
		t.Fatalf("audit: %+v", es)
	}

	// The invited person opens the link in a browser of their own.
	guest := a.client()
	page := guest.get(linkPath(t, link))
	if page.status != http.StatusOK || len(page.find("#first_name")) != 1 || len(page.find("#password_again")) != 1 {
		t.Fatalf("accept page: %d\n%s", page.status, page.body)
	}
	if h := strings.Join(page.find("#accept-title"), ""); h != "Join Demo Fleet" {
		t.Fatalf("title %q", h)
	}

	// Bad input: a message next to each field, and what was typed stays.
	cases := []struct {
		form         url.Values
		field, want  string
		keepFirst    string
		wantedStatus int
	}{
		{url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {"short"}, "password_again": {"short"}}, "password", "at least 12", "Nina", 422},
		{url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {"Password2024!"}, "password_again": {"Password2024!"}}, "password", "too common", "Nina", 422},
		{url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {"new.person@example.com"}, "password_again": {"new.person@example.com"}}, "password", "e-mail address", "Nina", 422},
		{url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {newPassword}, "password_again": {newPassword + "x"}}, "password_again", "not the same", "Nina", 422},
		{url.Values{"first_name": {""}, "last_name": {"New"}, "password": {newPassword}, "password_again": {newPassword}}, "first_name", "Enter the first name", "", 422},
		{url.Values{"first_name": {"Nina"}, "last_name": {strings.Repeat("n", 101)}, "password": {newPassword}, "password_again": {newPassword}}, "last_name", "at most 100", "Nina", 422},
		{url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {strings.Repeat("p", 201)}, "password_again": {strings.Repeat("p", 201)}}, "password", "at most 200", "Nina", 422},
	}
	for _, tc := range cases {
		r := guest.postForm(linkPath(t, link), tc.form)
		if r.status != tc.wantedStatus || !strings.Contains(fieldMsg(r, tc.field), tc.want) {
			t.Errorf("%s: %d %q, want %q", tc.field, r.status, fieldMsg(r, tc.field), tc.want)
		}
		if v, _ := r.doc().Find("#first_name").Attr("value"); v != tc.keepFirst {
			t.Errorf("first name not kept: %q", v)
		}
		if v, _ := r.doc().Find("#" + tc.field).Attr("aria-invalid"); v != "true" {
			t.Errorf("%s not marked invalid", tc.field)
		}
	}

	// Accepting logs the person in, in the invited role, active.
	done := guest.postForm(linkPath(t, link), url.Values{"first_name": {"Nina"}, "last_name": {"New"}, "password": {newPassword}, "password_again": {newPassword}})
	// An Accountant (reports.view) starts on the dashboard.
	if done.status != http.StatusSeeOther || done.header.Get("Location") != "/dashboard" {
		t.Fatalf("accept: %d %s\n%s", done.status, done.header.Get("Location"), done.body)
	}
	home := guest.get("/dashboard")
	if home.status != http.StatusOK {
		t.Fatalf("console after accepting: %d", home.status)
	}
	menu := strings.Join(home.find(".user-menu .menu-body p"), " | ")
	if !strings.Contains(menu, "Accountant (read-only) in Demo Fleet") || !strings.Contains(menu, "new.person@example.com") {
		t.Fatalf("user menu: %q", menu)
	}
	if f := strings.Join(home.find(".flash-ok"), ""); !strings.Contains(f, "Welcome to Demo Fleet") {
		t.Fatalf("welcome flash: %q", f)
	}
	nina := memberOfAccount(t, a, "new.person@example.com", owner.AccountID)
	if nina.Status != "active" || nina.VehicleAccess != "all" || nina.Builtin != perm.Accountant || nina.Name() != "Nina New" {
		t.Fatalf("member: %+v", nina)
	}
	// The login works with the chosen password.
	a.loginWith("new.person@example.com", newPassword)

	// The link is single-use, and the invitation leaves the pending list.
	again := a.client().get(linkPath(t, link))
	if again.status != http.StatusGone || !strings.Contains(strings.Join(again.find("[data-testid=invite-gone]"), ""), "already been used") {
		t.Fatalf("used link: %d %s", again.status, again.body)
	}
	if rows := c.get("/users").find("[data-testid=invitation-row]"); len(rows) != 0 {
		t.Fatalf("still pending: %v", rows)
	}
	es := auditEntries(t, a, owner, "invitation.accept")
	if len(es) != 1 || es[0].ActorID != nina.MemberID || !strings.Contains(es[0].After, `"existing_login":false`) {
		t.Fatalf("accept audit: %+v", es)
	}
}

func TestInviteAnExistingLoginJoinsWithItsPassword(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	_, link := a.login("owner@demo.test").invite("bea@beta.test", builtinRoleID(t, a, owner, perm.Manager), "selected")
	if link == "" {
		t.Fatal("no link")
	}
	guest := a.client()
	page := guest.get(linkPath(t, link))
	if len(page.find("input[name=existing][value='1']")) != 1 || len(page.find("#first_name")) != 1 {
		t.Fatalf("the page does not offer both ways to join:\n%s", page.body)
	}
	bad := guest.postForm(linkPath(t, link), url.Values{"existing": {"1"}, "password": {"not her password"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(bad, "password"), "not the password of a Fleetgate login for bea@beta.test") {
		t.Fatalf("wrong password: %d %q", bad.status, fieldMsg(bad, "password"))
	}
	// A form for a new login does not create a second one.
	wrongForm := guest.postForm(linkPath(t, link), url.Values{"existing": {"0"}, "first_name": {"X"}, "last_name": {"Y"}, "password": {newPassword}, "password_again": {newPassword}})
	if wrongForm.status != http.StatusConflict || !strings.Contains(wrongForm.body, "already has a Fleetgate login") {
		t.Fatalf("new-login form for an existing login: %d", wrongForm.status)
	}
	ok := guest.postForm(linkPath(t, link), url.Values{"existing": {"1"}, "password": {"beta owner password"}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", ok.status, ok.body)
	}
	// One login, two accounts; the session works in the invited one.
	u, _, _ := a.db.UserForLogin(context.Background(), "bea@beta.test")
	ms, _ := a.db.Memberships(context.Background(), u.ID)
	if len(ms) != 2 {
		t.Fatalf("memberships: %+v", ms)
	}
	menu := strings.Join(guest.get("/users").find(".user-menu .menu-body p"), " | ")
	if !strings.Contains(menu, "Manager in Demo Fleet") {
		t.Fatalf("menu: %q", menu)
	}
	if m := memberOfAccount(t, a, "bea@beta.test", owner.AccountID); m.Name() != "Bea Other" || m.VehicleAccess != "selected" {
		t.Fatalf("member: %+v", m)
	}
	if es := auditEntries(t, a, owner, "invitation.accept"); len(es) != 1 || !strings.Contains(es[0].After, `"existing_login":true`) {
		t.Fatalf("audit: %+v", es)
	}
	if es := auditEntries(t, a, other, "invitation."); len(es) != 0 {
		t.Fatalf("the other account's log got the event: %+v", es)
	}
}

func TestInviteRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	c := a.login("owner@demo.test")
	acct := builtinRoleID(t, a, owner, perm.Accountant)
	post := func(email, role, access string) response {
		return c.postForm("/users/invite", url.Values{"email": {email}, "role_id": {role}, "channel": {"web"}, "vehicle_access": {access}})
	}
	cases := []struct {
		name, email, role, access string
		status                    int
		field, want               string
	}{
		{"already a member", "Driver@Demo.test", fmt.Sprint(acct), "selected", 422, "email", "already a member"},
		{"not an e-mail", "not-an-email", fmt.Sprint(acct), "selected", 422, "email", "such as name@example.com"},
		{"empty e-mail", "", fmt.Sprint(acct), "selected", 422, "email", "Enter an e-mail"},
		{"too long", strings.Repeat("a", 250) + "@x.test", fmt.Sprint(acct), "selected", 422, "email", "at most 254"},
		{"no role", "x@example.com", "", "selected", 422, "role_id", "Choose a role"},
		{"Owner role", "x@example.com", fmt.Sprint(builtinRoleID(t, a, owner, perm.Owner)), "selected", 403, "role_id", "Owner"},
		{"role of another account", "x@example.com", fmt.Sprint(builtinRoleID(t, a, other, perm.Driver)), "selected", 422, "role_id", "offered roles"},
		{"bad access", "x@example.com", fmt.Sprint(acct), "everything", 422, "vehicle_access", "all vehicles or selected"},
	}
	for _, tc := range cases {
		res := post(tc.email, tc.role, tc.access)
		if res.status != tc.status || !strings.Contains(fieldMsg(res, tc.field), tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, res.status, fieldMsg(res, tc.field), tc.status, tc.want)
		}
		if v, _ := res.doc().Find("#email").Attr("value"); v != tc.email {
			t.Errorf("%s: the e-mail typed is not kept: %q", tc.name, v)
		}
	}
	// The role chosen stays selected after a refusal.
	res := post("x@", fmt.Sprint(acct), "all")
	if v, _ := res.doc().Find("#role_id option[selected]").Attr("value"); v != fmt.Sprint(acct) {
		t.Errorf("role not kept: %q", v)
	}
	// A second invitation to a pending e-mail is refused; after expiry it replaces the old one.
	if r, _ := c.invite("twice@example.com", acct, "selected"); r.status != 200 {
		t.Fatalf("first invite: %d", r.status)
	}
	if r := post("twice@example.com", fmt.Sprint(acct), "selected"); r.status != 422 || !strings.Contains(fieldMsg(r, "email"), "already pending") {
		t.Fatalf("second invite: %d %q", r.status, fieldMsg(r, "email"))
	}
	mustExec(t, a, `UPDATE invitations SET expires_at = '2000-01-01T00:00:00Z' WHERE email = 'twice@example.com'`)
	if r, link := c.invite("twice@example.com", acct, "selected"); r.status != 200 || link == "" {
		t.Fatalf("invite after expiry: %d", r.status)
	}
	if n := len(c.get("/users").find("[data-testid=invitation-row]")); n != 1 {
		t.Fatalf("pending rows after replacing: %d", n)
	}
	// Nothing refused was stored.
	invs, _ := a.db.PendingInvitations(context.Background(), owner)
	for _, inv := range invs {
		if inv.Email != "twice@example.com" {
			t.Errorf("refused invitation stored: %s", inv.Email)
		}
	}
}

// TestInviteWithinOwnRights: a manager (users.manage, selected vehicles) is
// offered only roles within their own permissions and no all-vehicle
// access, and the server refuses the others anyway.
func TestInviteWithinOwnRights(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	m := a.login("manager@demo.test")
	form := m.get("/users/invite")
	if form.status != 200 {
		t.Fatalf("manager form: %d", form.status)
	}
	offered := strings.Join(form.find("#role_id option"), ",")
	if offered != "Choose a role,Manager,Driver,Notifications only" {
		t.Fatalf("manager is offered %q", offered)
	}
	if len(form.find("#vehicle_access option[value=all]")) != 0 {
		t.Fatal("manager is offered all vehicles")
	}
	for _, b := range []perm.Builtin{perm.Admin, perm.Accountant} {
		res := m.postForm("/users/invite", url.Values{"email": {"x@example.com"}, "role_id": {fmt.Sprint(builtinRoleID(t, a, owner, b))}, "vehicle_access": {"selected"}})
		if res.status != http.StatusForbidden || !strings.Contains(fieldMsg(res, "role_id"), "permissions you do not hold") {
			t.Errorf("manager gives %s: %d %q", b, res.status, fieldMsg(res, "role_id"))
		}
	}
	res := m.postForm("/users/invite", url.Values{"email": {"x@example.com"}, "role_id": {fmt.Sprint(builtinRoleID(t, a, owner, perm.Driver))}, "vehicle_access": {"all"}})
	if res.status != http.StatusForbidden || !strings.Contains(fieldMsg(res, "vehicle_access"), "only if you have it yourself") {
		t.Errorf("manager gives all vehicles: %d %q", res.status, fieldMsg(res, "vehicle_access"))
	}
	if r, link := m.invite("d@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected"); r.status != 200 || link == "" {
		t.Fatalf("manager invites a driver: %d", r.status)
	}
	// The owner and an admin are offered every role but Owner.
	for _, who := range []string{"owner@demo.test", "admin@demo.test"} {
		got := strings.Join(a.login(who).get("/users/invite").find("#role_id option"), ",")
		if got != "Choose a role,Admin,Manager,Accountant (read-only),Driver,Notifications only" {
			t.Errorf("%s is offered %q", who, got)
		}
	}
}

func TestInviteDeniedWithoutUsersManage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	_, link := a.login("owner@demo.test").invite("p@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	invs, _ := a.db.PendingInvitations(context.Background(), owner)
	id := fmt.Sprint(invs[0].ID)
	for _, who := range []string{"accountant@demo.test", "driver@demo.test"} {
		c := a.login(who)
		for _, r := range []response{
			c.get("/users/invite"),
			c.postForm("/users/invite", url.Values{"email": {"z@example.com"}, "role_id": {fmt.Sprint(builtinRoleID(t, a, owner, perm.Driver))}, "vehicle_access": {"selected"}}),
			c.postForm("/users/invitations/"+id+"/link", nil),
			c.postForm("/users/invitations/"+id+"/resend", nil),
			c.postForm("/users/invitations/"+id+"/revoke", nil),
		} {
			msg := strings.Join(r.find("[data-testid=denied]"), "")
			if r.status != http.StatusForbidden || !strings.Contains(msg, "You need 'Manage users'") {
				t.Errorf("%s: %d %q", who, r.status, msg)
			}
		}
	}
	// The accountant sees the Users page without invite controls or the pending list.
	page := a.login("accountant@demo.test").get("/users")
	if len(page.find("[data-testid=invite-button]")) != 0 || len(page.find("[data-testid=invitations-panel]")) != 0 {
		t.Fatal("accountant is offered invitations")
	}
	// Nothing changed: the link still works.
	if r := a.client().get(linkPath(t, link)); r.status != 200 {
		t.Fatalf("link after refused attempts: %d", r.status)
	}
}

func TestInvitationLinkStates(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	c := a.login("owner@demo.test")
	role := builtinRoleID(t, a, owner, perm.Driver)
	_, expired := c.invite("late@example.com", role, "selected")
	_, revoked := c.invite("gone@example.com", role, "selected")
	mustExec(t, a, `UPDATE invitations SET expires_at = '2000-01-01T00:00:00Z' WHERE email = 'late@example.com'`)
	mustExec(t, a, `UPDATE invitations SET revoked_at = '2026-01-01T00:00:00Z' WHERE email = 'gone@example.com'`)
	guest := a.client()
	cases := []struct {
		path   string
		status int
		title  string
		want   string
	}{
		{linkPath(t, expired), http.StatusGone, "Invitation expired", "expired on 1 January 2000"},
		{linkPath(t, revoked), http.StatusGone, "Invitation withdrawn", "withdrawn by Demo Fleet"},
		{"/invite/" + db.NewToken(), http.StatusNotFound, "Invitation not valid", "not valid"},
		{"/invite/" + strings.Repeat("x", 500), http.StatusNotFound, "Invitation not valid", "not valid"},
	}
	for _, tc := range cases {
		for _, r := range []response{guest.get(tc.path), guest.postForm(tc.path, url.Values{"first_name": {"A"}, "last_name": {"B"},
			"password": {newPassword}, "password_again": {newPassword}})} {
			msg := strings.Join(r.find("[data-testid=invite-gone]"), "")
			if r.status != tc.status || !strings.Contains(msg, tc.want) || strings.Join(r.find("h1"), "") != tc.title {
				t.Errorf("%s: %d %q", tc.title, r.status, msg)
			}
		}
	}
	// Nobody became a member through them.
	for _, e := range []string{"late@example.com", "gone@example.com"} {
		if _, found, _ := a.db.UserForLogin(context.Background(), e); found {
			t.Errorf("%s got a login", e)
		}
	}
}

func TestInvitationCopyLinkResendRevoke(t *testing.T) {
	t.Parallel()
	a, logs := newAppWithLog(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	c := a.login("owner@demo.test")
	_, first := c.invite("p@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	invs, _ := a.db.PendingInvitations(context.Background(), owner)
	id := fmt.Sprint(invs[0].ID)

	// Copy link: a fresh link in the panel (htmx), the old one stops working.
	res := c.postRaw("/users/invitations/"+id+"/link", url.Values{"_csrf": {c.csrf()}}, "HX-Request", "true", "HX-Target", "invitations-panel")
	second, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	if res.status != 200 || strings.Contains(res.body, "<html") || second == "" || second == first {
		t.Fatalf("copy link: %d %q\n%s", res.status, second, res.body)
	}
	if copyBtn, _ := res.doc().Find("button[data-copy]").Attr("data-copy"); copyBtn != second {
		t.Fatalf("copy button carries %q", copyBtn)
	}
	if r := a.client().get(linkPath(t, first)); r.status != http.StatusNotFound {
		t.Fatalf("old link after copy-link: %d", r.status)
	}
	if r := a.client().get(linkPath(t, second)); r.status != http.StatusOK {
		t.Fatalf("new link: %d", r.status)
	}
	if a.sendMail(); strings.Contains(logs.String(), second) {
		t.Fatal("copy-link wrote the link to the log as if sent")
	}

	// Resend without SMTP: another fresh link, written to the log; whole page without htmx.
	res = c.postForm("/users/invitations/"+id+"/resend", nil)
	third, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	a.sendMail()
	if res.status != 200 || !strings.Contains(res.body, "<html") || third == "" || third == second || !strings.Contains(logs.String(), third) {
		t.Fatalf("resend: %d %q", res.status, third)
	}
	if r := a.client().get(linkPath(t, second)); r.status != http.StatusNotFound {
		t.Fatalf("second link after resend: %d", r.status)
	}
	// An expired invitation can be resent and is valid again.
	mustExec(t, a, `UPDATE invitations SET expires_at = '2000-01-01T00:00:00Z'`)
	if got := c.get("/users").find("[data-testid=invitation-row] .badge"); len(got) != 1 || got[0] != "expired" {
		t.Fatalf("expired badge: %v", got)
	}
	res = c.postForm("/users/invitations/"+id+"/resend", nil)
	fourth, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	if r := a.client().get(linkPath(t, fourth)); r.status != http.StatusOK {
		t.Fatalf("resent expired invitation: %d", r.status)
	}

	// Revoke (htmx): the panel comes back without it, with a notice; the link is dead.
	res = c.postRaw("/users/invitations/"+id+"/revoke", url.Values{"_csrf": {c.csrf()}}, "HX-Request", "true", "HX-Target", "invitations-panel")
	if res.status != 200 || len(res.find("[data-testid=invitation-row]")) != 0 || !strings.Contains(res.body, "was revoked") {
		t.Fatalf("revoke: %d\n%s", res.status, res.body)
	}
	if r := a.client().get(linkPath(t, fourth)); r.status != http.StatusGone {
		t.Fatalf("revoked link: %d", r.status)
	}
	// A revoked invitation cannot be revoked or renewed again.
	if r := c.postForm("/users/invitations/"+id+"/revoke", nil); r.status != http.StatusConflict {
		t.Fatalf("revoke twice: %d", r.status)
	}
	if r := c.postForm("/users/invitations/"+id+"/link", nil); r.status != http.StatusConflict {
		t.Fatalf("link after revoke: %d", r.status)
	}
	kinds := []string{}
	for _, e := range auditEntries(t, a, owner, "invitation.") {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "invitation.revoke,invitation.resend,invitation.resend,invitation.link,invitation.create" {
		t.Fatalf("audit kinds: %s", got)
	}
}

// TestInvitationOfAnotherAccount: ids of another account's invitations
// answer 404 to every action, and the invitation stays as it was.
func TestInvitationOfAnotherAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	inv, token, err := a.db.CreateInvitation(context.Background(), other, db.NewInvitation{Email: "b@example.com",
		RoleID: builtinRoleID(t, a, other, perm.Driver), VehicleAccess: "selected"})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"owner@demo.test", "admin@demo.test", "manager@demo.test"} {
		c := a.login(who)
		for _, action := range []string{"link", "resend", "revoke"} {
			r := c.postForm(fmt.Sprintf("/users/invitations/%d/%s", inv.ID, action), nil)
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s of account B: %d", who, action, r.status)
			}
		}
		for _, row := range c.get("/users").find("[data-testid=invitation-row] td[data-label=E-mail]") {
			if row == "b@example.com" {
				t.Errorf("%s sees account B's invitation", who)
			}
		}
	}
	if r := a.client().get("/invite/" + token); r.status != http.StatusOK || !strings.Contains(r.body, "Join Beta Fleet") {
		t.Fatalf("B's link after A's attempts: %d", r.status)
	}
	if es := auditEntries(t, a, other, "invitation."); len(es) != 1 {
		t.Fatalf("B's audit: %d entries", len(es))
	}
}

// TestInvitationWiderThanTheActor: a manager cannot renew or revoke an
// invitation that gives more than they may give (a fresh link to an Admin
// invitation would be an escalation), and is not offered to.
func TestInvitationWiderThanTheActor(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	_, link := a.login("admin@demo.test").invite("boss@example.com", builtinRoleID(t, a, owner, perm.Admin), "all")
	invs, _ := a.db.PendingInvitations(context.Background(), owner)
	id := fmt.Sprint(invs[0].ID)
	m := a.login("manager@demo.test")
	page := m.get("/users")
	if len(page.find("[data-testid=invitation-row]")) != 1 || len(page.find("[data-testid=invitation-row] form")) != 0 {
		t.Fatalf("manager's panel offers actions on an Admin invitation:\n%s", page.body)
	}
	for _, action := range []string{"link", "resend", "revoke"} {
		r := m.postRaw("/users/invitations/"+id+"/"+action, url.Values{"_csrf": {m.csrf()}}, "HX-Request", "true", "HX-Target", "invitations-panel")
		msg := strings.Join(r.find("[data-testid=invitations-error]"), "")
		if r.status != http.StatusForbidden || !strings.Contains(msg, "more than you may give") || len(r.find("[data-testid=invite-link]")) != 0 {
			t.Errorf("manager %s: %d %q", action, r.status, msg)
		}
		r = m.postForm("/users/invitations/"+id+"/"+action, nil)
		if r.status != http.StatusForbidden {
			t.Errorf("manager %s without htmx: %d", action, r.status)
		}
	}
	if r := a.client().get(linkPath(t, link)); r.status != http.StatusOK {
		t.Fatalf("the admin's link was changed: %d", r.status)
	}
}

func TestInvitationIsEmailedBySMTP(t *testing.T) {
	t.Parallel()
	smtp := startFakeSMTP(t)
	buf := &logBuffer{}
	a := newAppConfigured(t, handlers.Config{Logger: slogTo(buf), SMTP: handlers.SMTPConfig{Host: "127.0.0.1", Port: smtp.port,
		TLS: "none", User: "mailer", Password: "mail secret", From: "Fleetgate <fleet@example.com>"}, BaseURL: "https://fleet.example.com/"})
	owner := actorByEmail(t, a, "owner@demo.test")
	noInvitationNews(t, a)
	c := a.login("owner@demo.test")
	res, link := c.invite("sam@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	if res.status != 200 || !strings.Contains(res.body, "on its way to sam@example.com") {
		t.Fatalf("invite: %d\n%s", res.status, res.body)
	}
	if r := a.sendMail(); r.Sent != 1 {
		t.Fatalf("delivery: %+v", r)
	}
	if !strings.HasPrefix(link, "https://fleet.example.com/invite/") {
		t.Fatalf("link does not use the base URL: %q", link)
	}
	msgs := smtp.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if msgs[0].From != "FROM:<fleet@example.com>" || len(msgs[0].To) != 1 || msgs[0].To[0] != "TO:<sam@example.com>" {
		t.Fatalf("envelope: %+v", msgs[0])
	}
	subject, body, header := msgs[0].parsed(t)
	if subject != "You are invited to Demo Fleet on Fleetgate" || header.Get("To") != "<sam@example.com>" {
		t.Fatalf("subject %q to %q", subject, header.Get("To"))
	}
	if !strings.Contains(body, link) || !strings.Contains(body, "Olivia Owner invites you to join Demo Fleet on Fleetgate as Driver") {
		t.Fatalf("body does not carry the link %s:\n%s", link, body)
	}
	if creds := smtp.credentials(); len(creds) != 1 || creds[0] != "\x00mailer\x00mail secret" {
		t.Fatalf("AUTH PLAIN: %q", creds)
	}
	if strings.Contains(buf.String(), link) {
		t.Fatal("a sent link was also written to the log")
	}
	// Resend mails a new link; the old one stops working.
	invs, _ := a.db.PendingInvitations(context.Background(), owner)
	res = c.postForm(fmt.Sprintf("/users/invitations/%d/resend", invs[0].ID), nil)
	newLink, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	a.sendMail()
	msgs = smtp.messages()
	if len(msgs) != 2 || newLink == link {
		t.Fatalf("resend: %d messages", len(msgs))
	}
	if _, body, _ := msgs[1].parsed(t); !strings.Contains(body, newLink) {
		t.Fatalf("resent body:\n%s", body)
	}
	if r := a.client().get(strings.TrimPrefix(link, "https://fleet.example.com")); r.status != http.StatusNotFound {
		t.Fatalf("old link after resend: %d", r.status)
	}
	// Copy link sends nothing.
	c.postForm(fmt.Sprintf("/users/invitations/%d/link", invs[0].ID), nil)
	if a.sendMail(); len(smtp.messages()) != 2 {
		n := len(smtp.messages())
		t.Fatalf("copy link sent mail: %d", n)
	}
}

func TestInvitationSMTPFailureStillShowsTheLink(t *testing.T) {
	t.Parallel()
	buf := &logBuffer{}
	a := newAppConfigured(t, handlers.Config{Logger: slogTo(buf), SMTP: handlers.SMTPConfig{Host: "127.0.0.1", Port: closedPort(t), From: "fleet@example.com"}})
	owner := actorByEmail(t, a, "owner@demo.test")
	noInvitationNews(t, a)
	res, link := a.login("owner@demo.test").invite("sam@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	if res.status != 200 || link == "" || !strings.Contains(res.body, "on its way") {
		t.Fatalf("invite: %d %q\n%s", res.status, link, res.body)
	}
	// The harness's sender tries twice, then gives up.
	if r := a.sendMail(); r.Retried != 1 || r.Failed != 1 || r.Sent != 0 {
		t.Fatalf("delivery: %+v", r)
	}
	if !strings.Contains(buf.String(), "e-mail failed") || !strings.Contains(buf.String(), "connection refused") {
		t.Fatalf("failure not logged:\n%s", buf)
	}
	if r := a.client().get(linkPath(t, link)); r.status != 200 {
		t.Fatalf("link after failed mail: %d", r.status)
	}
}

func TestSMTPConfigCheck(t *testing.T) {
	t.Parallel()
	if err := (handlers.SMTPConfig{}).Check(); err != nil {
		t.Fatalf("no SMTP is fine: %v", err)
	}
	if err := (handlers.SMTPConfig{Host: "mail.example.com", Port: 587}).Check(); err == nil {
		t.Fatal("SMTP without a sender accepted")
	}
	if err := (handlers.SMTPConfig{Host: "mail.example.com", Port: 0, From: "a@example.com"}).Check(); err == nil {
		t.Fatal("port 0 accepted")
	}
	if err := (handlers.SMTPConfig{Host: "mail.example.com", Port: 587, From: "Fleet <a@example.com>"}).Check(); err != nil {
		t.Fatal(err)
	}
}

// TestAcceptRefusesTheOwnerRole: even an invitation row naming the Owner
// role (which the server never creates) cannot make anyone Owner.
func TestAcceptRefusesTheOwnerRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	_, link := a.login("owner@demo.test").invite("o2@example.com", builtinRoleID(t, a, owner, perm.Admin), "all")
	mustExec(t, a, `UPDATE invitations SET role_id = ? WHERE email = 'o2@example.com'`, builtinRoleID(t, a, owner, perm.Owner))
	r := a.client().postForm(linkPath(t, link), url.Values{"first_name": {"O"}, "last_name": {"Two"}, "password": {newPassword}, "password_again": {newPassword}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Nobody can be invited as Owner") {
		t.Fatalf("owner invitation accepted: %d\n%s", r.status, r.body)
	}
	if _, found, _ := a.db.UserForLogin(context.Background(), "o2@example.com"); found {
		t.Fatal("a login was created")
	}
}

// TestAcceptForMobileOnly: a mobile-only member joins but is not logged in
// to the web console, and is told why.
func TestAcceptForMobileOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	c := a.login("owner@demo.test")
	r := c.postForm("/users/invite", url.Values{"email": {"m@example.com"}, "role_id": {fmt.Sprint(builtinRoleID(t, a, owner, perm.Driver))},
		"channel": {"mobile"}, "vehicle_access": {"selected"}})
	link, _ := r.doc().Find("[data-testid=invite-link]").Attr("value")
	guest := a.client()
	res := guest.postForm(linkPath(t, link), url.Values{"first_name": {"Mo"}, "last_name": {"Bile"}, "password": {newPassword}, "password_again": {newPassword}})
	if res.status != 200 || !strings.Contains(res.body, "for the mobile app") {
		t.Fatalf("mobile accept: %d\n%s", res.status, res.body)
	}
	if r := guest.get("/users"); r.status != http.StatusSeeOther {
		t.Fatalf("mobile member got a console session: %d", r.status)
	}
	if m := memberOfAccount(t, a, "m@example.com", owner.AccountID); m.Status != "active" || m.Channel != "mobile" {
		t.Fatalf("member: %+v", m)
	}
}

// An invitation carries its inviter's rights of the moment of acceptance,
// not of sending: an Admin who invites an Admin and is then demoted (or
// deactivated) no longer makes an Admin. The link dies, the person is told
// to ask for a new one, and the account's audit log says why.
func TestAcceptRechecksTheInvitersRights(t *testing.T) {
	t.Parallel()
	for _, change := range []struct{ name, sql, want string }{
		{"demoted", `UPDATE members SET role_id = (SELECT id FROM roles WHERE account_id = members.account_id AND builtin = 'accountant') WHERE id = ?`, "may no longer invite people"},
		{"deactivated", `UPDATE members SET status = 'deactivated' WHERE id = ?`, "no longer an active member"},
	} {
		t.Run(change.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			admin := actorByEmail(t, a, "admin@demo.test")
			res, link := a.login("admin@demo.test").invite("later.admin@example.com", builtinRoleID(t, a, admin, perm.Admin), "all")
			if res.status != http.StatusOK || link == "" {
				t.Fatalf("invite: %d", res.status)
			}
			mustExec(t, a, change.sql, admin.MemberID)
			r := a.client().postForm(linkPath(t, link), url.Values{"first_name": {"Later"}, "last_name": {"Admin"},
				"password": {newPassword}, "password_again": {newPassword}})
			if r.status != http.StatusConflict || !strings.Contains(r.body, change.want) || !strings.Contains(r.body, "Ask Demo Fleet for a new invitation") {
				t.Fatalf("accept after the inviter was %s: %d\n%s", change.name, r.status, r.body)
			}
			if _, found, _ := a.db.UserForLogin(context.Background(), "later.admin@example.com"); found {
				t.Fatal("a login was created")
			}
			owner := actorByEmail(t, a, "owner@demo.test")
			if es := auditEntries(t, a, owner, "invitation.refused"); len(es) != 1 || es[0].Target != "later.admin@example.com" || !strings.Contains(es[0].Summary, change.want) {
				t.Fatalf("audit: %+v", es)
			}
			// The link is dead for good, also once the inviter's rights are back.
			if r := a.client().get(linkPath(t, link)); r.status == http.StatusOK && len(r.find("#first_name")) == 1 {
				t.Fatal("the refused link still offers to join")
			}
		})
	}
	// A right invitation still works (the inviter's rights are unchanged).
	a := newApp(t)
	admin := actorByEmail(t, a, "admin@demo.test")
	_, link := a.login("admin@demo.test").invite("fine@example.com", builtinRoleID(t, a, admin, perm.Manager), "all")
	if r := a.client().postForm(linkPath(t, link), url.Values{"first_name": {"Fine"}, "last_name": {"Person"},
		"password": {newPassword}, "password_again": {newPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", r.status, r.body)
	}
}

// Opening an invitation link tells nothing about whether the address has a
// login: the page is the same for both, and joining "with my password" for
// an address without a login gets the answer a wrong password gets.
func TestAcceptPageDoesNotRevealAnExistingLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	inviter := a.login("owner@demo.test")
	role := builtinRoleID(t, a, owner, perm.Manager)
	_, withLogin := inviter.invite("bea@beta.test", role, "selected")
	_, without := inviter.invite("nobody-yet@beta.test", role, "selected")
	guest := a.client()
	normalize := func(link, email string) string {
		body := guest.get(linkPath(t, link)).body
		body = strings.ReplaceAll(body, linkPath(t, link), "LINK")
		body = strings.ReplaceAll(body, email, "EMAIL")
		return regexp.MustCompile(`name="_csrf" value="[^"]*"`).ReplaceAllString(body, "CSRF")
	}
	if p1, p2 := normalize(withLogin, "bea@beta.test"), normalize(without, "nobody-yet@beta.test"); p1 != p2 {
		t.Fatalf("the accept pages differ:\n%s\n----\n%s", p1, p2)
	}
	msg := func(link, email string) string {
		r := guest.postForm(linkPath(t, link), url.Values{"existing": {"1"}, "password": {"a guessed password"}})
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d", email, r.status)
		}
		return strings.ReplaceAll(fieldMsg(r, "password"), email, "EMAIL")
	}
	if m1, m2 := msg(withLogin, "bea@beta.test"), msg(without, "nobody-yet@beta.test"); m1 != m2 || m1 == "" {
		t.Fatalf("answers differ: %q vs %q", m1, m2)
	}
}
