package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
)

func TestProfileForEveryRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for role, email := range roleLogins {
		c := a.login(email)
		res := c.get("/profile")
		if res.status != 200 {
			t.Errorf("%s: %d", role, res.status)
			continue
		}
		if v, _ := res.doc().Find("#first_name").Attr("value"); v == "" {
			t.Errorf("%s: first name not filled", role)
		}
		// Offered in the sidebar (last) and in the user menu.
		nav := res.find("nav.side a")
		if len(nav) == 0 || nav[len(nav)-1] != "My profile" || len(res.find("[data-testid=my-profile]")) != 1 {
			t.Errorf("%s: nav %v", role, nav)
		}
	}
	// Without a session: to the login page.
	if r := a.client().get("/profile"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("stranger: %d", r.status)
	}
}

func TestProfileChangesNameAndPhone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := actorByEmail(t, a, "driver@demo.test")
	c := a.login("driver@demo.test")
	res := c.postForm("/profile", url.Values{"first_name": {"Diego "}, "last_name": {"Díaz"}, "phone": {"+34 600 000 000"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/profile" {
		t.Fatalf("save: %d %s", res.status, res.body)
	}
	page := c.get("/profile")
	if v, _ := page.doc().Find("#last_name").Attr("value"); v != "Díaz" {
		t.Fatalf("last name: %q", v)
	}
	if f := strings.Join(page.find(".flash-ok"), ""); !strings.Contains(f, "saved") {
		t.Fatalf("flash %q", f)
	}
	if m := strings.Join(page.find(".user-menu summary"), ""); !strings.Contains(m, "Diego Díaz") {
		t.Fatalf("menu shows %q", m)
	}
	es := auditEntries(t, a, driver, "profile.update")
	if len(es) != 1 || !strings.Contains(es[0].Before, `"last_name":"Driver"`) || !strings.Contains(es[0].After, `"last_name":"Díaz"`) ||
		!strings.Contains(es[0].After, `"phone":"+34 600 000 000"`) {
		t.Fatalf("audit: %+v", es)
	}
	// Saving the same values records nothing.
	c.postForm("/profile", url.Values{"first_name": {"Diego"}, "last_name": {"Díaz"}, "phone": {"+34 600 000 000"}})
	if es := auditEntries(t, a, driver, "profile.update"); len(es) != 1 {
		t.Fatalf("unchanged save audited: %d", len(es))
	}
	// Bad input: messages next to the fields, what was typed stays.
	cases := []struct {
		form        url.Values
		field, want string
	}{
		{url.Values{"first_name": {""}, "last_name": {"X"}, "phone": {""}}, "first_name", "Enter the first name"},
		{url.Values{"first_name": {"X"}, "last_name": {strings.Repeat("x", 101)}, "phone": {""}}, "last_name", "at most 100"},
		{url.Values{"first_name": {"X"}, "last_name": {"Y"}, "phone": {"<script>"}}, "phone", "digits"},
		{url.Values{"first_name": {"X"}, "last_name": {"Y"}, "phone": {strings.Repeat("1", 41)}}, "phone", "at most 40"},
	}
	for _, tc := range cases {
		r := c.postForm("/profile", tc.form)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, tc.field), tc.want) {
			t.Errorf("%s: %d %q", tc.field, r.status, fieldMsg(r, tc.field))
		}
		if v, _ := r.doc().Find("#phone").Attr("value"); v != tc.form.Get("phone") {
			t.Errorf("%s: phone not kept: %q", tc.field, v)
		}
	}
}

func TestProfileChangesPasswordAndEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	manager := actorByEmail(t, a, "manager@demo.test")
	here := a.login("manager@demo.test")
	elsewhere := a.login("manager@demo.test")
	if rows := here.get("/profile").find("[data-testid=session-row]"); len(rows) != 2 {
		t.Fatalf("sessions listed: %d", len(rows))
	}
	cases := []struct {
		current, next, again string
		field, want          string
	}{
		{"", newPassword, newPassword, "current_password", "Enter your current password"},
		{"wrong password!", newPassword, newPassword, "current_password", "not your current password"},
		{db.DemoPassword, "short", "short", "new_password", "at least 12"},
		{db.DemoPassword, "Password2024!", "Password2024!", "new_password", "too common"},
		{db.DemoPassword, newPassword, newPassword + "!", "new_password_again", "not the same"},
		{db.DemoPassword, "manager@demo.test", "manager@demo.test", "new_password", "e-mail address"},
	}
	for _, tc := range cases {
		r := here.postForm("/profile/password", url.Values{"current_password": {tc.current}, "new_password": {tc.next}, "new_password_again": {tc.again}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, tc.field), tc.want) {
			t.Errorf("%s: %d %q", tc.want, r.status, fieldMsg(r, tc.field))
		}
		if len(r.find("input[type=password][value]")) != 0 {
			t.Errorf("%s: a password is sent back", tc.want)
		}
	}
	// The refusals changed nothing.
	if r := elsewhere.get("/profile"); r.status != 200 {
		t.Fatalf("other session ended by a refused change: %d", r.status)
	}
	res := here.postForm("/profile/password", url.Values{"current_password": {db.DemoPassword}, "new_password": {newPassword}, "new_password_again": {newPassword}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	page := here.get("/profile")
	if page.status != 200 || !strings.Contains(strings.Join(page.find(".flash-ok"), ""), "one other session was ended") {
		t.Fatalf("this session after the change: %d %v", page.status, page.find(".flash-ok"))
	}
	if r := elsewhere.get("/profile"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("other session still works: %d", r.status)
	}
	if r := a.client().postForm("/login", url.Values{"email": {"manager@demo.test"}, "password": {db.DemoPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", r.status)
	}
	a.loginWith("manager@demo.test", newPassword)
	es := auditEntries(t, a, manager, "profile.password")
	if len(es) != 1 || !strings.Contains(es[0].After, `"other_sessions_ended":1`) || strings.Contains(es[0].After, newPassword) {
		t.Fatalf("audit: %+v", es)
	}
}

func TestProfileWrongCurrentPasswordIsThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("admin@demo.test")
	var last response
	for i := 0; i < db.EmailThrottle.Limit+1; i++ {
		last = c.postForm("/profile/password", url.Values{"current_password": {"guess number " + string(rune('a'+i))}, "new_password": {newPassword}, "new_password_again": {newPassword}})
	}
	if last.status != http.StatusTooManyRequests || !strings.Contains(fieldMsg(last, "current_password"), "Too many wrong passwords") {
		t.Fatalf("after %d wrong guesses: %d %q", db.EmailThrottle.Limit+1, last.status, fieldMsg(last, "current_password"))
	}
}

func TestProfileEndsOneSessionOrAll(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := actorByEmail(t, a, "accountant@demo.test")
	here := a.login("accountant@demo.test")
	other := a.login("accountant@demo.test")
	third := a.login("accountant@demo.test")
	page := here.get("/profile")
	if n := len(page.find("[data-testid=current-session]")); n != 1 {
		t.Fatalf("current marked %d times", n)
	}
	refs := []string{}
	page.doc().Find("[data-testid=session-row] input[name=ref]").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		refs = append(refs, v)
	})
	if len(refs) != 2 {
		t.Fatalf("end buttons: %d", len(refs))
	}
	// Another login's session reference, or garbage, is not found.
	if r := a.login("driver@demo.test").postForm("/profile/sessions/end", url.Values{"ref": {refs[0]}}); r.status != http.StatusNotFound {
		t.Fatalf("ending another login's session: %d", r.status)
	}
	if r := here.postForm("/profile/sessions/end", url.Values{"ref": {"not-a-ref"}}); r.status != http.StatusNotFound {
		t.Fatalf("garbage ref: %d", r.status)
	}
	if r := here.postForm("/profile/sessions/end", url.Values{"ref": {refs[0]}}); r.status != http.StatusSeeOther {
		t.Fatalf("end one: %d", r.status)
	}
	alive := 0
	for _, c := range []*client{other, third} {
		if c.get("/profile").status == 200 {
			alive++
		}
	}
	if alive != 1 || here.get("/profile").status != 200 {
		t.Fatalf("after ending one: %d of 2 others alive", alive)
	}
	// Log out everywhere: this session too.
	res := here.postForm("/profile/sessions/end-all", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?bye=1" {
		t.Fatalf("end all: %d %s", res.status, res.header.Get("Location"))
	}
	for i, c := range []*client{here, other, third} {
		if r := c.get("/profile"); r.status != http.StatusSeeOther {
			t.Errorf("session %d alive after log out everywhere: %d", i, r.status)
		}
	}
	kinds := []string{}
	for _, e := range auditEntries(t, a, acct, "profile.") {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "profile.logout_everywhere,profile.session_end" {
		t.Fatalf("audit: %v", kinds)
	}
}

// TestProfileRefusedWhilePreviewing: someone previewing the console as
// another member changes nothing, not even their own profile.
func TestProfileRefusedWhilePreviewing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	driver := actorByEmail(t, a, "driver@demo.test")
	mustExec(t, a, `UPDATE sessions SET preview_member_id = ? WHERE member_id = (SELECT owner_member_id FROM accounts WHERE id = ?)`, driver.MemberID, driver.AccountID)
	page := c.get("/profile")
	if v, _ := page.doc().Find("#first_name").Attr("value"); page.status != 200 || v != "Olivia" {
		t.Fatalf("preview shows %q (%d), want the real person's own profile", v, page.status)
	}
	for path, form := range map[string]url.Values{
		"/profile":                  {"first_name": {"X"}, "last_name": {"Y"}},
		"/profile/password":         {"current_password": {db.DemoPassword}, "new_password": {newPassword}, "new_password_again": {newPassword}},
		"/profile/sessions/end-all": nil,
	} {
		if r := c.postForm(path, form); r.status != http.StatusForbidden || !strings.Contains(r.body, "previewing") {
			t.Errorf("%s while previewing: %d", path, r.status)
		}
	}
	if r := c.get("/profile"); r.status != 200 {
		t.Fatalf("session gone: %d", r.status)
	}
}

// Sign-in history: every attempt on a login is on its holder's profile,
// failures included; a member's sign-ins to the account are on their page
// for those who manage users (not for read-only roles); successes are in
// the audit log.
func TestSignInHistory(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.client().postForm("/login", url.Values{"email": {"driver@demo.test"}, "password": {"wrong-password"}})
	a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`)
	c := a.login("driver@demo.test")
	rows := c.get("/profile").find("[data-testid=own-sign-ins] [data-testid=sign-in-outcome]")
	if len(rows) != 3 || rows[0] != "Signed in" || rows[1] != "Signed in" || rows[2] != "Wrong password" {
		t.Fatalf("own history: %v", rows)
	}
	// Another login's attempts are not on this profile.
	if got := a.login("admin@demo.test").get("/profile").find("[data-testid=own-sign-ins] [data-testid=sign-in-row]"); len(got) != 1 {
		t.Fatalf("admin's own history: %d rows", len(got))
	}
	driver := actorByEmail(t, a, "driver@demo.test")
	path := fmt.Sprintf("/users/%d/sign-ins", driver.MemberID)
	page := a.login("manager@demo.test").get(path)
	if got := page.find("[data-testid=sign-in-outcome]"); page.status != http.StatusOK || len(got) != 2 {
		t.Fatalf("member page history for the manager: %d %v", page.status, got)
	}
	if r := a.login("accountant@demo.test").get(path); r.status != http.StatusForbidden {
		t.Fatalf("accountant: %d", r.status)
	}
	// Another account's member: not found.
	other := secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	if r := a.login("owner@demo.test").get(fmt.Sprintf("/users/%d/sign-ins", other.MemberID)); r.status != http.StatusNotFound {
		t.Fatalf("other account's member: %d", r.status)
	}
	owner := actorByEmail(t, a, "owner@demo.test")
	if es := auditEntries(t, a, owner, "signin."); len(es) < 2 {
		t.Fatalf("sign-ins in the audit log: %d", len(es))
	}
}
