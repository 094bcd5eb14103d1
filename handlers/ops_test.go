package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"fleetgate/handlers"
)

func TestLivezAndReadyz(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	type body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	read := func(path string) (int, body) {
		t.Helper()
		res := c.get(path)
		var b body
		if err := json.Unmarshal([]byte(res.body), &b); err != nil {
			t.Fatalf("%s: %v: %s", path, err, res.body)
		}
		return res.status, b
	}
	if st, b := read("/livez"); st != 200 || b.Status != "ok" {
		t.Fatalf("livez: %d %+v", st, b)
	}
	for _, p := range []string{"/readyz", "/healthz"} {
		if st, b := read(p); st != 200 || b.Status != "ok" || b.Checks["read"] != "ok" || b.Checks["write"] != "ok" || b.Checks["migrations"] != "ok" {
			t.Fatalf("%s: %d %+v", p, st, b)
		}
	}
	// The database files turn read-only under the running server (files
	// are SQLite's; PostgreSQL's read-only answer is checked by
	// TestReadyzOnReadOnlyConnection).
	if a.db.Store() != "sqlite" {
		return
	}
	immutable(t, a.db.Path(), a.db.Path()+"-wal", a.db.Path()+"-shm")
	for _, p := range []string{"/readyz", "/healthz"} {
		st, b := read(p)
		if st != http.StatusServiceUnavailable || b.Status != "unavailable" || b.Checks["write"] != "the database is read-only" || b.Checks["read"] != "ok" {
			t.Fatalf("%s on a read-only database: %d %+v", p, st, b)
		}
	}
	if st, b := read("/livez"); st != 200 || b.Status != "ok" {
		t.Fatalf("livez on a read-only database: %d %+v", st, b)
	}
}

// A database opened read-only by SQLite answers writes with
// SQLITE_READONLY; query_only gives the writer that very answer.
// PostgreSQL answers a read-only server (a standby) as a read-only
// transaction.
func TestReadyzOnReadOnlyConnection(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	readOnly := `PRAGMA query_only = 1`
	if a.db.Store() == "postgres" {
		readOnly = `SET default_transaction_read_only = on`
	}
	if err := a.db.ExecForTest(context.Background(), readOnly); err != nil {
		t.Fatal(err)
	}
	res := a.client().get("/readyz")
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, `"write":"the database is read-only"`) {
		t.Fatalf("readyz: %d %s", res.status, res.body)
	}
}

// immutable makes files read-only even for root (chattr +i, which the
// running server's open files feel too), or skips the test.
func immutable(t *testing.T, files ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for chattr +i (chmod does not affect files the server holds open)")
	}
	for _, f := range files {
		if out, err := exec.Command("chattr", "+i", f).CombinedOutput(); err != nil {
			t.Skipf("chattr +i %s: %v %s", f, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", f).Run() })
	}
}

func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	m := handlers.NewMetrics()
	a := newAppConfigured(t, handlers.Config{Metrics: m})
	c := a.client()
	for range 3 {
		c.get("/login")
	}
	c.get("/users/42")     // no session: 303 to the login page
	c.get("/no/such/page") // 404
	c.postForm("/login", url.Values{"email": {"owner@demo.test"}, "password": {"wrong"}})
	a.login("admin@demo.test").get("/users/42")

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := string(raw)
	for _, want := range []string{
		`fleetgate_http_requests_total{method="GET",route="/login",status="200"} 3`,
		`fleetgate_http_requests_total{method="GET",route="/users/:id",status="303"} 1`,
		`fleetgate_http_requests_total{method="GET",route="/users/:id",status="404"} 1`,
		`fleetgate_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`fleetgate_http_request_duration_seconds_count{method="GET",route="/login"} 3`,
		`fleetgate_login_refusals_total{reason="failed"} 1`,
		`fleetgate_login_refusals_total{reason="throttled"} 0`,
		`fleetgate_db_pool_max_open_connections{pool="writer"} 1`,
		`fleetgate_db_pool_waits_total{pool="readers"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, `route="/users/42"`) {
		t.Error("a raw address became a label")
	}
	if t.Failed() {
		t.Log(grep(text, "fleetgate_http_requests_total"))
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
