package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

// Tests of accounts from the first start: setup, password recovery,
// account settings and the subscription.

// newBareApp is a server on a fresh database without any account (no demo).
func newBareApp(t testing.TB, cfg handlers.Config) *app {
	t.Helper()
	ctx := context.Background()
	d := emptyDB.Open(t)
	e, s, err := handlers.New(ctx, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &app{t: t, db: d, srv: srv, s: s, e: e, tr: transport(t, srv)}
}

var setupCodeInLog = regexp.MustCompile(`code=([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})`)

const freshPassword = "a brand new passphrase"

func setupForm(code string) url.Values {
	return url.Values{"code": {code}, "account_name": {"Acme Fleet"}, "first_name": {"Ana"}, "last_name": {"Silva"},
		"email": {"ana@acme.test"}, "password": {freshPassword}, "password_again": {freshPassword}}
}

// A fresh database: home and login lead to /setup; the code from the log
// creates the account and its Owner, who invites a member who signs in.
func TestFirstStartSetupWithTheCodeFromTheLog(t *testing.T) {
	t.Parallel()
	buf := &logBuffer{}
	a := newBareApp(t, handlers.Config{Logger: slogTo(buf)})
	m := setupCodeInLog.FindStringSubmatch(buf.String())
	if m == nil {
		t.Fatalf("no setup code in the log:\n%s", buf.String())
	}
	code := m[1]
	if a.s.SetupCode() != code {
		t.Fatalf("logged %q, server holds %q", code, a.s.SetupCode())
	}
	c := a.client()
	if r := c.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("home: %d %s", r.status, r.header.Get("Location"))
	}
	if r := c.get("/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/setup" {
		t.Fatalf("login on a fresh database: %d %s", r.status, r.header.Get("Location"))
	}
	if r := c.get("/setup"); r.status != http.StatusOK || len(r.find("[data-testid=setup-form]")) != 1 {
		t.Fatalf("setup page: %d", r.status)
	}

	// A wrong code: a message beside it, everything else typed kept, no
	// password sent back.
	r := c.postForm("/setup", setupForm("WXYZ-WXYZ-WXYZ-WXYZ"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, "code"), "not the setup code") {
		t.Fatalf("wrong code: %d %q", r.status, fieldMsg(r, "code"))
	}
	doc := r.doc()
	if v, _ := doc.Find("#account_name").Attr("value"); v != "Acme Fleet" {
		t.Fatalf("account name not kept: %q", v)
	}
	if v, _ := doc.Find("#email").Attr("value"); v != "ana@acme.test" {
		t.Fatalf("e-mail not kept: %q", v)
	}
	if strings.Contains(r.body, freshPassword) || strings.Contains(r.body, "WXYZ-WXYZ") {
		t.Fatal("the password or the code was sent back")
	}
	// A bad field is refused before the code is spent.
	bad := setupForm(code)
	bad.Set("password_again", "something else entirely")
	if r := c.postForm("/setup", bad); r.status != http.StatusUnprocessableEntity || fieldMsg(r, "password_again") == "" {
		t.Fatalf("mismatched passwords: %d", r.status)
	}

	// The right code (typed in lower case, without dashes) sets up the account.
	r = c.postForm("/setup", setupForm(strings.ToLower(strings.ReplaceAll(code, "-", ""))))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dashboard" {
		t.Fatalf("setup: %d %s %s", r.status, r.header.Get("Location"), fieldMsg(r, "code"))
	}
	r = c.get("/dashboard")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Welcome to Acme Fleet") {
		t.Fatalf("after setup: %d", r.status)
	}
	owner := actorByEmail(t, a, "ana@acme.test")
	if !owner.IsOwner() || owner.AccountName != "Acme Fleet" {
		t.Fatalf("owner: %+v", owner)
	}
	if es := auditEntries(t, a, owner, "account.create"); len(es) != 1 {
		t.Fatalf("audit: %d entries", len(es))
	}

	// The Owner invites a member, who accepts and signs in.
	_, link := c.invite("ben@acme.test", builtinRoleID(t, a, owner, perm.Manager), "all")
	if link == "" {
		t.Fatal("no invitation link")
	}
	ben := a.client()
	r = ben.postForm(linkPath(t, link), url.Values{"first_name": {"Ben"}, "last_name": {"Costa"}, "password": {"ben's own passphrase"}, "password_again": {"ben's own passphrase"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	again := a.loginWith("ben@acme.test", "ben's own passphrase")
	if r := again.get("/vehicles"); r.status != http.StatusOK {
		t.Fatalf("member's page: %d", r.status)
	}

	// Setup is gone for good: the page, the form, even with the old code.
	for _, r := range []response{a.client().get("/setup"), a.client().postForm("/setup", setupForm(code))} {
		if r.status != http.StatusNotFound {
			t.Fatalf("setup after setup: %d", r.status)
		}
	}
	if r := a.client().get("/login"); r.status != http.StatusOK {
		t.Fatalf("login after setup: %d", r.status)
	}
}

// Wrong codes are throttled: after five, even the right one waits.
func TestSetupCodeTriesAreThrottled(t *testing.T) {
	t.Parallel()
	a := newBareApp(t, handlers.Config{Logger: slogTo(&logBuffer{})})
	c := a.client()
	for i := 0; i < 5; i++ {
		if r := c.postForm("/setup", setupForm(fmt.Sprintf("WRNG-CODE-%04d-AAAA", i))); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("try %d: %d", i, r.status)
		}
	}
	r := c.postForm("/setup", setupForm(a.s.SetupCode()))
	if r.status != http.StatusTooManyRequests || !strings.Contains(fieldMsg(r, "code"), "Too many wrong setup codes") || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong codes: %d %q", r.status, fieldMsg(r, "code"))
	}
	if has, _ := a.db.HasAccount(context.Background()); has {
		t.Fatal("an account was created while locked")
	}
}

// With an account in the database there is no setup: no code, 404.
func TestSetupRefusedOnceAnAccountExists(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if a.s.SetupCode() != "" {
		t.Fatal("a setup code was made for a database with an account")
	}
	c := a.client()
	if r := c.get("/setup"); r.status != http.StatusNotFound {
		t.Fatalf("GET /setup: %d", r.status)
	}
	if r := c.postForm("/setup", setupForm("AAAA-BBBB-CCCC-DDDD")); r.status != http.StatusNotFound {
		t.Fatalf("POST /setup: %d", r.status)
	}
	if r := c.get("/login"); r.status != http.StatusOK || len(r.find("[data-testid=forgot-link]")) != 1 {
		t.Fatalf("login: %d", r.status)
	}
}

func resetLinkIn(t testing.TB, body string) string {
	t.Helper()
	m := regexp.MustCompile(`https?://\S+/reset/[A-Za-z0-9_-]+`).FindString(body)
	if m == "" {
		t.Fatalf("no reset link in:\n%s", body)
	}
	return m
}

// Forgot password: the same answer for a known and an unknown e-mail; the
// e-mailed link sets a new password once and ends every session and token.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	smtp := startFakeSMTP(t)
	a := newAppConfigured(t, handlers.Config{Logger: slogTo(&logBuffer{}), SMTP: handlers.SMTPConfig{Host: "127.0.0.1", Port: smtp.port,
		TLS: "none", From: "Fleetgate <fleet@example.com>"}})
	mustExec(t, a, `UPDATE members SET channel = 'both'`)
	old := a.login("driver@demo.test")
	token := apiToken(t, a, "driver@demo.test")

	anon := a.client()
	if r := anon.get("/forgot"); r.status != http.StatusOK {
		t.Fatalf("forgot page: %d", r.status)
	}
	known := anon.postForm("/forgot", url.Values{"email": {"driver@demo.test"}})
	unknown := a.client().postForm("/forgot", url.Values{"email": {"nobody@demo.test"}})
	a.sendMail()
	if known.status != http.StatusOK || unknown.status != http.StatusOK {
		t.Fatalf("forgot: %d / %d", known.status, unknown.status)
	}
	k := strings.ReplaceAll(strings.Join(known.find("[data-testid=forgot-sent]"), ""), "driver@demo.test", "X")
	u := strings.ReplaceAll(strings.Join(unknown.find("[data-testid=forgot-sent]"), ""), "nobody@demo.test", "X")
	if k == "" || k != u {
		t.Fatalf("answers differ:\n%q\n%q", k, u)
	}
	msgs := smtp.messages()
	if len(msgs) != 1 || msgs[0].To[0] != "TO:<driver@demo.test>" {
		t.Fatalf("messages: %+v", msgs)
	}
	_, body, _ := msgs[0].parsed(t)
	link := linkPath(t, resetLinkIn(t, body))

	c := a.client()
	if r := c.get(link); r.status != http.StatusOK || len(r.find("[data-testid=reset-form]")) != 1 {
		t.Fatalf("reset page: %d", r.status)
	}
	if r := c.postForm(link, url.Values{"password": {"short"}, "password_again": {"short"}}); r.status != http.StatusUnprocessableEntity || fieldMsg(r, "password") == "" {
		t.Fatalf("short password: %d", r.status)
	}
	r := c.postForm(link, url.Values{"password": {freshPassword}, "password_again": {freshPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?password=set" {
		t.Fatalf("reset: %d %s", r.status, r.header.Get("Location"))
	}
	// Every session and token of the login has ended.
	if r := old.get("/vehicles"); r.status != http.StatusSeeOther {
		t.Fatalf("old session still works: %d", r.status)
	}
	if r := a.client().api(http.MethodGet, "/api/v1/me", token, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("old token still works: %d", r.status)
	}
	// The new password works, the old one does not, the link is used up.
	a.loginWith("driver@demo.test", freshPassword)
	if r := a.client().postForm("/login", url.Values{"email": {"driver@demo.test"}, "password": {db.DemoPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", r.status)
	}
	if r := a.client().get(link); r.status != http.StatusGone || !strings.Contains(r.body, "already used") {
		t.Fatalf("used link: %d", r.status)
	}
	driver := actorByEmail(t, a, "driver@demo.test")
	if es := auditEntries(t, a, driver, "password.reset"); len(es) != 1 {
		t.Fatalf("audit: %d", len(es))
	}
}

func TestExpiredOrUnknownResetLink(t *testing.T) {
	t.Parallel()
	a, buf := newAppWithLog(t)
	if r := a.client().postForm("/forgot", url.Values{"email": {"admin@demo.test"}}); r.status != http.StatusOK {
		t.Fatalf("forgot: %d", r.status)
	}
	a.sendMail()
	// Without SMTP the link is in the server log.
	a.sendMail()
	link := linkPath(t, resetLinkIn(t, buf.String()))
	mustExec(t, a, `UPDATE password_resets SET expires_at = ?`, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano))
	c := a.client()
	if r := c.get(link); r.status != http.StatusGone || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired link: %d", r.status)
	}
	if r := c.postForm(link, url.Values{"password": {freshPassword}, "password_again": {freshPassword}}); r.status != http.StatusGone {
		t.Fatalf("expired link used: %d", r.status)
	}
	a.login("admin@demo.test") // the password is unchanged
	if r := c.get("/reset/not-a-token"); r.status != http.StatusNotFound {
		t.Fatalf("unknown link: %d", r.status)
	}
}

// Requests are throttled per e-mail, for known and unknown e-mails alike.
func TestForgotPasswordIsThrottled(t *testing.T) {
	t.Parallel()
	a, _ := newAppWithLog(t)
	for _, email := range []string{"owner@demo.test", "nobody@demo.test"} {
		var r response
		for i := 0; i < 4; i++ {
			r = a.client().postForm("/forgot", url.Values{"email": {email}})
		}
		if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many requests") {
			t.Fatalf("%s: 4th request %d", email, r.status)
		}
	}
	a.sendMail()
}

// users.manage sends a member a reset: the link goes to the member (here
// the log), never to the page of whoever sent it; the Owner is out of reach.
func TestMemberPasswordResetFromTheMembersPage(t *testing.T) {
	t.Parallel()
	a, buf := newAppWithLog(t)
	driver := actorByEmail(t, a, "driver@demo.test")
	owner := actorByEmail(t, a, "owner@demo.test")
	admin := a.login("admin@demo.test")
	if r := admin.get(fmt.Sprintf("/users/%d", driver.MemberID)); len(r.find("[data-testid=send-reset]")) != 1 {
		t.Fatal("no reset button on the member's page")
	}
	r := admin.postForm(fmt.Sprintf("/users/%d/password-reset", driver.MemberID), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("send reset: %d %s", r.status, r.body)
	}
	page := admin.get(r.header.Get("Location"))
	if !strings.Contains(page.body, "written to the server log") || strings.Contains(page.body, "/reset/") {
		t.Fatalf("the admin's page shows the link or no notice")
	}
	a.sendMail()
	link := linkPath(t, resetLinkIn(t, buf.String()))
	if r := a.client().get(link); r.status != http.StatusOK || !strings.Contains(r.body, "driver@demo.test") {
		t.Fatalf("link: %d", r.status)
	}
	if es := auditEntries(t, a, owner, "member.password_reset"); len(es) != 1 {
		t.Fatalf("audit: %d", len(es))
	}
	// Nobody sends the Owner a reset; an accountant cannot send any.
	if r := admin.postForm(fmt.Sprintf("/users/%d/password-reset", owner.MemberID), nil); r.status != http.StatusForbidden {
		t.Fatalf("reset of the Owner: %d", r.status)
	}
	if r := a.login("accountant@demo.test").postForm(fmt.Sprintf("/users/%d/password-reset", driver.MemberID), nil); r.status != http.StatusForbidden {
		t.Fatalf("accountant: %d", r.status)
	}
}

func settingsValues(version int, tz string) url.Values {
	return url.Values{"version": {fmt.Sprint(version)}, "name": {"Demo Fleet"}, "time_zone": {tz}, "distance_unit": {"mi"},
		"invite_days": {"3"}, "session_hours": {"24"}, "idle_minutes": {"60"}}
}

// The time zone changes the dates shown; a bad zone and a stale save are
// refused with what was typed kept; each change is audited.
func TestSettingsTimeZoneChangesTheDatesShown(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	before := strings.Join(c.get("/profile").find("td[data-label='Logged in']"), " ")
	if !strings.Contains(before, "UTC") {
		t.Fatalf("profile before: %q", before)
	}
	r := c.postForm("/settings", settingsValues(1, "Mars/Olympus_Mons"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, "time_zone"), "not a time zone") {
		t.Fatalf("bad zone: %d %q", r.status, fieldMsg(r, "time_zone"))
	}
	if v, _ := r.doc().Find("#time_zone").Attr("value"); v != "Mars/Olympus_Mons" {
		t.Fatalf("typed zone not kept: %q", v)
	}
	r = c.postForm("/settings", settingsValues(1, "Asia/Tokyo"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	after := strings.Join(c.get("/profile").find("td[data-label='Logged in']"), " ")
	if !strings.Contains(after, "JST") {
		t.Fatalf("profile after: %q", after)
	}
	// The login time shown moved by Tokyo's 9 hours.
	var created string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT created_at FROM sessions ORDER BY created_at DESC LIMIT 1`).Scan(&created); err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339Nano, created)
	if want := at.In(time.FixedZone("JST", 9*3600)).Format("2006-01-02 15:04"); !strings.Contains(after, want) {
		t.Fatalf("profile shows %q, want %q", after, want)
	}
	// A save from the old version is refused; what was typed stays.
	r = c.postForm("/settings", settingsValues(1, "Europe/Lisbon"))
	if r.status != http.StatusConflict || len(r.find("[data-testid=settings-stale]")) != 1 {
		t.Fatalf("stale save: %d", r.status)
	}
	if v, _ := r.doc().Find("#time_zone").Attr("value"); v != "Europe/Lisbon" {
		t.Fatalf("typed zone lost on a stale save: %q", v)
	}
	if v, _ := r.doc().Find("input[name=version]").Attr("value"); v != "2" {
		t.Fatalf("stale form's version: %q", v)
	}
	owner := actorByEmail(t, a, "owner@demo.test")
	es := auditEntries(t, a, owner, "account.settings")
	if len(es) != 1 || !strings.Contains(es[0].Before, `"time_zone":"UTC"`) || !strings.Contains(es[0].After, `"time_zone":"Asia/Tokyo"`) {
		t.Fatalf("audit: %+v", es)
	}
	st, _ := a.db.AccountSettings(context.Background(), owner)
	if st.DistanceUnit != "mi" || st.InviteTTL != 72*time.Hour || st.SessionIdle != time.Hour || st.Version != 2 {
		t.Fatalf("stored: %+v", st)
	}
	// Managers and drivers have no settings.
	for _, who := range []string{"manager@demo.test", "accountant@demo.test", "driver@demo.test"} {
		if r := a.login(who).get("/settings"); r.status != http.StatusForbidden {
			t.Fatalf("%s: %d", who, r.status)
		}
	}
}

// The idle timeout of the settings ends a session that was not used.
func TestSettingsIdleTimeoutEndsSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	if r := c.postForm("/settings", settingsValues(1, "UTC")); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	d := a.login("admin@demo.test")
	mustExec(t, a, `UPDATE sessions SET last_seen_at = ?`, time.Now().Add(-61*time.Minute).UTC().Format(time.RFC3339Nano))
	if r := d.get("/users"); r.status != http.StatusSeeOther {
		t.Fatalf("idle session: %d", r.status)
	}
	// A login older than the lifetime (24 h) ends too, even if active.
	e := a.login("manager@demo.test")
	mustExec(t, a, `UPDATE sessions SET created_at = ?`, time.Now().Add(-25*time.Hour).UTC().Format(time.RFC3339Nano))
	if r := e.get("/users"); r.status != http.StatusSeeOther {
		t.Fatalf("old session: %d", r.status)
	}
}

func subscriptionOf(t testing.TB, a *app, email string) db.Subscription {
	t.Helper()
	s, err := a.db.Subscription(context.Background(), actorByEmail(t, a, email))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Paying for fewer vehicles than are in use is refused, naming how many to
// archive; a valid change is audited with before and after.
func TestSubscriptionPaidBelowInUse(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	sub := subscriptionOf(t, a, "owner@demo.test")
	if sub.InUse < 2 {
		t.Fatalf("the demo has %d vehicles in use", sub.InUse)
	}
	c := a.login("owner@demo.test")
	r := c.postForm("/subscription", url.Values{"version": {"1"}, "paid_vehicles": {fmt.Sprint(sub.InUse - 2)}, "ends_on": {"2031-01-31"}})
	want := fmt.Sprintf("Archive 2 first, or pay for at least %d", sub.InUse)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, "paid_vehicles"), want) {
		t.Fatalf("paid below in use: %d %q", r.status, fieldMsg(r, "paid_vehicles"))
	}
	if v, _ := r.doc().Find("#ends_on").Attr("value"); v != "2031-01-31" {
		t.Fatalf("typed end date lost: %q", v)
	}
	r = c.postForm("/subscription", url.Values{"version": {"1"}, "paid_vehicles": {fmt.Sprint(sub.InUse + 10)}, "ends_on": {"2031-01-31"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	got := subscriptionOf(t, a, "owner@demo.test")
	if got.PaidVehicles != sub.InUse+10 || got.EndsOn.Format(time.DateOnly) != "2031-01-31" || got.Version != 2 {
		t.Fatalf("stored: %+v", got)
	}
	es := auditEntries(t, a, actorByEmail(t, a, "owner@demo.test"), "subscription.update")
	if len(es) != 1 || !strings.Contains(es[0].Before, fmt.Sprintf(`"paid_vehicles":%d`, sub.PaidVehicles)) || !strings.Contains(es[0].After, `"ends_on":"2031-01-31"`) {
		t.Fatalf("audit: %+v", es)
	}
	// A stale save is refused; the accountant may look but not change.
	if r := c.postForm("/subscription", url.Values{"version": {"1"}, "paid_vehicles": {"500"}, "ends_on": {"2032-01-31"}}); r.status != http.StatusConflict {
		t.Fatalf("stale: %d", r.status)
	}
	acc := a.login("accountant@demo.test")
	if r := acc.get("/subscription"); r.status != http.StatusOK || len(r.find("[data-testid=subscription-form]")) != 0 {
		t.Fatalf("accountant sees the form: %d", r.status)
	}
	if r := acc.postForm("/subscription", url.Values{"version": {"2"}, "paid_vehicles": {"500"}, "ends_on": {"2032-01-31"}}); r.status != http.StatusForbidden {
		t.Fatalf("accountant changes: %d", r.status)
	}
}

// Those with billing.view are warned 14 days before the end and at 90% of
// the paid vehicles; others are not.
func TestSubscriptionWarnings(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	sub := subscriptionOf(t, a, "owner@demo.test")
	mustExec(t, a, `UPDATE subscriptions SET ends_on = ?, paid_vehicles = ?`, time.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly), sub.InUse+1)
	r := a.login("accountant@demo.test").get("/vehicles")
	w := strings.Join(r.find("[data-testid=subscription-warning]"), " | ")
	if !strings.Contains(w, "ends in 10 days") || !strings.Contains(w, "nearly all in use") {
		t.Fatalf("warnings: %q", w)
	}
	if r := a.login("driver@demo.test").get("/vehicles"); len(r.find("[data-testid=subscription-warning]")) != 0 {
		t.Fatal("a driver sees billing warnings")
	}
}

// After the end date the account is read-only: a change is refused with a
// banner naming who can renew; reading, exporting, logging in and renewing work.
func TestExpiredSubscriptionIsReadOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `UPDATE subscriptions SET ends_on = '2020-01-31'`)
	m := a.login("manager@demo.test") // logging in works
	r := m.postForm("/vehicles", url.Values{"name": {"Van 99"}, "plate": {"ZZ-99"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "ended on 2020-01-31") || !strings.Contains(r.body, "Olivia Owner") ||
		!strings.Contains(r.body, "Adam Admin") || len(r.find("[data-testid=read-only-banner]")) != 1 {
		t.Fatalf("vehicle create: %d\n%s", r.status, r.body)
	}
	if n := countVehicles(t, a, "Van 99"); n != 0 {
		t.Fatal("the vehicle was created")
	}
	// Recording a trip is refused alike, on the web and from the phone
	// (whose sign-in still works).
	trips := countSQL(t, a, `SELECT COUNT(*) FROM trips`)
	today := time.Now().UTC().Format(time.DateOnly)
	r = m.postForm("/vehicles/1/trips", url.Values{"trip_date": {today}, "distance_km": {"12"}, "purpose": {"business"}})
	if r.status != http.StatusForbidden || len(r.find("[data-testid=read-only-banner]")) != 1 {
		t.Fatalf("trip record on the web: %d", r.status)
	}
	tok := apiToken(t, a, "driver@demo.test")
	r = a.client().api(http.MethodPost, "/api/v1/trips", tok, `{"vehicle_id":1,"date":"`+today+`","distance_km":12,"purpose":"business"}`)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "ended on 2020-01-31") {
		t.Fatalf("trip record through the API: %d %s", r.status, r.body)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM trips`); n != trips {
		t.Fatal("a trip was recorded in a read-only account")
	}
	for _, p := range []string{"/vehicles", "/users", "/users/export.csv"} {
		if r := m.get(p); r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", p, r.status)
		}
	}
	if r := m.get("/vehicles"); len(r.find("[data-testid=read-only-banner]")) != 1 {
		t.Fatal("no banner on a page")
	}
	// Own password and logout still work.
	if r := m.postForm("/profile/password", url.Values{"current_password": {db.DemoPassword}, "new_password": {freshPassword}, "new_password_again": {freshPassword}}); r.status == http.StatusForbidden {
		t.Fatalf("password change refused: %s", r.body)
	}
	// The Owner renews; then the change goes through.
	o := a.login("owner@demo.test")
	if r := o.postForm("/settings", settingsValues(1, "UTC")); r.status != http.StatusForbidden {
		t.Fatalf("settings in a read-only account: %d", r.status)
	}
	sub := subscriptionOf(t, a, "owner@demo.test")
	r = o.postForm("/subscription", url.Values{"version": {fmt.Sprint(sub.Version)}, "paid_vehicles": {fmt.Sprint(sub.PaidVehicles)},
		"ends_on": {time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("renew: %d %s", r.status, r.body)
	}
	if r := o.postForm("/vehicles", url.Values{"name": {"Van 99"}, "plate": {"ZZ-99"}}); r.status != http.StatusSeeOther {
		t.Fatalf("vehicle create after renewal: %d", r.status)
	}
	if r := m.postForm("/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
}

func countVehicles(t testing.TB, a *app, name string) int {
	t.Helper()
	var n int
	if err := a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM vehicles WHERE name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// billing.manage adds another account under the subscription; its Owner
// gets a link to choose a password; the page lists both accounts.
func TestAnotherAccountUnderTheSubscription(t *testing.T) {
	t.Parallel()
	a, buf := newAppWithLog(t)
	c := a.login("owner@demo.test")
	r := c.postForm("/subscription/accounts", url.Values{"name": {"Demo Fleet"}, "owner_email": {"sam@second.test"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(r, "name"), "already has an account") {
		t.Fatalf("same name: %d %q", r.status, fieldMsg(r, "name"))
	}
	r = c.postForm("/subscription/accounts", url.Values{"name": {"Second Fleet"}, "owner_email": {"sam@second.test"}})
	if r.status != http.StatusOK || len(r.find("[data-testid=account-added]")) != 1 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if rows := r.find("[data-testid=subscription-account]"); len(rows) != 2 {
		t.Fatalf("accounts listed: %q", rows)
	}
	if strings.Contains(r.body, "/reset/") {
		t.Fatal("the page shows the new Owner's link")
	}
	a.sendMail()
	link := linkPath(t, resetLinkIn(t, buf.String()))
	sam := a.client()
	if r := sam.get(link); r.status != http.StatusOK || !strings.Contains(r.body, "Choose your password") {
		t.Fatalf("setup link: %d", r.status)
	}
	if r := sam.postForm(link, url.Values{"password": {freshPassword}, "password_again": {freshPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("choose password: %d", r.status)
	}
	s := a.loginWith("sam@second.test", freshPassword)
	if r := s.get("/users"); r.status != http.StatusOK || !strings.Contains(r.body, "Second Fleet") {
		t.Fatalf("new owner: %d", r.status)
	}
	samActor := actorByEmail(t, a, "sam@second.test")
	if !samActor.IsOwner() {
		t.Fatal("sam is not the Owner")
	}
	if s1, s2 := subscriptionOf(t, a, "owner@demo.test"), subscriptionOf(t, a, "sam@second.test"); s1.ID != s2.ID || len(s2.Accounts) != 2 {
		t.Fatalf("subscriptions: %d vs %d", s1.ID, s2.ID)
	}
	// A Manager cannot add accounts.
	if r := a.login("manager@demo.test").postForm("/subscription/accounts", url.Values{"name": {"X"}, "owner_email": {"x@x.test"}}); r.status != http.StatusForbidden {
		t.Fatalf("manager: %d", r.status)
	}
}

// A vehicle access with a last day ends at midnight of that day in the
// account's time zone, and the page shows that day.
func TestGrantLastDayFollowsTheAccountsTimeZone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	if r := c.postForm("/settings", settingsValues(1, "Asia/Tokyo")); r.status != http.StatusSeeOther {
		t.Fatalf("settings: %d", r.status)
	}
	driver := actorByEmail(t, a, "driver@demo.test")
	var vehicle int64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT id FROM vehicles WHERE account_id = ? AND status = 'active' ORDER BY id LIMIT 1`, driver.AccountID).Scan(&vehicle); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	r := c.postForm(fmt.Sprintf("/users/%d/access/grant", driver.MemberID), url.Values{"kind": {"vehicle"}, "target_id": {fmt.Sprint(vehicle)},
		"level": {"view"}, "ends_on": {day}})
	if r.status >= 400 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	var ends string
	if err := a.db.QueryRowForTest(context.Background(), `SELECT ends_at FROM member_vehicle_grants WHERE member_id = ? AND vehicle_id = ?`, driver.MemberID, vehicle).Scan(&ends); err != nil {
		t.Fatal(err)
	}
	d, _ := time.Parse(time.DateOnly, day)
	want := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)).UTC()
	if got, _ := time.Parse(time.RFC3339, ends); !got.Equal(want) {
		t.Fatalf("ends at %s, want %s (midnight in Tokyo)", ends, want.Format(time.RFC3339))
	}
	if page := c.get(fmt.Sprintf("/users/%d/access", driver.MemberID)); !strings.Contains(page.body, day) {
		t.Fatalf("the access page does not show the last day %s", day)
	}
}
