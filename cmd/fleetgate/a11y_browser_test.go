package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core 4.14.1 (npm package axe-core, MPL-2.0, see testdata/axe-LICENSE.txt),
// used only by this test.
//
//go:embed testdata/axe.min.js
var axeJS string

// a11yPages are the console pages checked with axe and at phone width.
var a11yPages = []string{"/users", "/users/2", "/users/2/deactivate", "/users/5/deactivate", "/users/2/delete", "/users/invite", "/users/add", "/profile", "/audit", "/outbox", "/roles/3", "/roles/3/history",
	"/vehicles", "/vehicles/1", "/vehicles/1/edit", "/vehicles/new", "/groups", "/clients", "/clients/1", "/pairing", "/subscription", "/users/5/access", "/settings",
	"/settings/two-factor", "/profile/two-factor",
	"/trips", "/vehicles/1/trips", "/vehicles/1/trips/new", "/trips/1/edit", "/vehicles/1/recurring", "/exports",
	"/dashboard", "/reports", "/reports?from=2026-13-01", "/my"}

type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
}

// axeRun runs axe-core's rules of WCAG 2 A/AA and its best practices on the
// document, asking for the violations only: their nodes are all we report,
// and listing every passing node of every rule (axe's default) costs more
// than the checks themselves.
const axeRun = `axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "best-practice"], resultTypes: ["violations"]}).then(r => JSON.stringify({violations: r.violations}))`

// checkAxe runs axe-core on the page the tab shows, with one step's budget.
// axe is injected into a document only once: a later state of the same
// document (changed in place) is checked without injecting it again.
func checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	sctx, cancel := stepContext(ctx)
	defer cancel()
	has, err := chromedp.Run(sctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err == nil && !has {
		_, err = chromedp.Run(sctx, chromedp.Evaluate[bool](axeJS+";true"))
	}
	if err != nil {
		failStep(t, ctx, "inject axe into "+page, err)
	}
	raw, err := chromedp.Run(sctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		failStep(t, ctx, "axe on "+page, err)
	}
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// sweepTabs is how many tabs of the logged-in owner the accessibility
// sweep checks its pages in: as many as tests run at once by default on
// the 2-core machines this runs on. A tab is reused from page to page
// rather than opened per page (each new tab costs a renderer process).
const sweepTabs = 2

// TestBrowserAccessibility runs axe-core on each page and checks that the
// page fits a phone's width without sideways scrolling. Each page is a
// subtest, in one of a few tabs of the logged-in owner, with its own step
// budgets (open, check, narrow), so a slow page fails alone and by name;
// the page is loaded once and then narrowed to the phone's width in place.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	mustStep(t, ctx, "open /login", chromedp.Navigate(c.url+"/login"), waitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/login")
	must(t, ctx, chromedp.Navigate(c.url+"/forgot"), waitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/forgot")
	logIn(t, ctx, c, "owner@demo.test")
	tabs := make(chan context.Context, sweepTabs)
	tabs <- ctx
	for range sweepTabs - 1 {
		tabs <- newTab(t, ctx)
	}
	for _, p := range a11yPages {
		t.Run(strings.TrimPrefix(p, "/"), func(t *testing.T) {
			t.Parallel()
			tab := <-tabs
			defer func() { tabs <- tab }()
			// The page's budget counts from now: a parallel subtest may
			// start long after the tabs were opened.
			ctx := withTestBudget(tab)
			mustStep(t, ctx, "open "+p+" at 1280px", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(c.url+p), waitVisible(chromedp.ID("main")))
			checkAxe(t, ctx, p)
			mustStep(t, ctx, "narrow "+p+" to 375px", chromedp.EmulateViewport(375, 800))
			overflow := eval[int](t, ctx, "document.documentElement.scrollWidth - window.innerWidth")
			if overflow > 0 {
				t.Errorf("%s at 375px: %dpx of sideways scrolling", p, overflow)
			}
			shot(t, ctx, "phone"+strings.ReplaceAll(p, "/", "_"))
		})
	}
}
