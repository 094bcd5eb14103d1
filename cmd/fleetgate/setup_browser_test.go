package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var consoleSetupCode = regexp.MustCompile(`(?m)^\s+([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\s*$`)

// TestBrowserFirstStartSetup: a server started without the demo on an
// empty database prints a setup code; the browser is led from the home
// page to /setup, a wrong code is refused with everything else kept, and
// the code from the console creates the account and signs its Owner in.
func TestBrowserFirstStartSetup(t *testing.T) {
	t.Parallel()
	c := startConsoleWith(t)
	m := consoleSetupCode.FindStringSubmatch(c.out.String())
	if m == nil {
		t.Fatalf("no setup code on the console:\n%s", c.out)
	}
	if !strings.Contains(c.out.String(), "code="+m[1]) {
		t.Fatalf("the setup code is not in the log:\n%s", c.out)
	}
	ctx := browser(t)
	must(t, ctx, chromedp.Navigate(c.url+"/"), waitVisible(chromedp.ID("setup-title")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/setup") {
		t.Fatalf("home led to %s", loc)
	}
	checkAxe(t, ctx, "/setup")
	fill := func(code string) {
		must(t, ctx,
			chromedp.SetValue(chromedp.ID("code"), code),
			chromedp.SetValue(chromedp.ID("account_name"), "Acme Fleet"),
			chromedp.SetValue(chromedp.ID("first_name"), "Ana"),
			chromedp.SetValue(chromedp.ID("last_name"), "Silva"),
			chromedp.SetValue(chromedp.ID("email"), "ana@acme.test"),
			chromedp.SetValue(chromedp.ID("password"), "orbit velvet tram lamp"),
			chromedp.SetValue(chromedp.ID("password_again"), "orbit velvet tram lamp"),
			chromedp.Click(chromedp.CSS("[data-testid=setup-form] button[type=submit]")),
		)
	}
	fill("WXYZ-WXYZ-WXYZ-WXYZ")
	must(t, ctx, waitVisible(chromedp.CSS("[data-testid=error-code]")))
	shot(t, ctx, "setup-wrong-code")
	if v := eval[string](t, ctx, `document.getElementById("account_name").value`); v != "Acme Fleet" {
		t.Fatalf("account name not kept: %q", v)
	}
	checkAxe(t, ctx, "/setup (with a message)")
	fill(m[1])
	must(t, ctx, waitVisible(chromedp.CSS("nav.side")))
	shot(t, ctx, "setup-done")
	if got := eval[string](t, ctx, `document.querySelector(".account-name").textContent`); got != "Acme Fleet" {
		t.Fatalf("account in the header: %q", got)
	}
	if !strings.Contains(eval[string](t, ctx, `document.getElementById("flash").textContent`), "Welcome to Acme Fleet") {
		t.Fatal("no welcome")
	}
	// Setup is gone now.
	must(t, ctx, chromedp.Navigate(c.url+"/setup"), waitVisible(chromedp.CSS("[data-testid=error]")))
}

// TestBrowserAccountsPagesAccessibility checks with axe the states of the
// account pages that the whole-console sweep (TestBrowserAccessibility)
// cannot reach by address: forgot password once sent, a reset link, and
// account settings with a message. Their plain pages (forgot password,
// settings, the subscription with its forms, a member's page with the
// reset button) are checked by the sweep, and not twice.
func TestBrowserAccountsPagesAccessibility(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	must(t, ctx, chromedp.Navigate(c.url+"/forgot"), waitVisible(chromedp.ID("email")))
	must(t, ctx,
		chromedp.SendKeys(chromedp.ID("email"), "driver@demo.test"),
		chromedp.Click(chromedp.CSS("[data-testid=forgot-form] button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=forgot-sent]")),
	)
	checkAxe(t, ctx, "/forgot (sent)")
	// The e-mail goes out in the background; without SMTP its link is logged.
	resetLink := regexp.MustCompile(`http://\S+/reset/[A-Za-z0-9_-]+`)
	link := ""
	for deadline := time.Now().Add(stepBudget); link == "" && time.Now().Before(deadline); {
		if link = resetLink.FindString(c.out.String()); link == "" {
			<-time.After(20 * time.Millisecond)
		}
	}
	if link == "" {
		t.Fatalf("no reset link in the log:\n%s", c.out)
	}
	must(t, ctx, chromedp.Navigate(link), waitVisible(chromedp.ID("password")))
	checkAxe(t, ctx, "/reset/…")
	logIn(t, ctx, c, "owner@demo.test")
	must(t, ctx,
		chromedp.Navigate(c.url+"/settings"),
		waitVisible(chromedp.ID("time_zone")),
		chromedp.SetValue(chromedp.ID("time_zone"), "Mars/Olympus"),
		chromedp.Click(chromedp.CSS("[data-testid=settings-form] button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=error-time_zone]")),
	)
	shot(t, ctx, "settings-bad-zone")
	checkAxe(t, ctx, "/settings (with a message)")
}
