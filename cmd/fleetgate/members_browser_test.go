package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An Owner deactivates a member who is working in another browser: the
// member's very next action lands on the login page.
func TestBrowserDeactivationEndsTheOtherSession(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	owner := browser(t)
	member := newWindow(t, owner)
	logIn(t, member, c, "accountant@demo.test")
	logIn(t, owner, c, "owner@demo.test")
	for _, w := range []context.Context{member, owner} {
		must(t, w, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.ID("users-q")))
	}

	// The owner opens the accountant's page from the list and deactivates.
	must(t, owner, chromedp.SendKeys(chromedp.ID("users-q"), "accountant"))
	// Wait for the last keystroke's answer (each one sends a request and
	// swaps the table), so that the click below hits the final table.
	waitFor(t, owner, `document.querySelectorAll("[data-testid=user-row]").length === 1 && location.search.includes("q=accountant") && !document.querySelector(".htmx-request")`)
	must(t, owner,
		chromedp.Click(chromedp.CSS("[data-testid=user-row] td[data-label=Name] a")),
		waitVisible(chromedp.CSS("[data-testid=deactivate]")),
		chromedp.Click(chromedp.CSS("[data-testid=deactivate]")),
		waitVisible(chromedp.CSS("[data-testid=confirm-deactivate]")),
	)
	shot(t, owner, "deactivate")
	must(t, owner,
		chromedp.Click(chromedp.CSS("[data-testid=confirm-deactivate]")),
		waitVisible(chromedp.CSS("[data-testid=reactivate]")),
	)
	if s := eval[string](t, owner, `document.querySelector("[data-testid=member-status]").textContent`); s != "deactivated" {
		t.Fatalf("status shown: %q", s)
	}

	// The accountant types in the search box (an htmx request): the
	// server answers "log in again" and the browser goes to the login page.
	must(t, member, chromedp.SendKeys(chromedp.ID("users-q"), "a"))
	waitFor(t, member, `location.pathname === "/login" && !!document.getElementById("login-title")`)
	if q := eval[string](t, member, "location.search"); !strings.Contains(q, "next=") {
		t.Fatalf("login page lost where the member was: %q", q)
	}
	// Logging in again is refused with its own message.
	must(t, member,
		chromedp.SendKeys(chromedp.ID("email"), "accountant@demo.test"),
		chromedp.SendKeys(chromedp.ID("password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=login-error]")),
	)
	if msg := eval[string](t, member, `document.querySelector("[data-testid=login-error]").textContent`); !strings.Contains(msg, "deactivated") {
		t.Fatalf("message: %q", msg)
	}
}
