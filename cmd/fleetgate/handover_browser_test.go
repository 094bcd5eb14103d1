package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The Owner deactivates three members in bulk: nothing happens before a
// summary is confirmed, only the member without leftovers goes, and the
// Manager (sole manager of North) goes through her own page, where only a
// member who can manage vehicles is offered and North is handed over as
// one group grant.
func TestBrowserBulkDeactivateAndHandover(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")

	// A second Manager, without vehicles yet.
	must(t, ctx, chromedp.Navigate(c.url+"/users/add"), waitVisible(chromedp.ID("first_name")))
	role := eval[string](t, ctx, `[...document.querySelectorAll("#role_id option")].find(o => o.textContent === "Manager").value`)
	must(t, ctx,
		chromedp.SendKeys(chromedp.ID("first_name"), "Nina"),
		chromedp.SendKeys(chromedp.ID("last_name"), "North"),
		chromedp.SendKeys(chromedp.ID("email"), "nina@example.com"),
		chromedp.SetValue(chromedp.ID("role_id"), role),
		chromedp.SendKeys(chromedp.ID("password"), "a long enough password"),
		chromedp.Click(chromedp.CSS("[data-testid=add-form] button[type=submit]")),
		waitVisible(chromedp.CSS(".flash-ok")),
	)

	// Select the Manager, the Driver and the Accountant; Apply asks first.
	must(t, ctx, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.ID("bulk-action")))
	// Select all ticks every row of the page; again clears them.
	eval[bool](t, ctx, `document.querySelector("[data-testid=select-all]").click(), true`)
	if n, all := rowCount(t, ctx, "input[name=ids]:checked"), rowCount(t, ctx, "input[name=ids]"); n != all || n < 7 {
		t.Fatalf("select all ticked %d of %d", n, all)
	}
	eval[bool](t, ctx, `document.querySelector("[data-testid=select-all]").click(), true`)
	if n := rowCount(t, ctx, "input[name=ids]:checked"); n != 0 {
		t.Fatalf("clearing left %d ticked", n)
	}
	for _, name := range []string{"Maria Manager", "Diego Driver", "Arthur Accountant"} {
		if !eval[bool](t, ctx, `(() => { const b = document.querySelector('input[aria-label="Select `+name+`"]'); if (!b) return false; b.click(); return b.checked })()`) {
			t.Fatalf("no box for %s in %v", name, eval[[]string](t, ctx, `[...document.querySelectorAll("input[name=ids]")].map(b => b.getAttribute("aria-label"))`))
		}
	}
	// Choosing the action as a person does (a change event) keeps the selection.
	eval[bool](t, ctx, `(() => { const s = document.getElementById("bulk-action"); s.value = "deactivate"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	waitFor(t, ctx, `!document.querySelector("#users-results.htmx-request, .filters.htmx-request")`)
	if n := rowCount(t, ctx, "input[name=ids]:checked"); n != 3 {
		t.Fatalf("choosing the action lost the selection: %d boxes ticked", n)
	}
	eval[bool](t, ctx, `document.querySelector("[data-testid=bulk-apply]").click(), true`)
	// The summary is a new page (a POST answer): poll for it.
	waitFor(t, ctx, `!!document.querySelector("[data-testid=bulk-title]")`)
	shot(t, ctx, "bulk-confirm")
	if got := eval[string](t, ctx, `document.querySelector("[data-testid=bulk-title]").textContent`); got != "Deactivate 1 member?" {
		t.Fatalf("summary: %q", got)
	}
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll("[data-testid=bulk-handover]")].map(a => a.textContent)`); len(got) != 2 {
		t.Fatalf("handover links: %v", got)
	}
	maria := eval[string](t, ctx, `[...document.querySelectorAll("[data-testid=bulk-handover]")].find(a => a.textContent.includes("Maria")).getAttribute("href")`)
	must(t, ctx,
		chromedp.Click(chromedp.CSS("[data-testid=bulk-confirm]")),
		waitVisible(chromedp.CSS(".flash-ok")),
	)
	if got := eval[string](t, ctx, `document.querySelector(".flash-ok").textContent`); !strings.Contains(got, "Changed 1") {
		t.Fatalf("after confirming: %q", got)
	}
	statuses := eval[[]string](t, ctx, `[...document.querySelectorAll("[data-testid=user-row]")].filter(r => r.textContent.includes("deactivated")).map(r => r.querySelector("td[data-label=Name]").textContent)`)
	if len(statuses) != 1 || statuses[0] != "Arthur Accountant" {
		t.Fatalf("deactivated: %v", statuses)
	}

	// The Manager's own page: only Nina can take North.
	must(t, ctx, chromedp.Navigate(c.url+maria), waitVisible(chromedp.CSS("[data-testid=confirm-deactivate]")))
	opts := eval[[]string](t, ctx, `[...document.querySelectorAll("#handover_to option")].map(o => o.textContent)`)
	if len(opts) != 2 || opts[1] != "Nina North (Manager)" {
		t.Fatalf("recipients: %v", opts)
	}
	if why := eval[string](t, ctx, `document.querySelector("[data-testid=handover-left-out]").textContent`); !strings.Contains(why, "Nora Notifications") {
		t.Fatalf("why others are missing: %q", why)
	}
	shot(t, ctx, "deactivate-handover")
	nina := eval[string](t, ctx, `document.querySelectorAll("#handover_to option")[1].value`)
	must(t, ctx,
		chromedp.Click(chromedp.ID("handover-member")),
		chromedp.SetValue(chromedp.ID("handover_to"), nina),
		chromedp.Click(chromedp.CSS("[data-testid=confirm-deactivate]")),
		waitVisible(chromedp.CSS("[data-testid=reactivate]")),
	)
	if got := eval[string](t, ctx, `document.querySelector(".flash-ok").textContent`); !strings.Contains(got, "Vehicle access handed to Nina North: group North (manage)") {
		t.Fatalf("message: %q", got)
	}
}
