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

	// Roles: the sample id is the Owner role, which nobody can change, so
	// the allowed POSTs are refused by the rules, not by the policy.
	"GET /roles":                         {"owner", "admin", "accountant"},
	"POST /roles":                        {"owner", "admin"},
	"GET /roles/:id":                     {"owner", "admin", "accountant"},
	"POST /roles/:id":                    {"owner", "admin"},
	"POST /roles/:id/impact":             {"owner", "admin"},
	"POST /roles/:id/rename":             {"owner", "admin"},
	"POST /roles/:id/delete":             {"owner", "admin"},
	"GET /roles/:id/history":             {"owner", "admin", "accountant"},
	"GET /roles/:id/history/:v":          {"owner", "admin", "accountant"},
	"POST /roles/:id/history/:v/restore": {"owner", "admin"},
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
	r := strings.NewReplacer(":id", "1", ":v", "1", "*", "app.css")
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
