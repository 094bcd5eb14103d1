package main

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// dialogs answers the page's confirm() questions: it records each message
// and accepts or dismisses as told.
type roleDialogs struct {
	accept atomic.Bool
	mu     sync.Mutex
	seen   []string
}

func (d *roleDialogs) messages() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.seen...)
}

// waitFor waits until n questions were asked.
func (d *roleDialogs) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(stepBudget)
	for len(d.messages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for question %d; asked %q", n, d.messages())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func answerRoleDialogs(t *testing.T, ctx context.Context) *roleDialogs {
	d := &roleDialogs{}
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			d.mu.Lock()
			if ev.Type == page.DialogTypeBeforeunload {
				d.seen = append(d.seen, "beforeunload")
			} else {
				d.seen = append(d.seen, ev.Message)
			}
			d.mu.Unlock()
			accept := d.accept.Load()
			go func() {
				_, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
				if err != nil && ctx.Err() == nil {
					t.Errorf("answer dialog: %v", err)
				}
			}()
		}
	}()
	return d
}

func roleChecked(t *testing.T, ctx context.Context, id string) bool {
	t.Helper()
	return eval[bool](t, ctx, `document.getElementById("`+id+`").checked`)
}

// roleLink selects the role list's link to the named role.
func roleLink(t *testing.T, ctx context.Context, name string) chromedp.CSS {
	t.Helper()
	href := eval[string](t, ctx, `[...document.querySelectorAll("[data-testid=role-link]")]
		.find(a => a.querySelector(".role-name").textContent === "`+name+`")?.getAttribute("href") || ""`)
	if href == "" {
		t.Fatalf("no role %s in the list", name)
	}
	return chromedp.CSS(`[data-testid=role-link][href="` + href + `"]`)
}

func roleText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, `(document.querySelector("`+sel+`") || {}).textContent || ""`)
}

// The Owner creates a custom role, opens it from the role list, toggles a
// permission (its requirement follows), sees Save enable, reviews the
// impact, saves, reloads and finds it kept; then switches role with an
// unsaved change and is asked first.
func TestBrowserRolesMatrix(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	ctx := browser(t)
	dlg := answerRoleDialogs(t, ctx)
	dlg.accept.Store(true) // an unexpected question must fail below, not hang the test
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dialogs seen: %q", dlg.messages())
		}
	})
	logIn(t, ctx, c, "owner@demo.test")

	// /roles opens the first role, the Owner's, read-only.
	must(t, ctx, chromedp.Navigate(c.url+"/roles"), waitVisible(chromedp.ID("role-panel")))
	if note := roleText(t, ctx, "[data-testid=readonly-note]"); !strings.Contains(note, "always holds every permission") {
		t.Fatalf("owner note %q", note)
	}

	// New role, copying the Driver role.
	must(t, ctx,
		chromedp.Click(chromedp.CSS("[data-testid=new-role]")),
		waitVisible(chromedp.ID("new-role-name")),
		chromedp.SendKeys(chromedp.ID("new-role-name"), "Dispatch"),
	)
	eval[bool](t, ctx, `(() => { const s = document.getElementById("new-role-copy");
		s.value = [...s.options].find(o => o.text === "Driver").value; return true })()`)
	shot(t, ctx, "roles-new-dialog")
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=create-role]")))
	waitFor(t, ctx, `document.querySelector("[data-testid=role-title]")?.textContent === "Dispatch"`)
	dispatchURL := eval[string](t, ctx, "location.pathname")

	// Open another role and then the custom one from the list: the matrix
	// is swapped in place and the address follows.
	eval[bool](t, ctx, "window.__noReload = true")
	must(t, ctx, chromedp.Click(roleLink(t, ctx, "Owner")))
	waitFor(t, ctx, `document.querySelector("[data-testid=role-title]").textContent === "Owner"`)
	must(t, ctx, chromedp.Click(roleLink(t, ctx, "Dispatch")))
	waitFor(t, ctx, `document.querySelector("[data-testid=role-title]").textContent === "Dispatch"`)
	if eval[string](t, ctx, "location.pathname") != dispatchURL || !eval[bool](t, ctx, "window.__noReload === true") {
		t.Fatal("the role list did not swap the matrix in place")
	}
	waitFor(t, ctx, `document.querySelector("[data-testid=role-link][aria-current=page] .role-name")?.textContent === "Dispatch"`)
	if !eval[bool](t, ctx, `document.querySelector("[data-testid=save]").disabled`) {
		t.Fatal("Save enabled before any change")
	}

	// Export reports needs View reports: both come on, and the page says so.
	must(t, ctx, chromedp.Click(chromedp.ID("perm-reports-export")))
	if !roleChecked(t, ctx, "perm-reports-export") || !roleChecked(t, ctx, "perm-reports-view") {
		t.Fatal("requirement not turned on")
	}
	if line := roleText(t, ctx, "#role-changes"); line != "Also turned on: View dashboard and reports (needed by Export reports)." {
		t.Fatalf("closure line %q", line)
	}
	if eval[bool](t, ctx, `document.querySelector("[data-testid=save]").disabled`) || eval[bool](t, ctx, `document.querySelector("[data-testid=dirty]").hidden`) {
		t.Fatal("Save not enabled / no unsaved marker after a change")
	}
	// Turning View trips off turns off Record trips and hides its scopes;
	// turning both back on restores them.
	must(t, ctx, chromedp.Click(chromedp.ID("perm-trips-view")))
	if roleChecked(t, ctx, "perm-trips-record") || !eval[bool](t, ctx, `document.querySelector('[data-scopes-for="trips.view"]').hidden`) {
		t.Fatal("dependent not turned off or scopes still shown")
	}
	if line := roleText(t, ctx, "#role-changes"); line != "Also turned off: Record trips (they need View trips)." {
		t.Fatalf("closure line %q", line)
	}
	// By keyboard: focus the switch and press space.
	must(t, ctx, chromedp.Focus(chromedp.ID("perm-trips-view")), chromedp.KeyEvent(" "))
	must(t, ctx, chromedp.Click(chromedp.ID("perm-trips-record")))
	if !roleChecked(t, ctx, "perm-trips-view") || !roleChecked(t, ctx, "scope-trips-view-own-only") ||
		eval[bool](t, ctx, `document.querySelector('[data-scopes-for="trips.view"]').hidden`) {
		t.Fatal("View trips and its scopes not back")
	}
	shot(t, ctx, "roles-dirty")

	// Save shows the impact first; Confirm saves.
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=save]")))
	waitFor(t, ctx, `!!document.querySelector("[data-testid=impact-gain]")`)
	if got := roleText(t, ctx, "[data-testid=impact-gain]"); got != "Gain: View dashboard and reports, Export reports" {
		t.Fatalf("impact %q", got)
	}
	// While confirming, Confirm save is the only Save in sight.
	if eval[bool](t, ctx, `getComputedStyle(document.querySelector("[data-testid=save]")).display !== "none"`) {
		t.Fatal("the second Save is still shown while confirming")
	}
	shot(t, ctx, "roles-review")
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=confirm-save]")))
	waitFor(t, ctx, `(document.querySelector("[data-testid=role-message]")?.textContent || "").includes("Saved Dispatch as version 2")`)
	// The outcome shows where the person is, and the keyboard focus is on it.
	waitFor(t, ctx, `document.activeElement === document.querySelector("[data-testid=role-message]")`)
	if top := eval[float64](t, ctx, `document.querySelector("[data-testid=role-message]").getBoundingClientRect().top`); top < 0 || top > eval[float64](t, ctx, "window.innerHeight") {
		t.Fatalf("the save's outcome is out of sight: top %.0f px", top)
	}
	shot(t, ctx, "roles-saved")
	if !eval[bool](t, ctx, `document.querySelector("[data-testid=save]").disabled`) || !eval[bool](t, ctx, `document.querySelector("[data-testid=dirty]").hidden`) {
		t.Fatal("Save still enabled after saving")
	}
	must(t, ctx, chromedp.Reload(), waitVisible(chromedp.ID("role-panel")))
	if m := dlg.messages(); len(m) != 0 {
		t.Fatalf("asked %q with nothing unsaved", m)
	}
	if !roleChecked(t, ctx, "perm-reports-export") || !roleChecked(t, ctx, "perm-reports-view") || !roleChecked(t, ctx, "perm-trips-record") {
		t.Fatal("the save was not kept")
	}

	// An unsaved change, then another role: the page asks first.
	must(t, ctx, chromedp.Click(chromedp.ID("perm-audit-view")))
	dlg.accept.Store(false)
	driver := roleLink(t, ctx, "Driver")
	must(t, ctx, chromedp.Click(driver))
	msgs := dlg.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "unsaved changes to Dispatch") {
		t.Fatalf("confirmations %q", msgs)
	}
	if roleText(t, ctx, "[data-testid=role-title]") != "Dispatch" || !roleChecked(t, ctx, "perm-audit-view") {
		t.Fatal("dismissing the question still left the role")
	}
	dlg.accept.Store(true)
	must(t, ctx, chromedp.Click(driver))
	waitFor(t, ctx, `document.querySelector("[data-testid=role-title]").textContent === "Driver"`)
	if len(dlg.messages()) != 2 || !strings.HasSuffix(string(driver), `"`+eval[string](t, ctx, "location.pathname")+`"]`) {
		t.Fatalf("after accepting: %q at %s", dlg.messages(), eval[string](t, ctx, "location.pathname"))
	}

	// Going back with an unsaved change asks too; declining keeps it all.
	must(t, ctx, chromedp.Click(chromedp.ID("perm-audit-view")))
	driverPath := eval[string](t, ctx, "location.pathname")
	dlg.accept.Store(false)
	eval[bool](t, ctx, "history.back(), true")
	dlg.waitFor(t, 3)
	waitFor(t, ctx, `location.pathname === "`+driverPath+`"`)
	if m := dlg.messages(); len(m) != 3 || !strings.Contains(m[2], "unsaved changes to Driver") {
		t.Fatalf("going back: %q", m)
	}
	if roleText(t, ctx, "[data-testid=role-title]") != "Driver" || !roleChecked(t, ctx, "perm-audit-view") {
		t.Fatal("going back lost the unsaved change")
	}
	dlg.accept.Store(true)

	// History: the saved version beside the first, restored after a question.
	must(t, ctx, chromedp.Navigate(c.url+dispatchURL+"/history"), waitVisible(chromedp.CSS("[data-testid=history-table]")))
	if n := rowCount(t, ctx, "[data-testid=version-row]"); n != 2 {
		t.Fatalf("history rows: %d", n)
	}
	shot(t, ctx, "roles-history")
	must(t, ctx, chromedp.Navigate(c.url+dispatchURL+"/history/1"), waitVisible(chromedp.CSS("[data-testid=compare-table]")))
	if n := rowCount(t, ctx, "[data-testid=differs]"); n != 2 {
		t.Fatalf("differing rows: %d", n)
	}
	shot(t, ctx, "roles-version")
	must(t, ctx, chromedp.Click(chromedp.CSS("[data-testid=restore]")), waitVisible(chromedp.ID("role-panel")))
	if roleChecked(t, ctx, "perm-reports-export") || !strings.Contains(roleText(t, ctx, ".flash-ok"), "Restored version 1 of Dispatch as version 3") {
		t.Fatalf("restore: %q", roleText(t, ctx, ".flash-ok"))
	}
	if m := dlg.messages(); !strings.HasPrefix(m[len(m)-1], "Restore version 1 of Dispatch?") {
		t.Fatalf("restore question %q", m[len(m)-1])
	}

	// At phone width the role list stacks above the matrix.
	must(t, ctx, chromedp.EmulateViewport(390, 844))
	if !eval[bool](t, ctx, `document.querySelector(".role-list").getBoundingClientRect().bottom <= document.getElementById("role-panel").getBoundingClientRect().top`) {
		t.Fatal("role list not above the matrix at phone width")
	}
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Fatal("the page scrolls sideways at phone width")
	}
	shot(t, ctx, "roles-phone")

	// Leaving the page with an unsaved change asks too.
	must(t, ctx, chromedp.Click(chromedp.ID("perm-billing-view")))
	n := len(dlg.messages())
	must(t, ctx, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.ID("users-q")))
	if m := dlg.messages(); len(m) != n+1 || m[n] != "beforeunload" {
		t.Fatalf("leaving with unsaved changes: %q", m)
	}
}
