package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDashboardTotalsFollowScope: the demo Manager (region North)
// and the Owner each land on their dashboard after logging in; the
// Manager's totals are of their vehicles only, smaller than the Owner's,
// and each banner says what the totals are based on.
func TestBrowserDashboardTotalsFollowScope(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	type seen struct {
		banner string
		trips  int     // trips of this month and the last
		km     float64 // their distance
	}
	look := func(email string) seen {
		ctx := browser(t)
		logIn(t, ctx, c, email)
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/dashboard") {
			t.Fatalf("%s landed on %s", email, loc)
		}
		must(t, ctx, waitVisible(chromedp.CSS("[data-testid=dash-all]")))
		shot(t, ctx, "dashboard-"+strings.Split(email, "@")[0])
		var s seen
		s.banner = eval[string](t, ctx, `document.querySelector("[data-testid=scope-banner]").textContent.trim()`)
		for _, col := range []string{"this", "last"} {
			n, _ := strconv.Atoi(eval[string](t, ctx, `document.querySelector("[data-testid=dash-all] [data-testid=`+col+`-trips]").textContent`))
			km, _ := strconv.ParseFloat(eval[string](t, ctx, `document.querySelector("[data-testid=dash-all] [data-testid=`+col+`-km]").dataset.km`), 64)
			s.trips, s.km = s.trips+n, s.km+km
		}
		// The chart reads without colour: its bars carry their values as text.
		if desc := eval[string](t, ctx, `document.querySelector("[data-testid=chart-purpose] desc").textContent`); !strings.Contains(desc, "business") {
			t.Errorf("%s: chart description %q", email, desc)
		}
		return s
	}
	mgr, owner := look("manager@demo.test"), look("owner@demo.test")
	if !strings.HasPrefix(mgr.banner, "Based on the ") || !strings.Contains(mgr.banner, "vehicles you can access") {
		t.Errorf("manager banner: %q", mgr.banner)
	}
	if !strings.HasPrefix(owner.banner, "Based on all ") || !strings.Contains(owner.banner, "vehicles of the account") {
		t.Errorf("owner banner: %q", owner.banner)
	}
	if mgr.trips == 0 || owner.trips <= mgr.trips || owner.km <= mgr.km {
		t.Errorf("totals: manager %+v, owner %+v", mgr, owner)
	}
}
