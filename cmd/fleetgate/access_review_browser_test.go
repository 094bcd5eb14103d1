package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The Owner runs a small access review end to end: from the sidebar to the
// overview, starts a review, keeps every member but the Accountant, revokes
// the Accountant (deactivated), finishes, and finds the review on record in the
// history; the Accountant's next login is refused.
func TestBrowserAccessReviewEndToEnd(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")

	must(t, ctx,
		chromedp.Click(chromedp.CSS(`nav.side a[href="/access-review"]`)),
		waitVisible(chromedp.CSS("[data-testid=findings]")),
	)
	if n := rowCount(t, ctx, "[data-testid=review-member]"); n < 5 {
		t.Fatalf("overview lists %d members", n)
	}
	shot(t, ctx, "access-review")
	must(t, ctx,
		chromedp.Click(chromedp.CSS("[data-testid=review-start]")),
		waitVisible(chromedp.CSS("[data-testid=review-items]")),
	)
	rows := rowCount(t, ctx, "[data-testid=review-item]")
	if rows < 3 {
		t.Fatalf("review of %d members", rows)
	}
	// Decide row by row; each decision reloads the page.
	for i := 0; i < rows; i++ {
		undecided := `[...document.querySelectorAll("[data-testid=review-item]")].filter(r => r.querySelector("[data-testid=review-decision]").textContent.trim() === "Not decided")`
		left := eval[int](t, ctx, undecided+`.length`)
		if left == 0 {
			break
		}
		revoke := eval[bool](t, ctx, undecided+`[0].textContent.includes("accountant@demo.test")`)
		button := "decide-keep"
		if revoke {
			button = "decide-revoke"
		}
		eval[bool](t, ctx, undecided+`[0].querySelector("[data-testid=`+button+`]").click() || true`)
		waitFor(t, ctx, `document.readyState === "complete" && (!!document.querySelector("[data-testid=review-error]") || `+undecided+`.length === `+strconv.Itoa(left-1)+`)`)
		if msg := eval[string](t, ctx, `(document.querySelector("[data-testid=review-error]") || {textContent: ""}).textContent`); msg != "" {
			t.Fatalf("decision refused: %s", msg)
		}
	}
	if s := eval[string](t, ctx, `[...document.querySelectorAll("[data-testid=review-item]")].find(r => r.textContent.includes("accountant@demo.test")).querySelector("[data-testid=review-decision]").textContent`); strings.TrimSpace(s) != "Revoke" {
		t.Fatalf("the Accountant's decision: %q", s)
	}
	must(t, ctx,
		chromedp.Click(chromedp.CSS("[data-testid=review-finish]")),
	)
	waitFor(t, ctx, `!!document.querySelector("[data-testid=review-state]") && document.querySelector("[data-testid=review-state]").textContent.includes("on record")`)
	if n := rowCount(t, ctx, "[data-testid=decide-keep]"); n != 0 {
		t.Fatalf("a finished review offers %d decisions", n)
	}
	shot(t, ctx, "access-review-finished")
	must(t, ctx,
		chromedp.Navigate(c.url+"/access-review/reviews"),
		waitVisible(chromedp.CSS("[data-testid=reviews]")),
	)
	if got := eval[string](t, ctx, `document.querySelector("[data-testid=review-counts]").textContent.replace(/\s+/g, "")`); got != strconv.Itoa(rows-1)+"/0/1" {
		t.Fatalf("history: %q, want %d/0/1", got, rows-1)
	}
	// The revoked Accountant cannot come in any more.
	accountant := newWindow(t, ctx)
	must(t, accountant,
		chromedp.Navigate(c.url+"/login"),
		waitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "accountant@demo.test"),
		chromedp.SendKeys(chromedp.ID("password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitVisible(chromedp.CSS("[data-testid=login-error]")),
	)
	if msg := eval[string](t, accountant, `document.querySelector("[data-testid=login-error]").textContent`); !strings.Contains(msg, "deactivated") {
		t.Fatalf("the revoked Accountant's login: %q", msg)
	}
}
