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
	"sync"
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

// emptyDB is the migrated database without any account, for the first
// start (newBareApp).
var emptyDB = dbtest.NewTemplate("empty", nil)

// app is a real server on a migrated temp database with the demo account.
type app struct {
	t   testing.TB
	db  *db.DB
	srv *httptest.Server
	s   *handlers.Server
	e   *echo.Echo
	cfg handlers.Config
	tr  *http.Transport // the connections of the app's clients (transport)
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
	return &app{t: t, db: d, srv: srv, s: s, e: e, cfg: cfg, tr: transport(t, srv)}
}

// transport is the connections of an app's clients: the server's own
// (srv.Client's), not http.DefaultTransport: closing any test's httptest
// server closes the default transport's idle connections, which broke a
// request of another test running in parallel now and then
// ("CloseIdleConnections called"). It does not ask for gzip on its own:
// compressing every page on the server and inflating it in the test cost
// a tenth of the package's CPU under the race detector and proved nothing
// a test looks at; TestGzip asks for it (Accept-Encoding) and checks it.
func transport(t testing.TB, srv *httptest.Server) *http.Transport {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	t.Cleanup(tr.CloseIdleConnections)
	return tr
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

// client opens a new browser on the app (its connections: transport).
func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{a: a, http: &http.Client{Transport: a.tr, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
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
	parsed *parsedDoc // the body parsed once, on the first doc()
}

// parsedDoc is a response's body parsed as HTML, shared by the copies of
// the response: tests ask several questions of one page, and parsing it
// again for each one was a good part of their CPU. No test changes a
// parsed document (goquery's Remove, SetAttr, ...): each question sees
// the page as it came.
type parsedDoc struct {
	once sync.Once
	doc  *goquery.Document
	err  error
}

func (r response) text() string { return r.body }

func (r response) doc() *goquery.Document {
	p := r.parsed
	if p == nil { // a response made by hand
		p = &parsedDoc{}
	}
	p.once.Do(func() { p.doc, p.err = goquery.NewDocumentFromReader(strings.NewReader(r.body)) })
	if p.err != nil {
		r.t.Fatal(p.err)
	}
	return p.doc
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
	// No token yet. Without a session the token is the cookie's value
	// (43 characters, as the server makes them), which a first GET would
	// hand out; setting one as that GET would saves a request and a page
	// per new client (a login, a stranger's post).
	tok := db.NewToken()
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "fleetgate_csrf", Value: tok, Path: "/"}})
	return tok
}

func (c *client) do(req *http.Request) response {
	c.a.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{t: c.a.t, status: res.StatusCode, header: res.Header, body: string(b), parsed: &parsedDoc{}}
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
