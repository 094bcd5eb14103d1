package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
)

func problemDetail(t testing.TB, res response) string {
	t.Helper()
	if !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("not problem+json: %s %s", res.header.Get("Content-Type"), res.body)
	}
	var p struct{ Detail string }
	if err := json.Unmarshal([]byte(res.body), &p); err != nil {
		t.Fatal(err)
	}
	return p.Detail
}

func TestAPITokenLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	// The driver uses both channels: a token, and /me says who they are.
	token := apiToken(t, a, "driver@demo.test")
	res := c.api(http.MethodGet, "/api/v1/me", token, "")
	var me struct {
		Email       string
		Role        string
		Permissions []string
	}
	if err := json.Unmarshal([]byte(res.body), &me); err != nil || me.Email != "driver@demo.test" || me.Role != "Driver" || !contains(me.Permissions, "trips.record") {
		t.Fatalf("me: %v %s", err, res.body)
	}
	// A wrong password and an unknown e-mail get the same answer.
	r1 := c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"driver@demo.test","password":"wrong-one-here"}`)
	r2 := c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"ghost@demo.test","password":"wrong-one-here"}`)
	if r1.status != 401 || r2.status != 401 || problemDetail(t, r1) != problemDetail(t, r2) {
		t.Fatalf("failures differ: %d %d", r1.status, r2.status)
	}
	// A web-only member is told so; the notifications role too.
	res = c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"accountant@demo.test","password":"`+db.DemoPassword+`"}`)
	if res.status != 403 || !strings.Contains(problemDetail(t, res), "web console only") {
		t.Fatalf("web-only: %d %s", res.status, res.body)
	}
	res = c.api(http.MethodPost, "/api/v1/tokens", "", `{"email":"notifications@demo.test","password":"`+db.DemoPassword+`"}`)
	if res.status != 403 || !strings.Contains(problemDetail(t, res), "cannot log in") {
		t.Fatalf("notifications: %d %s", res.status, res.body)
	}
	// Bad bodies get a useful detail.
	for _, body := range []string{`not json`, `{"email":"x@y.z","password":"p","admin":true}`, `{"email":"","password":""}`} {
		res := c.api(http.MethodPost, "/api/v1/tokens", "", body)
		if res.status/100 != 4 || problemDetail(t, res) == "" {
			t.Errorf("%s: %d", body, res.status)
		}
	}
	// Logging out revokes the token at once.
	if res := c.api(http.MethodDelete, "/api/v1/tokens/current", token, ""); res.status != http.StatusNoContent {
		t.Fatalf("revoke: %d", res.status)
	}
	if res := c.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("revoked token works: %d", res.status)
	}
}

func TestAPIFollowsThePolicyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	token := apiToken(t, a, "driver@demo.test")
	c := a.client()
	res := c.api(http.MethodGet, "/api/v1/users", token, "")
	if res.status != 403 || !strings.Contains(problemDetail(t, res), "You need 'View users'") {
		t.Fatalf("driver users: %d %s", res.status, res.body)
	}
	// Promoted to Manager in the console: the same token may list users.
	owner := a.login("owner@demo.test")
	owner.postEdit(t, fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver), editForm("Diego", "Driver", roleIDByName(t, a, "Manager"), "both"))
	res = c.api(http.MethodGet, "/api/v1/users?q=demo&per_page=2&total=1", token, "")
	var page struct {
		Members []struct{ Email string }
		Total   int
	}
	if err := json.Unmarshal([]byte(res.body), &page); err != nil || res.status != 200 || page.Total != 6 || len(page.Members) != 2 {
		t.Fatalf("manager users: %d %s", res.status, res.body)
	}
	// Deactivated: the token stops working and is gone.
	owner.postForm(fmt.Sprintf("/users/%d/deactivate", driver), url.Values{"handover": {"revoke"}})
	if res := c.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("deactivated token: %d", res.status)
	}
	// Cookies mean nothing to the API.
	if res := owner.get("/api/v1/me"); res.status != http.StatusUnauthorized {
		t.Fatalf("cookie on API: %d", res.status)
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.client().get("/api/v1/openapi.json")
	var spec map[string]any
	if res.status != 200 || json.Unmarshal([]byte(res.body), &spec) != nil || spec["openapi"] == nil {
		t.Fatalf("spec: %d", res.status)
	}
}

func TestAPIVehiclesFollowTheScope(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	token := apiToken(t, a, "driver@demo.test")
	c := a.client()
	res := c.api(http.MethodGet, "/api/v1/vehicles", token, "")
	var list struct {
		Vehicles []struct {
			ID     int64
			Access string
		}
		Total int
	}
	if err := json.Unmarshal([]byte(res.body), &list); err != nil || res.status != 200 || list.Total != 2 || len(list.Vehicles) != 2 {
		t.Fatalf("driver's vehicles: %d %s", res.status, res.body)
	}
	mine := list.Vehicles[0].ID
	if res := c.api(http.MethodGet, fmt.Sprintf("/api/v1/vehicles/%d", mine), token, ""); res.status != 200 || !strings.Contains(res.body, `"clients"`) {
		t.Fatalf("own vehicle: %d %s", res.status, res.body)
	}
	// A vehicle outside the driver's scope does not exist for them.
	var other int64
	_ = a.db.QueryRowForTest(context.Background(), `SELECT id FROM vehicles WHERE account_id = 1 AND id NOT IN
		(SELECT vehicle_id FROM member_vehicle_grants WHERE member_id = ?) LIMIT 1`, memberID(t, a, "driver@demo.test")).Scan(&other)
	res = c.api(http.MethodGet, fmt.Sprintf("/api/v1/vehicles/%d", other), token, "")
	if res.status != http.StatusNotFound || problemDetail(t, res) == "" {
		t.Fatalf("out of scope: %d %s", res.status, res.body)
	}
}

func TestPasswordChangeEndsAPITokens(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	token := apiToken(t, a, "driver@demo.test")
	c := a.login("driver@demo.test")
	res := c.postForm("/profile/password", url.Values{"current_password": {db.DemoPassword}, "new_password": {"velvet tram orbit"}, "new_password_again": {"velvet tram orbit"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change password: %d %v", res.status, res.find(".error"))
	}
	if res := c.api(http.MethodGet, "/api/v1/me", token, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("token survived the password change: %d", res.status)
	}
}

// The API and the login form share one throttle: failures on one lock both.
func TestAPISharesTheLoginThrottle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for i := 0; i < db.EmailThrottle.Limit; i++ {
		a.client().postForm("/login", url.Values{"email": {"driver@demo.test"}, "password": {"wrong-password"}})
	}
	res := a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || !strings.Contains(problemDetail(t, res), "Try again in") {
		t.Fatalf("API while locked: %d %s", res.status, res.body)
	}
}

// API tokens end: the answer names the expiry, and past it the token is
// refused like a revoked one.
func TestAPITokensExpire(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	res := a.client().api(http.MethodPost, "/api/v1/tokens", "", `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`)
	var out struct {
		Token     string
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil || out.Token == "" {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	if d := time.Until(out.ExpiresAt); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Fatalf("expires_at %s is not 90 days away", out.ExpiresAt)
	}
	if r := a.client().api(http.MethodGet, "/api/v1/me", out.Token, ""); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d", r.status)
	}
	mustExec(t, a, `UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z'`)
	if r := a.client().api(http.MethodGet, "/api/v1/me", out.Token, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", r.status)
	}
}
