package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromePath finds Chromium: $CHROME_PATH, then chromium on PATH (Debian's
// real binary behind its wrapper script when present).
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
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--db", filepath.Join(t.TempDir(), "e2e.db")}, extra...), out)
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

// browser starts headless Chromium, or skips the test when there is none
// (failing instead when FLEETGATE_E2E=required).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromePath()
	if path == "" {
		if os.Getenv("FLEETGATE_E2E") == "required" {
			t.Fatal("FLEETGATE_E2E=required but no Chromium found ($CHROME_PATH or chromium on PATH)")
		}
		t.Skip("browser test skipped: no Chromium found; set $CHROME_PATH or install chromium (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// newWindow opens a second, separate browser context (its own cookies):
// another person at another computer.
func newWindow(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", js)
}

func logIn(t *testing.T, ctx context.Context, c *console, email string) {
	t.Helper()
	must(t, ctx,
		chromedp.Navigate(c.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), "fleetgate-demo"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("nav.side")),
	)
}

func rowCount(t *testing.T, ctx context.Context, sel string) int {
	return eval[int](t, ctx, fmt.Sprintf("document.querySelectorAll(%q).length", sel))
}

func TestBrowserLoginSearchLogout(t *testing.T) {
	c := startConsole(t)
	if !strings.Contains(c.out.String(), "owner@demo.test") {
		t.Fatalf("demo logins not printed:\n%s", c.out)
	}
	ctx := browser(t)
	logIn(t, ctx, c, "owner@demo.test")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/users") {
		t.Fatalf("landed on %s", loc)
	}
	if n := rowCount(t, ctx, "[data-testid=user-row]"); n != 6 {
		t.Fatalf("users rows: %d", n)
	}
	shot(t, ctx, "users")
	// Typing narrows the table in place: the page is not reloaded (the
	// marker survives) and the address bar keeps the search.
	eval[bool](t, ctx, "window.__noReload = true")
	must(t, ctx, chromedp.SendKeys(chromedp.ID("users-q"), "accoun"))
	waitFor(t, ctx, `document.querySelectorAll("[data-testid=user-row]").length === 1`)
	if !eval[bool](t, ctx, "window.__noReload === true") {
		t.Fatal("the page reloaded")
	}
	if !strings.Contains(eval[string](t, ctx, "location.search"), "q=accoun") {
		t.Fatal("search not kept in the address bar")
	}
	got := eval[string](t, ctx, `document.querySelector("[data-testid=user-row] td[data-label=E-mail]").textContent`)
	if got != "accountant@demo.test" {
		t.Fatalf("row: %q", got)
	}
	// Reload keeps the search.
	must(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("users-q")))
	if n := rowCount(t, ctx, "[data-testid=user-row]"); n != 1 {
		t.Fatalf("after reload: %d rows", n)
	}
	// Log out from the user menu.
	must(t, ctx,
		chromedp.Click(chromedp.CSS(".user-menu summary")),
		chromedp.Click(chromedp.CSS("[data-testid=logout]")),
		chromedp.WaitVisible(chromedp.ID("login-title")),
	)
	must(t, ctx, chromedp.Navigate(c.url+"/users"), chromedp.WaitVisible(chromedp.ID("login-title")))
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
