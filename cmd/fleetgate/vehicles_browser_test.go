package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserVehicleScopeAndPairing: the Owner gives the Manager one depot
// (instead of the North region of the demo); the Manager, logged in at
// another computer, then sees only that depot's vehicles; pairing a
// vehicle with a client saves in place and is still there after reload.
func TestBrowserVehicleScopeAndPairing(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	owner := browser(t)
	logIn(t, owner, c, "owner@demo.test")

	// From "who can see this vehicle?" to the Manager's access editor.
	must(t, owner, chromedp.Navigate(c.url+"/vehicles/1/members"), waitVisible(chromedp.CSS("[data-testid=vehicle-members]")))
	shot(t, owner, "vehicle-members")
	href := eval[string](t, owner, `[...document.querySelectorAll("[data-testid=vehicle-member] a")].find(a => a.textContent === "Maria Manager").getAttribute("href")`)
	must(t, owner,
		chromedp.Click(chromedp.CSS(`[data-testid=vehicle-member] a[href="`+href+`"]`)),
		waitVisible(chromedp.CSS("[data-testid=access-visible]")),
	)
	if title := eval[string](t, owner, `document.querySelector("h1").textContent`); title != "Vehicle access of Maria Manager" {
		t.Fatalf("editor title: %q", title)
	}
	if got := rowCount(t, owner, "[data-testid=grant-row]"); got != 1 {
		t.Fatalf("manager's grants: %d", got)
	}
	// Take North away (confirming the question), then give the Austin depot.
	eval[bool](t, owner, "window.confirm = () => true; true")
	must(t, owner,
		chromedp.Click(chromedp.CSS("[data-testid=grant-remove]")),
		waitVisible(chromedp.CSS("[data-testid=no-grants]")),
	)
	austin := eval[string](t, owner, `[...document.querySelectorAll("#grant-group option")].find(o => o.textContent.trim() === "Austin").value`)
	must(t, owner,
		chromedp.SetValue(chromedp.ID("grant-group"), austin),
		chromedp.SetValue(chromedp.ID("level-new-group"), "manage"),
		chromedp.Click(chromedp.CSS("[data-testid=grant-group-add]")),
		waitVisible(chromedp.CSS("[data-testid=grant-row]")),
	)
	if got := eval[string](t, owner, `document.querySelector("[data-testid=grant-row]").textContent`); !strings.Contains(got, "South › Austin") || !strings.Contains(got, "manage") {
		t.Fatalf("grant row: %q", got)
	}
	shot(t, owner, "access-editor")

	// The Manager, in a separate browser context, sees Austin's vehicles only.
	mgr := newWindow(t, owner)
	logIn(t, mgr, c, "manager@demo.test")
	must(t, mgr, chromedp.Navigate(c.url+"/vehicles"), waitVisible(chromedp.CSS("[data-testid=vehicles-table]")))
	if n := rowCount(t, mgr, "[data-testid=vehicle-row]"); n != 9 {
		t.Fatalf("manager sees %d vehicles", n)
	}
	groups := eval[[]string](t, mgr, `[...document.querySelectorAll("[data-testid=vehicle-row] td[data-label=Group]")].map(td => td.textContent.trim())`)
	for _, g := range groups {
		if g != "Austin" {
			t.Fatalf("manager sees a vehicle of %s", g)
		}
	}
	shot(t, mgr, "manager-vehicles")

	// Pair the first vehicle with a client it is not paired with, in place.
	must(t, mgr, chromedp.Navigate(c.url+"/pairing"), waitVisible(chromedp.CSS("[data-testid=pairing-table]")))
	eval[bool](t, mgr, "window.__noReload = true")
	cell := eval[string](t, mgr, `document.querySelector("[data-testid=pair-toggle]:not(:has(input:checked))").id`)
	vehicle := strings.Split(cell, "-")[1]
	before := eval[string](t, mgr, `document.getElementById("pair-count-`+vehicle+`").textContent`)
	must(t, mgr, chromedp.Click(chromedp.CSS("#"+cell+" input[type=checkbox]")))
	waitFor(t, mgr, `document.querySelector("#`+cell+` input[type=checkbox]").checked && document.getElementById("pair-count-`+vehicle+`").textContent !== `+jsString(before))
	// Wait for the answer to have replaced the form (the request is done).
	waitFor(t, mgr, `!document.querySelector("#`+cell+`").classList.contains("htmx-request")`)
	// The box says it was saved.
	waitFor(t, mgr, `(document.querySelector("#`+cell+` [data-testid=pair-saved]")?.textContent || "").startsWith("Saved")`)
	if !eval[bool](t, mgr, "window.__noReload === true") {
		t.Fatal("the page reloaded")
	}
	shot(t, mgr, "pairing")
	must(t, mgr, chromedp.Reload(), waitVisible(chromedp.CSS("[data-testid=pairing-table]")))
	if !eval[bool](t, mgr, `document.querySelector("#`+cell+` input[type=checkbox]").checked`) {
		t.Fatal("pairing not kept after reload")
	}
	if got := eval[string](t, mgr, `document.getElementById("pair-count-`+vehicle+`").textContent`); got == before {
		t.Fatalf("pair count unchanged after reload: %q", got)
	}
}

func jsString(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
