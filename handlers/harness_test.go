package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/mailer"
	"fleetgate/handlers"
)

// demoDB is the migrated database with the demo account, built once per
// test binary; every app runs on a copy of its own.
var demoDB = dbtest.Demo()

// app is a real server on a migrated temp database with the demo account.
type app struct {
	t   testing.TB
	db  *db.DB
	srv *httptest.Server
	s   *handlers.Server
	e   *echo.Echo
	cfg handlers.Config
}

func newApp(t testing.TB) *app { return newAppConfigured(t, handlers.Config{}) }

// newAppConfigured is newApp with a server configuration of the test's choice.
func newAppConfigured(t testing.TB, cfg handlers.Config) *app {
	t.Helper()
	ctx := context.Background()
	d := demoDB.Open(t)
	e, s, err := handlers.New(ctx, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &app{t: t, db: d, srv: srv, s: s, e: e, cfg: cfg}
}

// sendMail delivers what the outbox holds, as serve's sender would: over
// the configured SMTP, or to the server log without one.
func (a *app) sendMail() mailer.Result {
	a.t.Helper()
	log := a.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &mailer.Sender{DB: a.db, SMTP: a.cfg.SMTP, Log: log, Backoff: time.Millisecond, MaxAttempts: 2}
	r, err := s.Drain(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// client is one browser: its own cookies, no automatic redirects.
type client struct {
	a    *app
	http *http.Client
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{a: a, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// login logs in with the demo password and fails the test if it does not work.
func (a *app) login(email string) *client {
	a.t.Helper()
	c := a.client()
	res := c.postForm("/login", url.Values{"email": {email}, "password": {db.DemoPassword}})
	if res.status != http.StatusSeeOther {
		a.t.Fatalf("login %s: status %d: %s", email, res.status, res.text())
	}
	return c
}

type response struct {
	t      testing.TB
	status int
	header http.Header
	body   string
}

func (r response) text() string { return r.body }

func (r response) doc() *goquery.Document {
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// find returns the trimmed text of the elements matching sel.
func (r response) find(sel string) []string {
	var out []string
	r.doc().Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func (c *client) csrf() string {
	u, _ := url.Parse(c.a.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "fleetgate_csrf" {
			return ck.Value
		}
	}
	// No token yet: a first GET hands one out.
	c.get("/login")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "fleetgate_csrf" {
			return ck.Value
		}
	}
	return ""
}

func (c *client) do(req *http.Request) response {
	c.a.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{t: c.a.t, status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string, headers ...string) response {
	req, _ := http.NewRequest(http.MethodGet, c.a.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// htmx sends a GET as htmx would, aimed at the element with id target.
func (c *client) htmx(path, target string) response {
	return c.get(path, "HX-Request", "true", "HX-Target", target)
}

// postForm posts a form with the client's CSRF token.
func (c *client) postForm(path string, v url.Values) response {
	if v == nil {
		v = url.Values{}
	}
	if v.Get("_csrf") == "" {
		v.Set("_csrf", c.csrf())
	}
	return c.postRaw(path, v)
}

// postRaw posts a form exactly as given (no token added).
func (c *client) postRaw(path string, v url.Values, headers ...string) response {
	req, _ := http.NewRequest(http.MethodPost, c.a.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// api sends a JSON API request with a bearer token.
func (c *client) api(method, path, token, body string) response {
	req, _ := http.NewRequest(method, c.a.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req)
}

// apiToken logs in on the API with the demo password and returns the token.
func apiToken(t testing.TB, a *app, email string) string {
	t.Helper()
	res := a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"`+email+`","password":"`+db.DemoPassword+`"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("token for %s: %d %s", email, res.status, res.body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Token
}

// flipped returns s with its first character replaced by a different one:
// a token or code that is surely wrong, and otherwise well-formed.
// (Overwriting with a fixed character would leave s unchanged whenever s
// already starts with it.)
func flipped(s string) string {
	if s == "" {
		return "x"
	}
	c := byte('A')
	if s[0] == c {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestFlippedAlwaysDiffers(t *testing.T) {
	t.Parallel()
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)}) + "rest"
		if f := flipped(s); f == s || len(f) != len(s) || f[1:] != s[1:] {
			t.Fatalf("flipped(%q) = %q", s, f)
		}
	}
}
