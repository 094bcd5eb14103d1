package handlers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

func TestLoginSucceedsAndLandsOnTheDashboard(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	res := c.get("/")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard" {
		t.Fatalf("home: %d %s", res.status, res.header.Get("Location"))
	}
	res = c.get("/users")
	if res.status != 200 {
		t.Fatalf("users: %d", res.status)
	}
	if got := len(res.find("[data-testid=user-row]")); got != len(db.DemoLogins) {
		t.Fatalf("users rows: %d", got)
	}
}

func TestLoginFailuresSayTheSameThing(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	wrongPw := a.client().postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {"nope-nope-nope"}})
	unknown := a.client().postForm("/login", url.Values{"email": {"nobody@demo.test"}, "password": {"nope-nope-nope"}})
	if wrongPw.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized {
		t.Fatalf("statuses %d %d", wrongPw.status, unknown.status)
	}
	m1, m2 := wrongPw.find("[data-testid=login-error]"), unknown.find("[data-testid=login-error]")
	if len(m1) != 1 || len(m2) != 1 || m1[0] != m2[0] {
		t.Fatalf("messages differ: %q vs %q", m1, m2)
	}
	// The e-mail typed is kept.
	if v, _ := unknown.doc().Find("#email").Attr("value"); v != "nobody@demo.test" {
		t.Fatalf("email not kept: %q", v)
	}
}

func TestLoginRefusalsHaveTheirOwnMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Refusals")
	gone := mustMember(t, acct, perm.Admin, "all")
	mustSetStatus(t, acct, gone.ID, "deactivated")
	mobile := mustMemberOn(t, acct, perm.Manager, "selected", "mobile")
	cases := map[string]string{
		gone.Email:                "deactivated",
		mobile.Email:              "mobile app only",
		"notifications@demo.test": "cannot log in",
	}
	for email, want := range cases {
		res := a.client().postForm("/login", url.Values{"email": {email}, "password": {db.DemoPassword}})
		msg := strings.Join(res.find("[data-testid=login-error]"), "")
		if res.status != http.StatusForbidden || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want %q", email, res.status, msg, want)
		}
		if strings.Contains(res.header.Get("Set-Cookie"), "fleetgate_session=") {
			t.Errorf("%s got a session cookie", email)
		}
	}
}

func TestLoginThrottlesRepeatedFailures(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	for i := 0; i < db.EmailThrottle.Limit; i++ {
		c.postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {"wrong-password"}})
	}
	// Even the right password waits now, with a clear message.
	res := c.postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}})
	msg := strings.Join(res.find("[data-testid=login-error]"), "")
	if res.status != http.StatusTooManyRequests || !strings.Contains(msg, "Try again in") || res.header.Get("Retry-After") == "" {
		t.Fatalf("throttle: %d %q", res.status, msg)
	}
	// Another e-mail from the same address is not locked yet.
	if res := a.client().postForm("/login", url.Values{"email": {"admin@demo.test"}, "password": {db.DemoPassword}}); res.status != http.StatusSeeOther {
		t.Fatalf("other e-mail: %d", res.status)
	}
}

func TestLoginThrottlesPerAddress(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for i := 0; i < db.IPThrottle.Limit; i++ {
		a.client().postForm("/login", url.Values{"email": {"someone" + string(rune('a'+i)) + "@x.test"}, "password": {"wrong-password"}})
	}
	res := a.client().postForm("/login", url.Values{"email": {"admin@demo.test"}, "password": {db.DemoPassword}})
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("per-address throttle: %d", res.status)
	}
}

func TestLoginGivesANewSessionID(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	first := sessionCookie(c)
	c.postForm("/logout", nil)
	c2 := a.login("owner@demo.test")
	if first == "" || first == sessionCookie(c2) {
		t.Fatal("session id reused")
	}
}

func TestCSRFRefusal(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	// No token, a wrong token: refused, still logged in.
	if res := c.postRaw("/logout", url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("no token: %d", res.status)
	}
	if res := c.postRaw("/logout", url.Values{"_csrf": {flipped(c.csrf())}}); res.status != http.StatusForbidden {
		t.Fatalf("wrong token: %d", res.status)
	}
	// htmx sends the token in a header.
	if res := c.postRaw("/logout", url.Values{}, "HX-Request", "true", "X-CSRF-Token", c.csrf()); res.status != http.StatusSeeOther {
		t.Fatalf("header token: %d", res.status)
	}
	// Login itself needs the token too.
	if res := a.client().postRaw("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}}); res.status != http.StatusForbidden {
		t.Fatalf("login without token: %d", res.status)
	}
}

func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	stolen := sessionCookie(c)
	c.postForm("/logout", nil)
	// Replaying the old cookie gets nothing.
	other := a.client()
	u, _ := url.Parse(a.srv.URL)
	other.http.Jar.SetCookies(u, []*http.Cookie{{Name: "fleetgate_session", Value: stolen, Path: "/"}})
	if res := other.get("/users"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("old cookie still works: %d", res.status)
	}
}

func TestRevocationTakesEffectOnNextRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("manager@demo.test")
	if res := c.get("/users"); res.status != 200 {
		t.Fatalf("before: %d", res.status)
	}
	mustExec(t, a, `UPDATE members SET status = 'deactivated' WHERE user_id = (SELECT id FROM users WHERE email = 'manager@demo.test')`)
	res := c.get("/users")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Fatalf("after deactivation: %d", res.status)
	}
	// An htmx request is told to load the login page.
	c = a.login("accountant@demo.test")
	mustExec(t, a, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'accountant@demo.test')`)
	res = c.htmx("/users?q=a", "users-results")
	if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("HX-Redirect"), "/login") {
		t.Fatalf("htmx after revocation: %d %q", res.status, res.header.Get("HX-Redirect"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.client().get("/login")
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Referrer-Policy") == "" {
		t.Error("nosniff or referrer policy missing")
	}
	if strings.Contains(res.body, "<script>") {
		t.Error("inline script in page")
	}
	res = a.client().postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}})
	var session string
	for _, h := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "fleetgate_session=") {
			session = h
		}
	}
	if !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "SameSite=Lax") || strings.Contains(session, "Secure") {
		t.Errorf("session cookie flags: %q", session)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if res := a.client().get("/healthz"); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
}

func sessionCookie(c *client) string {
	u, _ := url.Parse(c.a.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "fleetgate_session" {
			return ck.Value
		}
	}
	return ""
}

func mustExec(t testing.TB, a *app, q string, args ...any) {
	t.Helper()
	if err := a.db.ExecForTest(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// After login the console goes back where the visitor wanted to go, but
// never to another site: browsers drop tabs and line breaks from a
// Location, so "/\t/evil.example" would become "//evil.example".
func TestLoginGoesBackOnlyWithinTheSite(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.client().postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}, "next": {"/vehicles?q=van"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/vehicles?q=van" {
		t.Fatalf("same-site next: %d %q", res.status, res.header.Get("Location"))
	}
	for _, next := range []string{"//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\t\\evil.example", "https://evil.example/", "/login"} {
		page := a.client().get("/login?next=" + url.QueryEscape(next))
		if v, _ := page.doc().Find("input[name=next]").Attr("value"); v != "" {
			t.Errorf("login page keeps next %q as %q", next, v)
		}
		res := a.client().postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}, "next": {next}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
			t.Errorf("next %q: %d %q", next, res.status, res.header.Get("Location"))
		}
	}
}

// A burst of parallel guesses is throttled like a sequence: each attempt is
// counted before its password is checked, so no more than the e-mail's
// limit of guesses is ever checked, and the rest are told to wait.
func TestLoginThrottleHoldsUnderParallelGuesses(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	const n = 60
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{a: a, http: &http.Client{Transport: a.tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/api/v1/tokens",
				strings.NewReader(`{"email":"owner@demo.test","password":"wrong-password"}`))
			req.Header.Set("Content-Type", "application/json")
			r, err := c.http.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			r.Body.Close()
			statuses <- r.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] > db.EmailThrottle.Limit || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != n {
		t.Fatalf("%d parallel guesses: %v; want at most %d checked (401), the rest 429", n, count, db.EmailThrottle.Limit)
	}
	// The right password waits too, on the form as on the API.
	if res := a.client().postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {db.DemoPassword}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("right password after the burst: %d, want 429", res.status)
	}
}

// A right password takes its attempt back: an office whose colleagues log
// in all day from one address is never locked by its own successes.
func TestSuccessfulLoginsDoNotLockTheAddress(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for i := 0; i < db.IPThrottle.Limit+5; i++ {
		if res := a.client().postForm("/login", url.Values{"email": {"admin@demo.test"}, "password": {db.DemoPassword}}); res.status != http.StatusSeeOther {
			t.Fatalf("login %d: %d", i+1, res.status)
		}
	}
}

// The CSRF token of a session is derived from that session: a token that
// someone planted in the browser's cookie before (or a token of another
// session) does not pass, and each login gets a new one.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	mine := c.csrf()
	other := a.login("admin@demo.test").csrf()
	if mine == other {
		t.Fatal("two sessions share a CSRF token")
	}
	if res := c.postRaw("/profile/sessions/end-all", url.Values{"_csrf": {other}}); res.status != http.StatusForbidden {
		t.Fatalf("another session's token: %d", res.status)
	}
	// A planted cookie with a matching field is refused once logged in.
	planted := db.NewToken()
	u, _ := url.Parse(a.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "fleetgate_csrf", Value: planted, Path: "/"}})
	if res := c.postRaw("/profile/sessions/end-all", url.Values{"_csrf": {planted}}); res.status != http.StatusForbidden {
		t.Fatalf("planted token: %d", res.status)
	}
	// The page's token is the session's, and it works.
	page := c.get("/profile")
	tok, _ := page.doc().Find("meta[name=csrf-token]").Attr("content")
	if tok != mine {
		t.Fatalf("page token %q, session token %q", tok, mine)
	}
	if res := c.postRaw("/logout", url.Values{"_csrf": {tok}}); res.status != http.StatusSeeOther {
		t.Fatalf("the session's token: %d", res.status)
	}
	if again := a.login("owner@demo.test").csrf(); again == mine {
		t.Fatal("a new login kept the old CSRF token")
	}
}

// Every answer carries the security headers, a refused oversized body too;
// HSTS only where the operator turned it on.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	big := strings.Repeat("x", 2<<20)
	res := a.client().postRaw("/login", url.Values{"email": {big}})
	if res.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", res.status)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if res.header.Get(h) == "" {
			t.Errorf("413 lacks %s", h)
		}
	}
	if res.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent without being asked for")
	}
	if r := a.client().get("/no-such-page"); r.header.Get("Content-Security-Policy") == "" {
		t.Error("404 lacks the security headers")
	}
	h := newAppConfigured(t, handlers.Config{HSTS: true})
	if v := h.client().get("/login").header.Get("Strict-Transport-Security"); !strings.Contains(v, "max-age=31536000") {
		t.Errorf("HSTS: %q", v)
	}
}

// X-Forwarded-For is believed only from the configured proxies: without
// one, a guesser cannot escape the per-address throttle by inventing
// addresses, and with one, clients behind it are told apart.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	untrusted := newApp(t)
	for i := 0; i < db.IPThrottle.Limit; i++ {
		untrusted.client().postForm("/login", url.Values{"email": {fmt.Sprintf("y%d@x.test", i)}, "password": {"wrong-password"}})
	}
	res := untrusted.client().postForm("/login", url.Values{"email": {"admin@demo.test"}, "password": {db.DemoPassword}})
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("address lock: %d", res.status)
	}
	req := func(a *app, xff string) int {
		c := a.client()
		tok := c.csrf()
		return c.postRaw("/login", url.Values{"email": {"admin@demo.test"}, "password": {db.DemoPassword}, "_csrf": {tok}}, "X-Forwarded-For", xff).status
	}
	if s := req(untrusted, "198.51.100.7"); s != http.StatusTooManyRequests {
		t.Fatalf("an invented X-Forwarded-For escaped the lock: %d", s)
	}
	trusted := newAppConfigured(t, handlers.Config{TrustedProxies: []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(32, 32)}}})
	for i := 0; i < db.IPThrottle.Limit; i++ {
		c := trusted.client()
		c.postRaw("/login", url.Values{"email": {fmt.Sprintf("z%d@x.test", i)}, "password": {"wrong-password"}, "_csrf": {c.csrf()}}, "X-Forwarded-For", "198.51.100.1")
	}
	if s := req(trusted, "198.51.100.1"); s != http.StatusTooManyRequests {
		t.Fatalf("the guessing client behind the proxy: %d", s)
	}
	if s := req(trusted, "198.51.100.2"); s != http.StatusSeeOther {
		t.Fatalf("another client behind the proxy: %d", s)
	}
}
