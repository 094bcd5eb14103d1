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
		// Roles: the role list beside the matrix.
		{"/roles/3", ".roles", "gridTemplateColumns", "240px"},
	}
	for _, ck := range checks {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.HasSuffix(loc, ck.page) {
			must(t, ctx, chromedp.Navigate(c.url+ck.page), chromedp.WaitVisible(chromedp.ID("main")))
		}
		if got := style(ck.sel, ck.prop); !strings.Contains(got, ck.want) {
			t.Errorf("%s %s %s = %q, want %q", ck.page, ck.sel, ck.prop, got, ck.want)
		}
	}
}
