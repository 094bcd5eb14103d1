package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserInviteAndAccept: the owner invites an accountant, takes a
// fresh link from the pending list, and the invited person opens it in a
// browser of their own, chooses a password and lands in the console with
// the invited role.
func TestBrowserInviteAndAccept(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")

	must(t, ctx,
		chromedp.Navigate(c.url+"/users"),
		waitVisible(chromedp.ID("users-q")),
		chromedp.Click(chromedp.CSS("[data-testid=invite-button]")),
		waitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "nina@example.com"),
	)
	role := eval[string](t, ctx, `(() => {
		const s = document.getElementById("role_id");
		for (const o of s.options) if (o.text === "Accountant (read-only)") s.value = o.value;
		return s.value;
	})()`)
	if role == "" {
		t.Fatal("Accountant is not offered")
	}
	must(t, ctx,
		chromedp.SetValue(chromedp.ID("vehicle_access"), "all"),
		chromedp.Click(chromedp.CSS("[data-testid=invite-form] button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=invite-link]")),
	)
	shot(t, ctx, "invite-created")
	first := eval[string](t, ctx, `document.querySelector("[data-testid=invite-link]").value`)
	// The outbox's sender writes the e-mail to the log as soon as the
	// invitation is committed, in the background: wait for it.
	logged := func() bool { return strings.Contains(c.out.String(), first) }
	for tick, end := time.NewTicker(10*time.Millisecond), time.Now().Add(10*time.Second); !logged() && time.Now().Before(end); {
		<-tick.C
	}
	if !strings.Contains(first, "/invite/") || !logged() {
		t.Fatalf("link %q not shown or not in the server log", first)
	}

	// The pending list offers a fresh link in place (htmx), with a copy button.
	must(t, ctx,
		chromedp.Navigate(c.url+"/users"),
		waitVisible(chromedp.CSS("[data-testid=invitation-row]")),
	)
	eval[bool](t, ctx, "window.__noReload = true")
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=invitation-link]")))
	waitFor(t, ctx, `!!document.querySelector("#invitations-panel [data-testid=invite-link]")`)
	if !eval[bool](t, ctx, "window.__noReload === true") {
		t.Fatal("the page reloaded")
	}
	link := eval[string](t, ctx, `document.querySelector("#invitations-panel [data-testid=invite-link]").value`)
	if link == first || link != eval[string](t, ctx, `document.querySelector("#invitations-panel button[data-copy]").dataset.copy`) {
		t.Fatalf("fresh link %q (first %q)", link, first)
	}
	shot(t, ctx, "invite-new-link")

	// The invited person, at another computer.
	guest := newWindow(t, ctx)
	must(t, guest, chromedp.Navigate(first), waitVisible(chromedp.ID("gone-title")))
	must(t, guest,
		chromedp.Navigate(link),
		waitVisible(chromedp.ID("first_name")),
		chromedp.SendKeys(chromedp.ID("first_name"), "Nina"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Numbers"),
		chromedp.SendKeys(chromedp.ID("password"), "password1234"),
		chromedp.SendKeys(chromedp.ID("password_again"), "password1234"),
		chromedp.Click(chromedp.CSS("[data-testid=accept-form] button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=error-password]")),
	)
	shot(t, guest, "accept-refused")
	if v := eval[string](t, guest, `document.getElementById("first_name").value`); v != "Nina" {
		t.Fatalf("first name not kept: %q", v)
	}
	must(t, guest,
		chromedp.SendKeys(chromedp.ID("password"), "velvet tram orbit"),
		chromedp.SendKeys(chromedp.ID("password_again"), "velvet tram orbit"),
		chromedp.Click(chromedp.CSS("[data-testid=accept-form] button[type=submit]")),
		waitVisible(chromedp.CSS("nav.side")),
	)
	shot(t, guest, "accepted")
	// An Accountant (reports.view) starts on the dashboard.
	loc, _ := chromedp.Run(guest, chromedp.Location())
	if !strings.HasSuffix(loc, "/dashboard") {
		t.Fatalf("landed on %s", loc)
	}
	menu := eval[string](t, guest, `document.querySelector(".user-menu").textContent`)
	if !strings.Contains(menu, "Nina Numbers") || !strings.Contains(menu, "Accountant (read-only) in Demo Fleet") {
		t.Fatalf("user menu: %q", menu)
	}
	// Read-only: no invite controls for the accountant.
	must(t, guest, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.ID("users-q")))
	if n := rowCount(t, guest, "[data-testid=invite-button]"); n != 0 {
		t.Fatal("the accountant is offered Invite")
	}
	// The owner's list no longer has the invitation; the member is listed.
	must(t, ctx, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.CSS("[data-testid=invitations-panel]")))
	if n := rowCount(t, ctx, "[data-testid=invitation-row]"); n != 0 {
		t.Fatalf("%d invitations still pending", n)
	}
	if n := rowCount(t, ctx, "[data-testid=user-row]"); n != 7 {
		t.Fatalf("%d members", n)
	}
	// The audit log tells the story, with before and after on demand.
	must(t, ctx, chromedp.Navigate(c.url+"/audit"), waitVisible(chromedp.CSS("[data-testid=audit-table]")))
	kinds := eval[string](t, ctx, `[...document.querySelectorAll("[data-testid=audit-row] code.kind")].map(e => e.textContent).join(",")`)
	if !strings.HasPrefix(kinds, "invitation.accept,invitation.link,invitation.create") {
		t.Fatalf("audit kinds: %s", kinds)
	}
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=audit-row] details summary")))
	shot(t, ctx, "audit")
	must(t, guest, chromedp.Navigate(c.url+"/profile"), waitVisible(chromedp.CSS("[data-testid=current-session]")))
	shot(t, guest, "profile")

	// The owner deactivates Nina; her next click lands on the login page.
	must(t, ctx,
		chromedp.Navigate(c.url+"/users?q=nina"),
		chromedp.Click(chromedp.CSS("[data-testid=user-row] td[data-label=Name] a")),
		chromedp.Click(chromedp.CSS("[data-testid=deactivate]")),
		chromedp.Click(chromedp.CSS("[data-testid=confirm-deactivate]")),
		waitVisible(chromedp.CSS("[data-testid=reactivate]")),
	)
	must(t, guest, chromedp.Click(chromedp.CSS(`nav.side a[href="/users"]`)))
	waitFor(t, guest, `location.pathname === "/login" && !!document.getElementById("login-title")`)
}

// TestBrowserRevokeAsksFirst: revoking asks for confirmation; saying no
// keeps the invitation, saying yes removes it in place.
func TestBrowserRevokeAsksFirst(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")
	must(t, ctx,
		chromedp.Navigate(c.url+"/users/invite"),
		waitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "maybe@example.com"),
	)
	eval[string](t, ctx, `(() => { const s = document.getElementById("role_id"); s.value = s.options[s.options.length - 1].value; return s.value })()`)
	must(t, ctx,
		chromedp.Click(chromedp.CSS("[data-testid=invite-form] button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=invite-link]")),
		chromedp.Navigate(c.url+"/users"),
		waitVisible(chromedp.CSS("[data-testid=invitation-row]")),
	)
	// Declining: the question is asked, and no request goes out (none in
	// flight, the page not left).
	eval[bool](t, ctx, `(window.__asked = 0, window.__noReload = true, window.confirm = () => { window.__asked++; return false }, true)`)
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=invitation-row] button.danger")))
	waitFor(t, ctx, `window.__asked === 1 && !document.querySelector(".htmx-request")`)
	if !eval[bool](t, ctx, "window.__noReload === true") {
		t.Fatal("the form was sent although the confirmation was declined")
	}
	if n := rowCount(t, ctx, "[data-testid=invitation-row]"); n != 1 {
		t.Fatalf("revoked although the confirmation was declined (%d rows)", n)
	}
	eval[bool](t, ctx, `(window.confirm = () => true, true)`)
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=invitation-row] button.danger")))
	waitFor(t, ctx, `document.querySelectorAll("[data-testid=invitation-row]").length === 0 && document.body.textContent.includes("was revoked")`)
}
