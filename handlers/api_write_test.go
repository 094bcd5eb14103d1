package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

// tokenOf makes an integration token for a member (any channel).
func tokenOf(t testing.TB, m *fixMember) string {
	t.Helper()
	tok, _, err := m.a.db.CreateIntegrationToken(context.Background(), m.Actor, "test", 30, false)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// send is an API request with headers ("If-Match", "\"3\"", ...).
func (c *client) send(method, path, token, body string, headers ...string) response {
	c.a.t.Helper()
	req, _ := http.NewRequest(method, c.a.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// jsonOf decodes an answer's body.
func jsonOf(t testing.TB, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func idOf(t testing.TB, r response) int64 {
	t.Helper()
	return int64(jsonOf(t, r)["id"].(float64))
}

func problemJSON(r response) bool {
	return strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json")
}

func TestAPIVehicleLifecycle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Lifecycle Fleet")
	g := mustGroup(t, acct, "Depot", 0)
	tok := tokenOf(t, acct.Owner)
	c := a.client()

	body := `{"name":"Van 7","plate":"ab 123","group_id":` + strconv.FormatInt(g, 10) + `,"odometer_km":1200}`
	res := c.send(POST, "/api/v1/vehicles", tok, body, "Idempotency-Key", "k-1")
	if res.status != http.StatusCreated || res.header.Get("ETag") != `"1"` || !strings.HasPrefix(res.header.Get("Location"), "/api/v1/vehicles/") {
		t.Fatalf("create: %d %v %s", res.status, res.header, res.body)
	}
	v := jsonOf(t, res)
	if v["plate"] != "AB 123" || v["group_id"].(float64) != float64(g) || v["version"].(float64) != 1 {
		t.Errorf("created: %v", v)
	}
	id := idOf(t, res)
	// A replay answers the first result and creates nothing more.
	again := c.send(POST, "/api/v1/vehicles", tok, body, "Idempotency-Key", "k-1")
	if again.status != http.StatusCreated || again.body != res.body || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", again.status, again.body)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM vehicles WHERE account_id = ?`, acct.ID); n != 1 {
		t.Errorf("%d vehicles after a replay, want 1", n)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM audit_events WHERE account_id = ? AND kind = 'vehicle.create'`, acct.ID); n != 1 {
		t.Errorf("%d audit events of the create, want 1", n)
	}
	// The same key with another body is refused.
	other := c.send(POST, "/api/v1/vehicles", tok, `{"name":"Van 8"}`, "Idempotency-Key", "k-1")
	if other.status != http.StatusUnprocessableEntity || !problemJSON(other) || !strings.Contains(other.body, "Idempotency-Key") {
		t.Errorf("same key, other body: %d %s", other.status, other.body)
	}
	// A refused create frees its key for the corrected request.
	bad := c.send(POST, "/api/v1/vehicles", tok, `{"name":"","vin":"no spaces!"}`, "Idempotency-Key", "k-2")
	errs, _ := jsonOf(t, bad)["errors"].(map[string]any)
	if bad.status != http.StatusUnprocessableEntity || !problemJSON(bad) || errs["name"] == nil || errs["vin"] == nil {
		t.Errorf("invalid create: %d %s", bad.status, bad.body)
	}
	if r := c.send(POST, "/api/v1/vehicles", tok, `{"name":"Van 9","group_id":`+strconv.FormatInt(g, 10)+`}`, "Idempotency-Key", "k-2"); r.status != http.StatusCreated {
		t.Errorf("corrected create under the same key: %d %s", r.status, r.body)
	}
	if r := c.send(POST, "/api/v1/vehicles", tok, `{"name":"Van 10","colour":"red"}`); r.status != http.StatusBadRequest || !strings.Contains(r.body, "colour") {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}

	path := "/api/v1/vehicles/" + strconv.FormatInt(id, 10)
	if r := c.send(GET, path, tok, ""); r.header.Get("ETag") != `"1"` {
		t.Errorf("GET ETag %q", r.header.Get("ETag"))
	}
	edit := `{"name":"Van 7b","plate":"AB 123","group_id":` + strconv.FormatInt(g, 10) + `,"odometer_km":1300}`
	if r := c.send(PUT, path, tok, edit); r.status != http.StatusPreconditionRequired || !problemJSON(r) {
		t.Errorf("PUT without If-Match: %d %s", r.status, r.body)
	}
	r := c.send(PUT, path, tok, edit, "If-Match", `"1"`)
	if r.status != http.StatusOK || r.header.Get("ETag") != `"2"` || jsonOf(t, r)["name"] != "Van 7b" {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	// A save from the old version is refused with the current state.
	r = c.send(PUT, path, tok, `{"name":"Lost","group_id":`+strconv.FormatInt(g, 10)+`}`, "If-Match", `"1"`)
	cur, _ := jsonOf(t, r)["current"].(map[string]any)
	if r.status != http.StatusPreconditionFailed || cur["name"] != "Van 7b" || cur["version"].(float64) != 2 || r.header.Get("ETag") != `"2"` {
		t.Errorf("stale PUT: %d %s", r.status, r.body)
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM vehicles WHERE name = 'Lost'`); n != 0 {
		t.Error("a stale save was written")
	}
	r = c.send(DELETE, path, tok, "")
	if r.status != http.StatusOK || jsonOf(t, r)["status"] != "archived" {
		t.Errorf("archive: %d %s", r.status, r.body)
	}
	r = c.send(POST, path+"/restore", tok, "")
	if r.status != http.StatusOK || jsonOf(t, r)["status"] != "active" {
		t.Errorf("restore: %d %s", r.status, r.body)
	}
	// The audit log, read through the API, has each change once.
	r = c.send(GET, "/api/v1/audit?kind=vehicle.", tok, "")
	kinds := map[string]int{}
	for _, e := range jsonOf(t, r)["events"].([]any) {
		kinds[e.(map[string]any)["kind"].(string)]++
	}
	if kinds["vehicle.create"] != 2 || kinds["vehicle.update"] != 1 || kinds["vehicle.archive"] != 1 || kinds["vehicle.restore"] != 1 {
		t.Errorf("audit: %v", kinds)
	}
}

// TestAPIRateLimitPerToken: a token that used up its bucket is answered
// 429 with Retry-After; another token is not affected.
func TestAPIRateLimitPerToken(t *testing.T) {
	t.Parallel()
	a := newAppConfigured(t, handlers.Config{APIRate: 0.01, APIBurst: 2})
	acct := mustAccount(t, a, "Throttled Fleet")
	tok, tok2 := tokenOf(t, acct.Owner), tokenOf(t, acct.Owner)
	c := a.client()
	for i := range 2 {
		if r := c.send(GET, "/api/v1/me", tok, ""); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := c.send(GET, "/api/v1/me", tok, "")
	if r.status != http.StatusTooManyRequests || !problemJSON(r) || r.header.Get("Retry-After") == "" {
		t.Errorf("third request: %d %v %s", r.status, r.header, r.body)
	}
	if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1 || s > 100 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r := c.send(GET, "/api/v1/me", tok2, ""); r.status != http.StatusOK {
		t.Errorf("another token: %d", r.status)
	}
}

// TestAPIDeniedNamesThePermission: a 403 names the missing permission,
// by label and by key.
func TestAPIDeniedNamesThePermission(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Denied Fleet")
	driver := mustMember(t, acct, perm.Driver, "all")
	v := mustVehicle(t, acct, "Van", 0)
	r := a.client().send(PUT, "/api/v1/vehicles/"+strconv.FormatInt(v, 10), tokenOf(t, driver), `{"name":"X"}`, "If-Match", `"1"`)
	m := jsonOf(t, r)
	if r.status != http.StatusForbidden || !problemJSON(r) || m["missing_permission"] != "vehicles.edit" || !strings.Contains(m["detail"].(string), "Edit vehicles") {
		t.Errorf("driver edits a vehicle: %d %s", r.status, r.body)
	}
}

const (
	GET    = http.MethodGet
	POST   = http.MethodPost
	PUT    = http.MethodPut
	DELETE = http.MethodDelete
)

var _ = db.Manage

// BenchmarkAPIVehicleCreate creates vehicles through the API from 8
// clients at once (the demo Manager, scoped to the region North), each
// with its own Idempotency-Key, through the real stack.
func BenchmarkAPIVehicleCreate(b *testing.B) {
	a := newApp(b)
	mustExec(b, a, `UPDATE subscriptions SET paid_vehicles = 1000000`)
	mustExec(b, a, `UPDATE members SET channel = 'both'`)
	tok := apiToken(b, a, "manager@demo.test")
	var group int64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT id FROM vehicle_groups WHERE name = 'Chicago'`).Scan(&group); err != nil {
		b.Fatal(err)
	}
	body := `{"name":"Bench van","plate":"B-1","group_id":` + strconv.FormatInt(group, 10) + `}`
	var seq atomic.Int64
	b.SetParallelism(4) // 8 clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := a.client()
		for pb.Next() {
			if r := c.send(POST, "/api/v1/vehicles", tok, body, "Idempotency-Key", strconv.FormatInt(seq.Add(1), 10)); r.status != http.StatusCreated {
				b.Error(r.status, r.body)
				return
			}
		}
	})
}

// TestAPIInviteReplayKeepsNoLink: an invitation through the API answers
// its link once; a replay answers the same invitation without it, and the
// link's token is stored nowhere.
func TestAPIInviteReplayKeepsNoLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "Invite Fleet")
	tok, c := tokenOf(t, acct.Owner), a.client()
	body := `{"email":"new.driver@example.com","role_id":` + strconv.FormatInt(acct.role(t, perm.Driver), 10) + `,"channel":"mobile"}`
	first := c.send(POST, "/api/v1/users", tok, body, "Idempotency-Key", "hr-1")
	link, _ := jsonOf(t, first)["link"].(string)
	if first.status != http.StatusCreated || !strings.Contains(link, "/invite/") {
		t.Fatalf("invite: %d %s", first.status, first.body)
	}
	again := c.send(POST, "/api/v1/users", tok, body, "Idempotency-Key", "hr-1")
	m := jsonOf(t, again)
	if again.status != http.StatusCreated || m["link"] != "" || m["id"] != jsonOf(t, first)["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", again.status, again.body)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	for i := 0; ; i++ { // the stored answers, one by one (a BLOB in SQLite, BYTEA in PostgreSQL)
		var stored []byte
		if err := a.db.QueryRowForTest(context.Background(), `SELECT body FROM api_idempotency ORDER BY id LIMIT 1 OFFSET ?`, i).Scan(&stored); err != nil {
			break
		}
		if strings.Contains(string(stored), token) {
			t.Error("the invitation's token is stored with the idempotency key")
		}
	}
	if n := countRows(t, a, `SELECT COUNT(*) FROM invitations WHERE email = 'new.driver@example.com'`); n != 1 {
		t.Errorf("%d invitations, want 1", n)
	}
}
