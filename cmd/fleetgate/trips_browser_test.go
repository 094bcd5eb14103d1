package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTripFinalized: the demo Driver records a trip on their
// vehicle; the region's Manager sees it in the vehicle's monthly log and
// finalizes the month; the Driver can no longer change the trip.
func TestBrowserTripFinalized(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	month := time.Now().UTC().Format("2006-01")
	drv := browser(t)
	logIn(t, drv, c, "driver@demo.test")
	must(t, drv, chromedp.Navigate(c.url+"/vehicles/1/trips/new"), waitVisible(chromedp.CSS("[data-testid=trip-form]")))
	start, err := strconv.Atoi(eval[string](t, drv, `document.getElementById("trip-odo-start").value`))
	if err != nil || start <= 0 {
		t.Fatalf("suggested start odometer: %v", err)
	}
	must(t, drv,
		chromedp.SetValue(chromedp.ID("trip-odo-end"), strconv.Itoa(start+27)),
		chromedp.SendKeys(chromedp.ID("trip-start-place"), "Depot"),
		chromedp.SendKeys(chromedp.ID("trip-end-place"), "Harbor"),
		chromedp.SendKeys(chromedp.ID("trip-note"), "browser trip"),
	)
	shot(t, drv, "trip-record")
	must(t, drv, chromedp.Click(chromedp.CSS("[data-testid=trip-save]")), waitVisible(chromedp.CSS("[data-testid=trips-table]")))
	id := eval[string](t, drv, `[...document.querySelectorAll("[data-testid=trip-row]")].find(r => r.textContent.includes("browser trip"))?.dataset.tripId || ""`)
	if id == "" {
		t.Fatal("the recorded trip is not in the Driver's log")
	}

	// The Manager of the North region sees it and finalizes the month.
	mgr := newWindow(t, drv)
	logIn(t, mgr, c, "manager@demo.test")
	must(t, mgr, chromedp.Navigate(c.url+"/vehicles/1/trips?month="+month), waitVisible(chromedp.CSS("[data-testid=trips-table]")))
	row := eval[string](t, mgr, `document.querySelector("[data-trip-id='`+id+`']")?.textContent || ""`)
	if !strings.Contains(row, "Diego Driver") || !strings.Contains(row, "27 km") {
		t.Fatalf("manager's log row: %q", row)
	}
	eval[bool](t, mgr, "window.confirm = () => true; true")
	must(t, mgr, chromedp.Click(chromedp.CSS("[data-testid=month-finalize]")), waitVisible(chromedp.CSS("[data-testid=month-final]")))
	shot(t, mgr, "trip-month-finalized")

	// The Driver's log no longer offers to edit it, and a save is refused.
	must(t, drv, chromedp.Navigate(c.url+"/vehicles/1/trips?month="+month), waitVisible(chromedp.CSS("[data-testid=month-final]")))
	if n := eval[int](t, drv, `document.querySelectorAll("[data-trip-id='`+id+`'] [data-testid=trip-edit]").length`); n != 0 {
		t.Fatal("the finalized trip still offers an edit link")
	}
	must(t, drv, chromedp.Navigate(c.url+"/trips/"+id+"/edit"), waitVisible(chromedp.CSS("[data-testid=form-error]")))
	must(t, drv, chromedp.SetValue(chromedp.ID("trip-note"), "changed later"), chromedp.Click(chromedp.CSS("[data-testid=trip-save]")),
		waitVisible(chromedp.CSS("[data-testid=error-trip_date]")))
	if msg := eval[string](t, drv, `document.querySelector("[data-testid=error-trip_date]").textContent`); !strings.Contains(msg, "finalized") {
		t.Fatalf("refusal: %q", msg)
	}
	shot(t, drv, "trip-finalized-refused")
}
