package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// The built-in roles of the demo account, by login.
var roleLogins = map[string]string{
	"owner":      "owner@demo.test",
	"admin":      "admin@demo.test",
	"manager":    "manager@demo.test",
	"accountant": "accountant@demo.test",
	"driver":     "driver@demo.test",
}

var allRoles = []string{"owner", "admin", "manager", "accountant", "driver"}

// access is the authorization matrix: for every route of the route table,
// which built-in roles (with their default permissions) get past the
// policy. "public" routes are reachable without a session. A route added
// to the table without a line here fails TestAccessMatrixCoversEveryRoute.
var access = map[string][]string{
	"GET /healthz":         {"public"},
	"GET /static/*":        {"public"},
	"GET /login":           {"public"},
	"POST /login":          {"public"},
	"POST /logout":         allRoles,
	"GET /":                allRoles,
	"POST /account/switch": allRoles,
	"GET /users":           {"owner", "admin", "manager", "accountant"},

	// Vehicles, groups, clients, pairing, vehicle access, subscription.
	"GET /vehicles":                 allRoles,
	"GET /vehicles/new":             {"owner", "admin", "manager"},
	"POST /vehicles":                {"owner", "admin", "manager"},
	"GET /vehicles/:id":             allRoles,
	"GET /vehicles/:id/edit":        {"owner", "admin", "manager"},
	"POST /vehicles/:id":            {"owner", "admin", "manager"},
	"POST /vehicles/:id/archive":    {"owner", "admin", "manager"},
	"POST /vehicles/:id/restore":    {"owner", "admin", "manager"},
	"GET /vehicles/:id/clients":     {"owner", "admin", "manager"},
	"GET /vehicles/:id/members":     {"owner", "admin", "manager", "accountant"},
	"GET /groups":                   allRoles,
	"POST /groups":                  {"owner", "admin", "manager"},
	"POST /groups/:id":              {"owner", "admin", "manager"},
	"POST /groups/:id/delete":       {"owner", "admin", "manager"},
	"GET /clients":                  {"owner", "admin", "manager", "accountant"},
	"GET /clients/new":              {"owner", "admin", "manager"},
	"POST /clients":                 {"owner", "admin", "manager"},
	"GET /clients/:id":              {"owner", "admin", "manager", "accountant"},
	"GET /clients/:id/edit":         {"owner", "admin", "manager"},
	"POST /clients/:id":             {"owner", "admin", "manager"},
	"POST /clients/:id/delete":      {"owner", "admin", "manager"},
	"GET /clients/:id/vehicles":     {"owner", "admin", "manager"},
	"GET /pairing":                  {"owner", "admin", "manager"},
	"POST /pairing/toggle":          {"owner", "admin", "manager"},
	"GET /users/:id/access":         {"owner", "admin", "manager", "accountant"},
	"POST /users/:id/access/mode":   {"owner", "admin", "manager"},
	"POST /users/:id/access/grant":  {"owner", "admin", "manager"},
	"POST /users/:id/access/revoke": {"owner", "admin", "manager"},
	"GET /subscription":             {"owner", "admin", "accountant"},
}

func TestEveryRouteDeclaresItsNeed(t *testing.T) {
	a := newApp(t)
	declared := map[string]string{}
	for _, r := range a.s.Table() {
		if !r.Need.Declared() {
			t.Errorf("%s %s declares no permission", r.Method, r.Path)
		}
		declared[r.Method+" "+r.Path] = r.Need.String()
	}
	for _, r := range a.e.Routes() {
		if _, ok := declared[r.Method+" "+r.Path]; !ok {
			t.Errorf("%s %s is registered outside the route table", r.Method, r.Path)
		}
	}
}

func TestAccessMatrixCoversEveryRoute(t *testing.T) {
	a := newApp(t)
	for _, r := range a.s.Table() {
		key := r.Method + " " + r.Path
		roles, ok := access[key]
		if !ok {
			t.Errorf("no row in the access matrix for %s (needs %s)", key, r.Need)
			continue
		}
		if (len(roles) == 1 && roles[0] == "public") != (r.Need.String() == "public") {
			t.Errorf("%s: matrix says %v, route says %s", key, roles, r.Need)
		}
	}
}

// TestAccessMatrix asks every route as every built-in role and as a
// stranger, and checks that the policy lets through exactly the roles of
// its row.
func TestAccessMatrix(t *testing.T) {
	a := newApp(t)
	clients := map[string]*client{"stranger": a.client()}
	for role, email := range roleLogins {
		clients[role] = a.login(email)
	}
	for _, r := range a.s.Table() {
		key := r.Method + " " + r.Path
		roles := access[key]
		if len(roles) == 1 && roles[0] == "public" {
			continue
		}
		path := samplePath(r.Path)
		for _, who := range append([]string{"stranger"}, allRoles...) {
			if r.Path == "/logout" && who != "stranger" {
				continue // would end the session the other rows use
			}
			c := clients[who]
			var res response
			if r.Method == http.MethodGet {
				res = c.get(path)
			} else {
				res = c.postForm(path, nil)
			}
			allowed := contains(roles, who)
			switch {
			case who == "stranger":
				if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
					t.Errorf("%s as stranger: %d, want a redirect to login", key, res.status)
				}
			case allowed && strings.Contains(res.body, `data-testid="denied"`):
				t.Errorf("%s as %s: denied, want allowed", key, who)
			case !allowed && (res.status != http.StatusForbidden || !strings.Contains(res.body, `data-testid="denied"`)):
				t.Errorf("%s as %s: %d, want 403 with the 'you need' notice", key, who, res.status)
			}
		}
	}
}

// samplePath fills path parameters with ids of the demo account.
func samplePath(p string) string {
	r := strings.NewReplacer(":id", "1", "*", "app.css")
	return r.Replace(p)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
