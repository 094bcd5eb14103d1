package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

// Sent e-mails lists the e-mails of the member's own account only, with
// their state and never their bodies (which carry links); a reset asked
// for on the login page belongs to no account and is listed nowhere.
func TestOutboxListsTheAccountsOwnEmails(t *testing.T) {
	t.Parallel()
	a, _ := newAppWithLog(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	driver := actorByEmail(t, a, "driver@demo.test")
	c := a.login("owner@demo.test")
	res, link := c.invite("new.person@example.com", builtinRoleID(t, a, owner, perm.Driver), "all")
	if res.status != http.StatusOK || link == "" {
		t.Fatalf("invite: %d", res.status)
	}
	if r := a.login("admin@demo.test").postForm(fmt.Sprintf("/users/%d/password-reset", driver.MemberID), nil); r.status != http.StatusSeeOther {
		t.Fatalf("member reset: %d", r.status)
	}
	if r := a.client().postForm("/forgot", url.Values{"email": {"accountant@demo.test"}}); r.status != http.StatusOK {
		t.Fatalf("forgot: %d", r.status)
	}
	other := mustAccount(t, a, "Other Fleet")
	other2 := mustMember(t, other, perm.Driver, "all")
	if _, err := a.db.SendMemberReset(context.Background(), other.Owner.Actor, other2.ID, func(db.ResetLink) db.Mail {
		return db.Mail{Kind: "password.reset", Subject: "Other account's reset", Body: "x"}
	}); err != nil {
		t.Fatal(err)
	}

	// Queued, not yet sent.
	page := c.get("/outbox")
	// (The Admin is told of the invitation: account news.)
	if got := page.find("[data-testid=outbox-subject]"); len(got) != 3 || got[0] != "Choose a new Fleetgate password" ||
		got[1] != "new.person@example.com was invited to Demo Fleet" || got[2] != "You are invited to Demo Fleet on Fleetgate" {
		t.Fatalf("subjects: %q", got)
	}
	if got := page.find("[data-testid=outbox-to]"); got[0] != "driver@demo.test" || got[1] != "admin@demo.test" || got[2] != "new.person@example.com" {
		t.Fatalf("recipients: %q", got)
	}
	if got := page.find("[data-testid=outbox-state] .badge"); got[0] != "queued" || got[1] != "queued" || got[2] != "queued" {
		t.Fatalf("states: %q", got)
	}
	if r := a.sendMail(); r.Sent != 5 {
		t.Fatalf("delivery: %+v", r)
	}
	page = c.get("/outbox")
	if got := page.find("[data-testid=outbox-state] .badge"); len(got) != 3 || got[0] != "sent" || got[1] != "sent" || got[2] != "sent" {
		t.Fatalf("states after sending: %q", got)
	}
	if !strings.Contains(page.body, "to the server log") || strings.Contains(page.body, "/reset/") || strings.Contains(page.body, "/invite/") ||
		strings.Contains(page.body, "Other account") || strings.Contains(page.body, "accountant@demo.test") {
		t.Fatalf("page shows a link, a body, another account's or an account-less e-mail:\n%s", page.body)
	}
	// The other account's Owner sees theirs only.
	if got := a.login(other.Owner.Email).get("/outbox").find("[data-testid=outbox-subject]"); len(got) != 1 || got[0] != "Other account's reset" {
		t.Fatalf("other account: %q", got)
	}
	// The link is no longer stored once the e-mail is sent.
	var bodies int
	if err := a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM outbox WHERE body LIKE '%/reset/%' OR body LIKE '%/invite/%'`).Scan(&bodies); err != nil || bodies != 0 {
		t.Fatalf("%d sent bodies still hold links (%v)", bodies, err)
	}
	// Who may see it: audit.view.
	for who, want := range map[string]int{"accountant": http.StatusOK, "manager": http.StatusForbidden, "driver": http.StatusForbidden} {
		if r := a.login(roleLogins[who]).get("/outbox"); r.status != want {
			t.Errorf("%s: %d, want %d", who, r.status, want)
		}
	}
}

// A failed e-mail shows the server's answer and a Retry button; Retry
// queues it again (audited); only a failed e-mail of one's own account can
// be retried.
func TestOutboxRetry(t *testing.T) {
	t.Parallel()
	a := newAppConfigured(t, handlers.Config{Logger: slogTo(&logBuffer{}), BaseURL: "https://fleet.example.com",
		SMTP: handlers.SMTPConfig{Host: "127.0.0.1", Port: closedPort(t), TLS: "none", From: "fleet@example.com"}})
	owner := actorByEmail(t, a, "owner@demo.test")
	noInvitationNews(t, a)
	c := a.login("owner@demo.test")
	c.invite("sam@example.com", builtinRoleID(t, a, owner, perm.Driver), "selected")
	if r := a.sendMail(); r.Failed != 1 {
		t.Fatalf("delivery: %+v", r)
	}
	page := c.get("/outbox")
	if got := page.find("[data-testid=outbox-state] .badge"); len(got) != 1 || got[0] != "failed" {
		t.Fatalf("state: %q", got)
	}
	if e := strings.Join(page.find("[data-testid=outbox-error]"), ""); !strings.Contains(e, "connection refused") {
		t.Fatalf("error shown: %q", e)
	}
	if got := page.find("[data-testid=outbox-attempts]"); got[0] != "2" {
		t.Fatalf("attempts: %q", got)
	}
	id, _ := page.doc().Find("[data-testid=outbox-row]").Attr("data-id")
	if len(page.find("[data-testid=outbox-retry]")) != 1 {
		t.Fatal("no Retry button")
	}
	// The read-only Accountant reads the list but may not queue it again.
	acc := a.login("accountant@demo.test")
	if ap := acc.get("/outbox"); ap.status != http.StatusOK || len(ap.find("[data-testid=outbox-retry]")) != 0 {
		t.Fatalf("accountant: %d, offered Retry: %d", ap.status, len(ap.find("[data-testid=outbox-retry]")))
	}
	if r := acc.postForm("/outbox/"+id+"/retry", nil); r.status != http.StatusForbidden {
		t.Fatalf("accountant retries: %d", r.status)
	}
	// The Owner of another account cannot retry it: not found.
	other := mustAccount(t, a, "Other Fleet")
	if r := a.login(other.Owner.Email).postForm("/outbox/"+id+"/retry", nil); r.status != http.StatusNotFound {
		t.Fatalf("retry from another account: %d", r.status)
	}
	r := c.postForm("/outbox/"+id+"/retry", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/outbox" {
		t.Fatalf("retry: %d", r.status)
	}
	page = c.get("/outbox")
	if got := page.find("[data-testid=outbox-state] .badge"); got[0] != "queued" || !strings.Contains(page.body, "is queued again") {
		t.Fatalf("after retry: %q", got)
	}
	if es := auditEntries(t, a, owner, "outbox.retry"); len(es) != 1 || es[0].Target != "sam@example.com" {
		t.Fatalf("audit: %+v", es)
	}
	// Only a failed one: a queued e-mail is not retried.
	if r := c.postForm("/outbox/"+id+"/retry", nil); r.status != http.StatusSeeOther {
		t.Fatalf("retry of a queued e-mail: %d", r.status)
	}
	if f := c.get("/outbox").find(".flash-error"); len(f) != 1 || !strings.Contains(f[0], "Only a failed e-mail") {
		t.Fatalf("flash: %q", f)
	}
	// A member without audit.view is refused.
	if r := a.login("manager@demo.test").postForm("/outbox/"+id+"/retry", nil); r.status != http.StatusForbidden {
		t.Fatalf("manager retry: %d", r.status)
	}
}

// The list reads a page at a time, by id: older e-mails follow.
func TestOutboxPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := actorByEmail(t, a, "owner@demo.test")
	for i := 0; i < 57; i++ {
		mustExec(t, a, `INSERT INTO outbox (account_id, to_addr, kind, subject, body, next_attempt_at, created_at)
			VALUES (?, ?, 'test', ?, '', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`, owner.AccountID, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Mail %d", i))
	}
	c := a.login("owner@demo.test")
	first := c.get("/outbox")
	subjects := first.find("[data-testid=outbox-subject]")
	if len(subjects) != 50 || subjects[0] != "Mail 56" || subjects[49] != "Mail 7" {
		t.Fatalf("first page: %d rows, %q … %q", len(subjects), subjects[0], subjects[len(subjects)-1])
	}
	next, ok := first.doc().Find("[data-testid=outbox-next]").Attr("href")
	if !ok {
		t.Fatal("no next page")
	}
	second := c.get(next)
	if got := second.find("[data-testid=outbox-subject]"); len(got) != 7 || got[0] != "Mail 6" || got[6] != "Mail 0" {
		t.Fatalf("second page: %q", got)
	}
	if len(second.find("[data-testid=outbox-next]")) != 0 {
		t.Fatal("a next page after the last")
	}
}

// noInvitationNews turns off, for every member, the account news that
// someone was invited, so that a test of the invitation's own e-mail
// sees that e-mail alone.
func noInvitationNews(t *testing.T, a *app) {
	t.Helper()
	mustExec(t, a, `INSERT INTO mail_preferences (member_id, kind, enabled, updated_at) SELECT id, ?, 0, '' FROM members`, db.KindMemberInvited)
}
