package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// testClock lets a test move the server's clock in whole TOTP steps.
type testClock struct{ unix atomic.Int64 }

func useClock(a *app) *testClock {
	c := &testClock{}
	// The start of a 30-second step, so that a step's codes stay valid
	// while the test runs.
	c.unix.Store(time.Now().Unix()/30*30 + 5)
	a.db.Now = func() time.Time { return time.Unix(c.unix.Load(), 0).UTC() }
	return c
}

func (c *testClock) now() time.Time      { return time.Unix(c.unix.Load(), 0).UTC() }
func (c *testClock) add(d time.Duration) { c.unix.Add(int64(d / time.Second)) }
func (c *testClock) code(t testing.TB, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, c.now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// setUpTwoFactor turns on two-factor sign-in for the login of c through My
// profile and returns the secret and the recovery codes.
func setUpTwoFactor(t testing.TB, clock *testClock, c *client) (string, []string) {
	t.Helper()
	return setUpTwoFactorWith(t, clock, c, db.DemoPassword)
}

func setUpTwoFactorWith(t testing.TB, clock *testClock, c *client, password string) (string, []string) {
	t.Helper()
	res := c.postForm("/profile/two-factor/setup", url.Values{"current_password": {password}})
	secret := res.doc().Find("[data-testid=totp-secret]").AttrOr("value", "")
	uri := res.doc().Find("[data-testid=totp-uri]").AttrOr("value", "")
	// The same address as a QR code to scan.
	if d, _, _ := views.QRPath(uri); d == "" || res.doc().Find("[data-testid=totp-qr] path").AttrOr("d", "") != d {
		t.Fatal("no QR code of the address")
	}
	if res.status != http.StatusOK || len(secret) < 16 || !strings.HasPrefix(uri, "otpauth://totp/Fleetgate:") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("setup: %d secret %q uri %q", res.status, secret, uri)
	}
	res = c.postForm("/profile/two-factor/confirm", url.Values{"code": {clock.code(t, secret)}})
	codes := res.find("[data-testid=recovery-code]")
	if res.status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d, %d codes: %s", res.status, len(codes), res.body)
	}
	clock.add(30 * time.Second) // the confirming code is used; the next login takes the next step's
	return secret, codes
}

// passwordStep logs in with the password and expects the second step.
func passwordStep(t testing.TB, a *app, email string) *client {
	t.Helper()
	c := a.client()
	res := c.postForm("/login", url.Values{"email": {email}, "password": {db.DemoPassword}, "next": {"/users"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login/two-factor" {
		t.Fatalf("password step: %d %s", res.status, res.header.Get("Location"))
	}
	return c
}

func signInOutcomes(t testing.TB, a *app, email string) []string {
	t.Helper()
	act, err := a.db.ActorByMember(t.Context(), memberID(t, a, email))
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.db.OwnSignIns(t.Context(), act, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list {
		out = append(out, s.Outcome)
	}
	return out
}

func TestTwoFactorSetUpAndSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	owner := a.login("owner@demo.test")
	if res := owner.get("/profile"); !strings.Contains(strings.Join(res.find("[data-testid=two-factor-summary]"), ""), "off") {
		t.Fatalf("profile before: %v", res.find("[data-testid=two-factor-summary]"))
	}
	// A wrong password does not start the setup.
	res := owner.postForm("/profile/two-factor/setup", url.Values{"current_password": {"not-the-password"}})
	if res.status != http.StatusUnprocessableEntity || fieldMsg(res, "current_password") == "" || len(res.find("[data-testid=totp-secret]")) != 0 {
		t.Fatalf("wrong password: %d %q", res.status, fieldMsg(res, "current_password"))
	}
	// A wrong first code keeps the same secret on the page.
	res = owner.postForm("/profile/two-factor/setup", url.Values{"current_password": {db.DemoPassword}})
	secret := res.doc().Find("[data-testid=totp-secret]").AttrOr("value", "")
	res = owner.postForm("/profile/two-factor/confirm", url.Values{"code": {"000000"}})
	if res.status != http.StatusUnprocessableEntity || fieldMsg(res, "code") == "" || res.doc().Find("[data-testid=totp-secret]").AttrOr("value", "") != secret {
		t.Fatalf("wrong first code: %d %q", res.status, fieldMsg(res, "code"))
	}
	res = owner.postForm("/profile/two-factor/confirm", url.Values{"code": {clock.code(t, secret)}})
	if codes := res.find("[data-testid=recovery-code]"); res.status != 200 || len(codes) != 10 {
		t.Fatalf("confirm: %d %d codes", res.status, len(codes))
	}
	// The recovery codes are shown once: the page no longer shows them.
	if res := owner.get("/profile/two-factor"); len(res.find("[data-testid=recovery-code]")) != 0 || strings.Join(res.find("[data-testid=recovery-left]"), "") != "10" {
		t.Fatalf("after: codes shown again or count wrong: %v", res.find("[data-testid=recovery-left]"))
	}
	act, _ := a.db.ActorByMember(t.Context(), memberID(t, a, "owner@demo.test"))
	if es := auditEntries(t, a, act, "twofactor.enable"); len(es) != 1 {
		t.Fatalf("audit: %d twofactor.enable events", len(es))
	}
	// The stored secret is not the secret in clear.
	var stored []byte
	if err := a.db.QueryRowForTest(t.Context(), `SELECT secret FROM totp_secrets WHERE user_id = ?`, act.UserID).Scan(&stored); err != nil || strings.Contains(string(stored), secret) {
		t.Fatalf("secret stored in clear (%v)", err)
	}
	clock.add(30 * time.Second)

	// The password alone makes no session.
	c := passwordStep(t, a, "owner@demo.test")
	if res := c.get("/users"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("after password only: %d %s", res.status, res.header.Get("Location"))
	}
	if res := c.get("/login/two-factor"); res.status != 200 || len(res.find("[data-testid=code-form]")) != 1 {
		t.Fatalf("code page: %d", res.status)
	}
	// A wrong code: refused, and in the sign-in history.
	res = c.postForm("/login/two-factor", url.Values{"code": {"123456"}})
	if res.status != http.StatusUnauthorized || len(res.find("[data-testid=code-error]")) != 1 {
		t.Fatalf("wrong code: %d", res.status)
	}
	if got := signInOutcomes(t, a, "owner@demo.test"); got[0] != "wrong_code" {
		t.Fatalf("history: %v", got)
	}
	// The right code: the session starts and goes where the visitor wanted.
	code := clock.code(t, secret)
	res = c.postForm("/login/two-factor", url.Values{"code": {code}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/users" {
		t.Fatalf("right code: %d %s", res.status, res.header.Get("Location"))
	}
	if res := c.get("/users"); res.status != 200 {
		t.Fatalf("session: %d", res.status)
	}
	if got := signInOutcomes(t, a, "owner@demo.test"); got[0] != "ok" {
		t.Fatalf("history: %v", got)
	}
	// The pending step is used up: the cookie does not sign in again.
	if res := c.postForm("/login/two-factor", url.Values{"code": {code}}); res.status != http.StatusSeeOther && res.status != http.StatusUnauthorized {
		t.Fatalf("used pending step: %d", res.status)
	}
	// The same code again, in the same step, on another login: a replay.
	c2 := passwordStep(t, a, "owner@demo.test")
	if res := c2.postForm("/login/two-factor", url.Values{"code": {code}}); res.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", res.status)
	}
	// A step later the used code is still within the allowed skew: still refused.
	clock.add(30 * time.Second)
	if res := c2.postForm("/login/two-factor", url.Values{"code": {code}}); res.status != http.StatusUnauthorized {
		t.Fatalf("replayed code a step later: %d", res.status)
	}
	// The next step's code works.
	if res := c2.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}}); res.status != http.StatusSeeOther {
		t.Fatalf("next code: %d", res.status)
	}
	// Without a pending step, the code page sends back to the login.
	if res := a.client().get("/login/two-factor"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
		t.Fatalf("no pending step: %d %s", res.status, res.header.Get("Location"))
	}
}

func TestTwoFactorRecoveryCodeWorksOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	_, codes := setUpTwoFactor(t, clock, a.login("admin@demo.test"))
	c := passwordStep(t, a, "admin@demo.test")
	// Typed in capitals and without dashes: still the code.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))
	if res := c.postForm("/login/two-factor", url.Values{"code": {typed}}); res.status != http.StatusSeeOther {
		t.Fatalf("recovery code: %d %s", res.status, res.body)
	}
	if res := c.get("/profile/two-factor"); strings.Join(res.find("[data-testid=recovery-left]"), "") != "9" {
		t.Fatalf("left: %v", res.find("[data-testid=recovery-left]"))
	}
	c2 := passwordStep(t, a, "admin@demo.test")
	if res := c2.postForm("/login/two-factor", url.Values{"code": {codes[3]}}); res.status != http.StatusUnauthorized {
		t.Fatalf("recovery code used twice: %d", res.status)
	}
	if res := c2.postForm("/login/two-factor", url.Values{"code": {codes[4]}}); res.status != http.StatusSeeOther {
		t.Fatalf("another recovery code: %d", res.status)
	}
}

func TestTwoFactorCodesAreThrottled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	secret, _ := setUpTwoFactor(t, clock, a.login("manager@demo.test"))
	c := passwordStep(t, a, "manager@demo.test")
	for i := range 5 {
		if res := c.postForm("/login/two-factor", url.Values{"code": {fmt.Sprintf("%06d", 111111*(i%9+1)%1000000)}}); res.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, res.status)
		}
	}
	// Locked: even the right code is refused, with Retry-After.
	res := c.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("locked: %d %q", res.status, res.header.Get("Retry-After"))
	}
	if got := signInOutcomes(t, a, "manager@demo.test"); got[0] != "code_locked" {
		t.Fatalf("history: %v", got)
	}
	// A fresh password step does not lift the lock of the codes.
	clock.add(10 * time.Second)
	c2 := passwordStep(t, a, "manager@demo.test")
	if res := c2.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("locked after a new password step: %d", res.status)
	}
	// After the lock, the right code works again.
	clock.add(time.Minute)
	c3 := passwordStep(t, a, "manager@demo.test")
	if res := c3.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}}); res.status != http.StatusSeeOther {
		t.Fatalf("after the lock: %d %s", res.status, res.body)
	}
}

func TestTwoFactorPendingStepExpires(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	secret, _ := setUpTwoFactor(t, clock, a.login("accountant@demo.test"))
	c := passwordStep(t, a, "accountant@demo.test")
	clock.add(db.PendingLoginTTL + time.Second)
	res := c.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "took too long") {
		t.Fatalf("expired step: %d", res.status)
	}
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Fatalf("session after an expired step: %d", res.status)
	}
}

func TestTwoFactorRemove(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	owner := a.login("owner@demo.test")
	secret, _ := setUpTwoFactor(t, clock, owner)
	res := owner.postForm("/profile/two-factor/remove", url.Values{"current_password": {"wrong-password!"}, "code": {clock.code(t, secret)}})
	if res.status != http.StatusUnprocessableEntity || fieldMsg(res, "current_password") == "" {
		t.Fatalf("wrong password: %d", res.status)
	}
	res = owner.postForm("/profile/two-factor/remove", url.Values{"current_password": {db.DemoPassword}, "code": {"999999"}})
	if res.status != http.StatusUnprocessableEntity || fieldMsg(res, "code") == "" {
		t.Fatalf("wrong code: %d", res.status)
	}
	res = owner.postForm("/profile/two-factor/remove", url.Values{"current_password": {db.DemoPassword}, "code": {clock.code(t, secret)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
	act, _ := a.db.ActorByMember(t.Context(), memberID(t, a, "owner@demo.test"))
	if es := auditEntries(t, a, act, "twofactor.disable"); len(es) != 1 {
		t.Fatalf("audit: %d twofactor.disable events", len(es))
	}
	// The password alone signs in again.
	a.login("owner@demo.test")
}

func TestTwoFactorRequiredForARole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	owner := a.login("owner@demo.test")
	manager := roleIDByName(t, a, "Manager")
	// A save from an outdated form is refused and keeps the choice.
	res := owner.postForm("/settings/two-factor", url.Values{"role": {fmt.Sprint(manager)}, "version": {"7"}})
	if res.status != http.StatusConflict || len(res.find("[data-testid=two-factor-policy-error]")) != 1 {
		t.Fatalf("stale save: %d", res.status)
	}
	if _, ok := res.doc().Find("[data-testid=tfr-Manager]").Attr("checked"); !ok {
		t.Fatal("stale save lost the choice")
	}
	// A role of another account is not a choice.
	if res := owner.postForm("/settings/two-factor", url.Values{"role": {"99999"}, "version": {"0"}}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: %d", res.status)
	}
	res = owner.postForm("/settings/two-factor", url.Values{"role": {fmt.Sprint(manager)}, "version": {"0"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.status, res.body)
	}
	page := owner.get("/settings/two-factor")
	if _, ok := page.doc().Find("[data-testid=tfr-Manager]").Attr("checked"); !ok {
		t.Fatal("setting not saved")
	}
	act, _ := a.db.ActorByMember(t.Context(), memberID(t, a, "owner@demo.test"))
	if es := auditEntries(t, a, act, "account.two_factor"); len(es) != 1 || !strings.Contains(es[0].After, "Manager") {
		t.Fatalf("audit: %+v", es)
	}
	// The Owner's own role is not concerned: the console works.
	if res := owner.get("/users"); res.status != 200 {
		t.Fatalf("owner: %d", res.status)
	}
	// The Manager signs in with the password and sees only the setup.
	m := a.login("manager@demo.test")
	for _, p := range []string{"/", "/users", "/vehicles", "/profile"} {
		if res := m.get(p); res.status != http.StatusSeeOther || res.header.Get("Location") != "/profile/two-factor" {
			t.Fatalf("GET %s: %d %s, want the setup", p, res.status, res.header.Get("Location"))
		}
	}
	if res := m.postForm("/profile", url.Values{"first_name": {"X"}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/profile/two-factor" {
		t.Fatalf("POST /profile: %d %s", res.status, res.header.Get("Location"))
	}
	if res := m.htmx("/users", "users-table"); res.header.Get("HX-Redirect") != "/profile/two-factor" {
		t.Fatalf("htmx: %d %v", res.status, res.header)
	}
	if res := m.get("/profile/two-factor"); res.status != 200 || len(res.find("[data-testid=two-factor-required]")) != 1 {
		t.Fatalf("setup page: %d", res.status)
	}
	// No API token before the setup either (the driver's channel is both; the manager gets it too).
	mustExec(t, a, `UPDATE members SET channel = 'both' WHERE id = ?`, memberID(t, a, "manager@demo.test"))
	res = a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"manager@demo.test","password":"`+db.DemoPassword+`"}`)
	if res.status != http.StatusForbidden || !strings.Contains(problemDetail(t, res), "requires two-factor") {
		t.Fatalf("token before setup: %d %s", res.status, res.body)
	}
	setUpTwoFactor(t, clock, m)
	if res := m.get("/users"); res.status != 200 {
		t.Fatalf("after setup: %d", res.status)
	}
	// Other roles are not concerned.
	if res := a.login("accountant@demo.test").get("/users"); res.status != 200 {
		t.Fatalf("accountant: %d", res.status)
	}
	// Logging out is always possible.
	m2 := a.login("admin@demo.test")
	mustExec(t, a, `INSERT INTO two_factor_roles (account_id, role_id) SELECT account_id, id FROM roles WHERE name = 'Admin'`)
	if res := m2.postForm("/logout", nil); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("logout: %d %s", res.status, res.header.Get("Location"))
	}
}

func TestAPITokenAsksForTheCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	secret, codes := setUpTwoFactor(t, clock, a.login("driver@demo.test"))
	c := a.client()
	body := func(code string) string {
		return `{"email":"driver@demo.test","password":"` + db.DemoPassword + `","totp_code":"` + code + `"}`
	}
	res := c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`)
	var p struct {
		Detail string
		Errors map[string]string
	}
	if err := json.Unmarshal([]byte(res.body), &p); err != nil || res.status != http.StatusUnauthorized ||
		!strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") || p.Errors["totp_code"] == "" || !strings.Contains(p.Detail, "totp_code") {
		t.Fatalf("without code: %d %s", res.status, res.body)
	}
	if res := c.api(http.MethodPost, "/api/v1/tokens", "", body("000000")); res.status != http.StatusUnauthorized || !strings.Contains(res.body, "totp_code") {
		t.Fatalf("wrong code: %d %s", res.status, res.body)
	}
	code := clock.code(t, secret)
	if res := c.api(http.MethodPost, "/api/v1/tokens", "", body(code)); res.status != http.StatusCreated {
		t.Fatalf("right code: %d %s", res.status, res.body)
	}
	if res := c.api(http.MethodPost, "/api/v1/tokens", "", body(code)); res.status != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d %s", res.status, res.body)
	}
	if res := c.api(http.MethodPost, "/api/v1/tokens", "", body(codes[0])); res.status != http.StatusCreated {
		t.Fatalf("recovery code: %d %s", res.status, res.body)
	}
	// A login without two-factor sign-in needs no code.
	if res := c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"owner@demo.test","password":"`+db.DemoPassword+`"}`); res.status != http.StatusForbidden {
		t.Fatalf("owner (web only) on the app: %d", res.status) // refused for the channel, not for a code
	}
}

// Joining another account by invitation with an existing login asks for
// its code too: the password alone makes no session.
func TestInvitationAcceptAsksForTheCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	clock := useClock(a)
	owner := actorByEmail(t, a, "owner@demo.test")
	secondAccount(t, a, "Beta Fleet", "bea@beta.test", "beta owner password")
	secret, _ := setUpTwoFactorWith(t, clock, a.loginWith("bea@beta.test", "beta owner password"), "beta owner password")
	_, link := a.login("owner@demo.test").invite("bea@beta.test", builtinRoleID(t, a, owner, perm.Manager), "selected")
	guest := a.client()
	res := guest.postForm(linkPath(t, link), url.Values{"existing": {"1"}, "password": {"beta owner password"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login/two-factor" {
		t.Fatalf("accept: %d %s", res.status, res.header.Get("Location"))
	}
	if res := guest.get("/users"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("session before the code: %d", res.status)
	}
	res = guest.postForm("/login/two-factor", url.Values{"code": {clock.code(t, secret)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("code: %d", res.status)
	}
	menu := strings.Join(guest.get("/users").find(".user-menu .menu-body p"), " | ")
	if !strings.Contains(menu, "Manager in Demo Fleet") {
		t.Fatalf("menu: %q", menu)
	}
}
