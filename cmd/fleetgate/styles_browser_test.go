package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDesktopStyles checks computed styles at desktop width on the
// screens whose rules sit late in static/app.css: a rule block left open
// (an unclosed @media) makes them apply only on phones, and this fails.
func TestBrowserDesktopStyles(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")
	must(t, ctx, chromedp.EmulateViewport(1280, 800))
	style := func(sel, prop string) string {
		t.Helper()
		return eval[string](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? getComputedStyle(e)[%q] : "missing: " + %q })()`, sel, prop, sel))
	}
	checks := []struct {
		page, sel, prop, want string
	}{
		// The vehicle list: VINs in a monospaced face.
		{"/vehicles", "[data-testid=vehicles-table] td.mono", "fontFamily", "monospace"},
		// The group tree is indented by depth.
		{"/groups", "[data-testid=groups-table] td.depth-1", "paddingLeft", "32px"},
		// The pairing grid: a count on its own line under the vehicle, headers shown.
		{"/pairing", "[data-testid=pairing-table] .pair-count", "display", "block"},
		{"/pairing", "[data-testid=pairing-table] thead", "position", "static"},
		{"/pairing", "[data-testid=pairing-table] tbody th", "textAlign", "left"},
		// Headers stay in view while the grid scrolls; boxes are 24 px targets.
		{"/pairing", "[data-testid=pairing-table] thead th", "position", "sticky"},
		{"/pairing", "[data-testid=pairing-table] tbody th", "position", "sticky"},
		{"/pairing", "[data-testid=pair-box]", "width", "24px"},
		{"/pairing", "[data-testid=pair-box]", "height", "24px"},
		// Tables are tables at desktop width (not the stacked cards of phones).
		{"/users", "[data-testid=user-row]", "display", "table-row"},
		// Plates and odometer readings do not wrap.
		{"/vehicles", "[data-testid=vehicles-table] td[data-label=Plate]", "whiteSpace", "nowrap"},
		{"/vehicles", "[data-testid=vehicles-table] td[data-label=Odometer]", "whiteSpace", "nowrap"},
		// Roles: the role list beside the matrix.
		{"/roles/3", ".roles", "gridTemplateColumns", "240px"},
	}
	for _, ck := range checks {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.HasSuffix(loc, ck.page) {
			must(t, ctx, chromedp.Navigate(c.url+ck.page), waitVisible(chromedp.ID("main")))
		}
		if got := style(ck.sel, ck.prop); !strings.Contains(got, ck.want) {
			t.Errorf("%s %s %s = %q, want %q", ck.page, ck.sel, ck.prop, got, ck.want)
		}
	}
}

// TestBrowserPhoneNavigationAndScreenshots: at phone width every section
// of the navigation is in sight (no hidden sideways scroll); and the Users,
// Roles, Pairing and member pages are photographed at 1280 and 375 px when
// FLEETGATE_SCREENSHOTS names a folder.
func TestBrowserPhoneNavigationAndScreenshots(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")
	pages := []struct{ name, path string }{{"users", "/users"}, {"roles", "/roles/3"}, {"pairing", "/pairing"}, {"member", "/users/3"}}
	for _, width := range []int64{1280, 375} {
		must(t, ctx, chromedp.EmulateViewport(width, 800))
		for _, p := range pages {
			must(t, ctx, chromedp.Navigate(c.url+p.path), waitVisible(chromedp.ID("main")))
			if width == 375 {
				if hidden := eval[int](t, ctx, `(() => { const u = document.querySelector("nav.side ul"); return u.scrollWidth - u.clientWidth })()`); hidden > 0 {
					t.Errorf("%s at 375 px: %d px of the navigation out of sight", p.path, hidden)
				}
				if over := eval[int](t, ctx, "document.documentElement.scrollWidth - window.innerWidth"); over > 0 {
					t.Errorf("%s at 375 px: %d px of sideways scrolling", p.path, over)
				}
			}
			shot(t, ctx, fmt.Sprintf("%s-%d", p.name, width))
		}
	}
	// The browser's own request for the icon is answered.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/favicon.ico").then(r => r.status + " " + r.headers.get("content-type"))`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(got, "200 image/svg") {
		t.Errorf("favicon: %q %v", got, err)
	}
}
