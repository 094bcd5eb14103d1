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
var a11yPages = []string{"/users", "/users/2", "/users/2/deactivate", "/users/5/deactivate", "/users/2/delete", "/users/invite", "/users/add", "/profile", "/audit", "/roles/3", "/roles/3/history",
	"/vehicles", "/vehicles/1", "/vehicles/1/edit", "/vehicles/new", "/groups", "/clients", "/clients/1", "/pairing", "/subscription", "/users/5/access", "/settings",
	"/settings/two-factor", "/profile/two-factor",
	"/trips", "/vehicles/1/trips", "/vehicles/1/trips/new", "/trips/1/edit", "/vehicles/1/recurring", "/exports"}

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

// checkAxe runs axe-core on the page the tab shows, with one step's budget.
func checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	sctx, cancel := stepContext(ctx)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Evaluate[bool](axeJS+";true")); err != nil {
		failStep(t, ctx, "inject axe into "+page, err)
	}
	raw, err := chromedp.Run(sctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "best-practice"]}).then(r => JSON.stringify(r))`, chromedp.EvalAwaitPromise))
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

// TestBrowserAccessibility runs axe-core on each page and checks that the
// page fits a phone's width without sideways scrolling. Each page is a
// subtest in a tab of its own (the logged-in owner's), with its own step
// budgets (open, check, narrow), so a slow page fails alone and by name;
// the page is loaded once and then narrowed to the phone's width in place.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	mustStep(t, ctx, "open /login", chromedp.Navigate(c.url+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/login")
	must(t, ctx, chromedp.Navigate(c.url+"/forgot"), chromedp.WaitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/forgot")
	logIn(t, ctx, c, "owner@demo.test")
	for _, p := range a11yPages {
		t.Run(strings.TrimPrefix(p, "/"), func(t *testing.T) {
			t.Parallel()
			ctx := newTab(t, ctx)
			mustStep(t, ctx, "open "+p+" at 1280px", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(c.url+p), chromedp.WaitVisible(chromedp.ID("main")))
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
