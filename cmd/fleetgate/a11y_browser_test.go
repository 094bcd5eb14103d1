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
	"/trips", "/vehicles/1/trips", "/vehicles/1/trips/new", "/trips/1/edit", "/vehicles/1/recurring"}

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

func checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeJS+";true")); err != nil {
		t.Fatalf("inject axe: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "best-practice"]}).then(r => JSON.stringify(r))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
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
// page fits a phone's width without sideways scrolling.
func TestBrowserAccessibility(t *testing.T) {
	c := startConsole(t)
	ctx := browser(t)
	must(t, ctx, chromedp.Navigate(c.url+"/login"), chromedp.WaitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/login")
	must(t, ctx, chromedp.Navigate(c.url+"/forgot"), chromedp.WaitVisible(chromedp.ID("email")))
	checkAxe(t, ctx, "/forgot")
	logIn(t, ctx, c, "owner@demo.test")
	for _, width := range []int64{1280, 375} {
		must(t, ctx, chromedp.EmulateViewport(width, 800))
		for _, p := range a11yPages {
			must(t, ctx, chromedp.Navigate(c.url+p), chromedp.WaitVisible(chromedp.ID("main")))
			if width == 1280 {
				checkAxe(t, ctx, p)
				continue
			}
			overflow := eval[int](t, ctx, "document.documentElement.scrollWidth - window.innerWidth")
			if overflow > 0 {
				t.Errorf("%s at %dpx: %dpx of sideways scrolling", p, width, overflow)
			}
			shot(t, ctx, "phone"+strings.ReplaceAll(p, "/", "_"))
		}
	}
}
