package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromePath finds Chromium: $CHROME_PATH, then chromium on PATH (Debian's
// real binary behind its wrapper script when present). `make test` sets
// CHROME_PATH to Debian's chromium-headless-shell when it is installed:
// Chromium's headless mode made for automation, without the browser's
// window layer, runs the same pages and tests on about half the CPU of
// chromium --headless (measured on the browser tests: 68 against 131 CPU
// seconds of Chromium processes).
func chromePath() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	if _, err := exec.LookPath("chromium"); err == nil {
		if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
			return "/usr/lib/chromium/chromium"
		}
		p, _ := exec.LookPath("chromium")
		return p
	}
	return ""
}

// console is the real binary's run() serving a temp database with the demo
// account on a free loopback port.
type console struct {
	url string
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startConsole(t *testing.T) *console { t.Helper(); return startConsoleWith(t, "--demo") }

// startConsoleWith serves a fresh temp database with extra serve flags
// (none: no account at all, as at a real first start).
func startConsoleWith(t *testing.T, extra ...string) *console {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	// With --demo, a copy of the demo database built once for the package;
	// without, an empty one (a real first start).
	path := filepath.Join(t.TempDir(), "e2e.db")
	if slices.Contains(extra, "--demo") {
		path = demoDB.Path(t)
	}
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--db", path}, extra...), out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	c := &console{url: "http://" + addr, out: out}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(c.url + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start:\n%s", out)
	return nil
}

// Time budgets of the browser tests. Each test has its own tab with a
// budget of its own, and each step within it (a must, eval or waitFor call,
// or one page of the accessibility check) has a shorter one, so that a stuck
// step fails soon and names itself instead of eating the whole run.
const (
	testBudget = 5 * time.Minute
	stepBudget = time.Minute
)

// chrome is the one headless Chromium of this test binary, started by the
// first browser test and closed by TestMain.
var chrome struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; tests open their own
	cancel func()
	dir    string
	err    error
}

const (
	chromiumHint = "no Chromium found; install with `apt-get install chromium` (and chromium-headless-shell, which make test prefers) or set CHROME_PATH"
	noChromium   = "browser tests skipped: " + chromiumHint
)

func startChrome() {
	path := chromePath()
	if path == "" {
		chrome.err = errors.New("no Chromium found ($CHROME_PATH or chromium on PATH)")
		return
	}
	chrome.dir, chrome.err = os.MkdirTemp("", "fleetgate-chromium-")
	if chrome.err != nil {
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		// Work a test never looks at: background services and their
		// components, audio, and images (the console shows none; the
		// favicon test fetches it itself). chromedp's own list disables
		// Translate and BlinkGenPropertyTrees; this flag replaces it.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,DialMediaRouteProvider,"+
			"CertificateTransparencyComponentUpdater,AutofillServerCommunication,Prerender2"),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("blink-settings", "imagesEnabled=false"),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(chrome.dir),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	chrome.ctx = ctx
	chrome.cancel = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(chrome.dir) }
	start, cancelStart := context.WithTimeout(context.Background(), stepBudget)
	defer cancelStart()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }() // start the browser now
	select {
	case chrome.err = <-done:
	case <-start.Done():
		chrome.err = fmt.Errorf("Chromium did not start within %s", stepBudget)
	}
	if chrome.err != nil {
		chrome.err = fmt.Errorf("start chromium %s: %w", path, chrome.err)
	}
}

// stopChrome closes the shared browser, if a test started it.
func stopChrome() {
	if chrome.cancel != nil {
		chrome.cancel()
	}
}

// browser opens a tab of its own for the test, in a browser context of its
// own (its own cookies), on the shared Chromium. It skips the test when
// there is no Chromium (failing instead when FLEETGATE_E2E=required).
func browser(t *testing.T) context.Context {
	t.Helper()
	if chromePath() == "" {
		if os.Getenv("FLEETGATE_E2E") == "required" {
			t.Fatal("FLEETGATE_E2E=required but " + chromiumHint)
		}
		t.Skip(noChromium)
	}
	chrome.once.Do(startChrome)
	if chrome.err != nil {
		t.Fatal(chrome.err)
	}
	return newWindow(t, chrome.ctx)
}

// newWindow opens a separate browser context (its own cookies) in a new
// tab: another person at another computer. It has the test's budget.
func newWindow(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(withTestBudget(parent), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first action creates the tab; it must run on the tab's own
	// context, which the tab lives as long as.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// newTab opens another tab in the same browser context as parent (same
// cookies: the same person, logged in), closed when the test ends. Its
// budget is its own, not what is left of parent's: a parallel subtest may
// start late.
func newTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(withTestBudget(parent))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

type testDeadlineKey struct{}

// withTestBudget gives the tabs made from ctx a test budget from now. It is
// a deadline that steps respect, not one on the tab's context: when that
// expires, chromedp closes the tab and the browser context it owns (with
// the tabs of parallel subtests in it), which would fail them mid-step
// with "target closed" instead of a timeout.
func withTestBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, testDeadlineKey{}, time.Now().Add(testBudget))
}

// stepContext is ctx with one step's budget, within the test's budget.
func stepContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(stepBudget)
	if d, ok := ctx.Value(testDeadlineKey{}).(time.Time); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(ctx, deadline)
}

// failStep fails the test for a step that went wrong, naming the step (the
// caller's line, or the name given) and the page the tab was on.
func failStep(t *testing.T, ctx context.Context, step string, err error) {
	t.Helper()
	msg := fmt.Sprintf("step %s on page %s: %v", step, pageOf(ctx), err)
	if errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (timed out: a step has %s, a test %s)", stepBudget, testBudget)
	}
	t.Fatal(msg)
}

// pageOf is the tab's current address. It asks the browser, not the page
// (whose script may be the thing that is stuck), with a short budget of its
// own (the step's may be spent).
func pageOf(ctx context.Context) string {
	c := chromedp.FromContext(ctx)
	if c == nil || c.Target == nil {
		return "(no tab)"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	for _, ti := range targets {
		if ti.TargetID == c.Target.TargetID {
			if u, err := url.Parse(ti.URL); err == nil && u.Host != "" {
				return u.RequestURI()
			}
			return ti.URL
		}
	}
	return "(tab closed)"
}

// caller names a step by the test's source line that ran it.
func caller(skip int) string {
	_, file, line, ok := runtime.Caller(skip + 1)
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%s:%d", filepath.Base(file), line)
}

// must runs browser steps with one step's budget; on failure it names the
// calling line and the page.
func must(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	mustStep(t, ctx, "at "+caller(1), steps...)
}

// mustStep is must with a name for the step.
func mustStep(t *testing.T, ctx context.Context, name string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := stepContext(ctx)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		failStep(t, ctx, fmt.Sprintf("%q", name), err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := stepContext(ctx)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	if err != nil {
		failStep(t, ctx, fmt.Sprintf("at %s evaluating %s", caller(1), js), err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	sctx, cancel := stepContext(ctx)
	defer cancel()
	for {
		if ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		select {
		case <-sctx.Done():
			failStep(t, ctx, fmt.Sprintf("at %s waiting for %s", caller(1), js), sctx.Err())
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitPoll is how often waitVisible looks again. chromedp's own default
// (5 ms) costs a round trip to the browser each time, which adds up, under
// -race, while a form's answer is on its way.
const waitPoll = 20 * time.Millisecond

// waitVisible waits until sel is in the page and visible.
func waitVisible[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(sel, chromedp.RetryInterval(waitPoll))
}

// logIn logs in through the login form and lands where a login without a
// destination does (the dashboard). It fills the fields in one step each
// rather than key by key; the tests that type as a person does (a refused
// login, two-factor, a revoked member) send keys themselves.
func logIn(t *testing.T, ctx context.Context, c *console, email string) {
	t.Helper()
	mustStep(t, ctx, "log in as "+email, logInSteps(c.url+"/login", email)...)
}

// logInTo logs in through the login form with its next parameter (as the
// console's redirect to the login page sets it), straight to path, and
// waits until ready (a CSS selector) shows there: a test that needs
// another page does not pay for rendering the dashboard first.
func logInTo(t *testing.T, ctx context.Context, c *console, email, path, ready string) {
	t.Helper()
	steps := append(logInSteps(c.url+"/login?next="+url.QueryEscape(path), email), waitVisible(chromedp.CSS(ready)))
	mustStep(t, ctx, "log in as "+email+" to "+path, steps...)
	// path, or where it redirects to below it (/roles opens /roles/1).
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, c.url+path) {
		t.Fatalf("log in as %s to %s: landed on %s (%v)", email, path, loc, err)
	}
}

// logInSteps fill and send the login form at loginURL; they end once a
// page of the console (with its navigation) shows.
func logInSteps(loginURL, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(loginURL),
		waitVisible(chromedp.ID("email")),
		chromedp.SetValue(chromedp.ID("email"), email),
		chromedp.SetValue(chromedp.ID("password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		waitVisible(chromedp.CSS("nav.side")),
	}
}

func rowCount(t *testing.T, ctx context.Context, sel string) int {
	return eval[int](t, ctx, fmt.Sprintf("document.querySelectorAll(%q).length", sel))
}

func TestBrowserLoginSearchLogout(t *testing.T) {
	t.Parallel()
	c := startConsole(t)
	if !strings.Contains(c.out.String(), "owner@demo.test") {
		t.Fatalf("demo logins not printed:\n%s", c.out)
	}
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/dashboard") {
		t.Fatalf("landed on %s", loc)
	}
	must(t, ctx, chromedp.Click(chromedp.CSS(`nav.side a[href="/users"]`)), waitVisible(chromedp.ID("users-q")))
	if n := rowCount(t, ctx, "[data-testid=user-row]"); n != 6 {
		t.Fatalf("users rows: %d", n)
	}
	shot(t, ctx, "users")
	// Typing narrows the table in place: the page is not reloaded (the
	// marker survives) and the address bar keeps the search.
	eval[bool](t, ctx, "window.__noReload = true")
	must(t, ctx, chromedp.SendKeys(chromedp.ID("users-q"), "accoun"))
	// htmx swaps the table for each keystroke's answer and pushes the
	// address after the swap: wait for the last word's table and address.
	waitFor(t, ctx, `document.querySelectorAll("[data-testid=user-row]").length === 1 && location.search.includes("q=accoun")`)
	if !eval[bool](t, ctx, "window.__noReload === true") {
		t.Fatal("the page reloaded")
	}
	got := eval[string](t, ctx, `document.querySelector("[data-testid=user-row] td[data-label=E-mail]").textContent`)
	if got != "accountant@demo.test" {
		t.Fatalf("row: %q", got)
	}
	// Reload keeps the search.
	must(t, ctx, chromedp.Reload(), waitVisible(chromedp.ID("users-q")))
	if n := rowCount(t, ctx, "[data-testid=user-row]"); n != 1 {
		t.Fatalf("after reload: %d rows", n)
	}
	// Log out from the user menu.
	must(t, ctx,
		chromedp.Click(chromedp.CSS(".user-menu summary")),
		chromedp.Click(chromedp.CSS("[data-testid=logout]")),
		waitVisible(chromedp.ID("login-title")),
	)
	must(t, ctx, chromedp.Navigate(c.url+"/users"), waitVisible(chromedp.ID("login-title")))
}

// shot saves a screenshot when FLEETGATE_SCREENSHOTS names a folder, so a
// person can look at what the tests saw.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("FLEETGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}
