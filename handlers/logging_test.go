package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/handlers"
)

// TestSecurityEventsLogged: failed logins, a login, a refused and a done
// password change and a new API token each write a line with the client
// address and the request id.
func TestSecurityEventsLogged(t *testing.T) {
	t.Parallel()
	a, log := newAppWithLog(t)
	if res := a.client().postForm("/login", url.Values{"email": {"manager@demo.test"}, "password": {"not-it"}}); res.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", res.status)
	}
	c := a.login("owner@demo.test")
	owner := actorByEmail(t, a, "owner@demo.test")
	if res := c.postForm("/profile/password", url.Values{"current_password": {"not-it"}, "new_password": {"a new pass phrase 1"}, "new_password_again": {"a new pass phrase 1"}}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: %d", res.status)
	}
	if res := c.postForm("/profile/password", url.Values{"current_password": {db.DemoPassword}, "new_password": {"a new pass phrase 1"}, "new_password_again": {"a new pass phrase 1"}}); res.status != http.StatusSeeOther {
		t.Fatalf("password change: %d", res.status)
	}
	apiToken(t, a, "driver@demo.test")
	driver := actorByEmail(t, a, "driver@demo.test")
	lines := strings.Split(log.String(), "\n")
	for _, want := range []string{
		`level=WARN msg="login failed" email=manager@demo.test ip=127.0.0.1 request_id=`,
		`level=INFO msg=login member_id=` + itoa(owner.MemberID) + ` `,
		`level=WARN msg="password change: current password check failed" email=owner@demo.test ip=127.0.0.1 `,
		`level=INFO msg="password changed" member_id=` + itoa(owner.MemberID) + ` `,
		`level=INFO msg="API token created" member_id=` + itoa(driver.MemberID) + ` `,
	} {
		found := false
		for _, l := range lines {
			if strings.Contains(l, want) {
				found = strings.Contains(l, " ip=127.0.0.1 ") && strings.Contains(l, " request_id=")
				break
			}
		}
		if !found {
			t.Errorf("no line %q with ip and request_id in:\n%s", want, log)
		}
	}
	if strings.Contains(log.String(), db.DemoPassword) || strings.Contains(log.String(), "not-it") {
		t.Error("a password was logged")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRequestID: a sensible X-Request-Id is kept, anything else replaced;
// the id is echoed, shown on the error page and written in the access log
// with the member.
func TestRequestID(t *testing.T) {
	t.Parallel()
	log := &logBuffer{}
	a := newAppConfigured(t, handlers.Config{Logger: slogTo(log), AccessLog: true})
	c := a.login("manager@demo.test")
	manager := actorByEmail(t, a, "manager@demo.test")

	res := c.get("/no-such-page", "X-Request-Id", "proxy-7")
	if res.status != http.StatusNotFound || res.header.Get("X-Request-Id") != "proxy-7" {
		t.Fatalf("status %d, X-Request-Id %q", res.status, res.header.Get("X-Request-Id"))
	}
	if got := res.find(`[data-testid="request-id"] code`); len(got) != 1 || got[0] != "proxy-7" {
		t.Errorf("error page shows request id %v", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 65), "<script>"} {
		res := c.get("/no-such-page", "X-Request-Id", bad)
		if id := res.header.Get("X-Request-Id"); id == bad || len(id) != 16 {
			t.Errorf("X-Request-Id %q answered with %q", bad, id)
		}
	}
	res = c.get("/users")
	if res.status != http.StatusOK || len(res.header.Get("X-Request-Id")) != 16 {
		t.Fatalf("status %d, X-Request-Id %q", res.status, res.header.Get("X-Request-Id"))
	}
	if len(res.find(`[data-testid="request-id"]`)) != 0 {
		t.Error("a page that is not an error shows a request id")
	}
	out := log.String()
	for _, want := range []string{
		`msg=request method=GET path=/no-such-page status=404 `,
		`member_id=` + itoa(manager.MemberID),
		`request_id=proxy-7`,
		`msg=request method=GET path=/users status=200 `,
		`request_id=` + res.header.Get("X-Request-Id"),
		`msg=request method=POST path=/login status=303 `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %q:\n%s", want, out)
		}
	}
}
