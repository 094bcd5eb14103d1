package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// TestBrowserTwoFactor sets up two-factor sign-in on My profile as a
// person does (password, key, first code, recovery codes), logs out and
// logs in again with the password and a code from the key.
func TestBrowserTwoFactor(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "manager@demo.test")
	must(t, ctx,
		chromedp.Navigate(c.url+"/profile"),
		chromedp.Click(chromedp.CSS(`[data-testid=two-factor-summary] a`)),
		waitVisible(chromedp.ID("setup-password")),
		chromedp.SendKeys(chromedp.ID("setup-password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS(`[data-testid=setup-form] button[type=submit]`)),
		waitVisible(chromedp.ID("confirm-code")),
	)
	secret := eval[string](t, ctx, `document.getElementById("totp-secret").value`)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	must(t, ctx,
		chromedp.SendKeys(chromedp.ID("confirm-code"), code),
		chromedp.Click(chromedp.CSS(`[data-testid=confirm-form] button[type=submit]`)),
		waitVisible(chromedp.CSS(`[data-testid=recovery-codes]`)),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=recovery-code]").length`); n != 10 {
		t.Fatalf("%d recovery codes shown", n)
	}
	checkAxe(t, ctx, "/profile/two-factor/confirm")
	// Log out, and in again: the password, then the code of the next step
	// (the one just used is refused as a replay). The code of the step
	// after the current one is accepted, as an app whose clock runs a
	// little ahead shows it: no waiting up to 30 s for the step to come.
	must(t, ctx, chromedp.Click(chromedp.CSS(`form.actions[action="/logout"] button[type=submit]`)), waitVisible(chromedp.ID("email")))
	code, _ = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	must(t, ctx,
		chromedp.SendKeys(chromedp.ID("email"), "manager@demo.test"),
		chromedp.SendKeys(chromedp.ID("password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitVisible(chromedp.ID("code")),
	)
	checkAxe(t, ctx, "/login/two-factor")
	must(t, ctx,
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.CSS(`[data-testid=code-form] button[type=submit]`)),
		waitVisible(chromedp.CSS("nav.side")),
	)
}
