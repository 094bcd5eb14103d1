package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// "Your access" is what the grant and the role allow together: the
// read-only Accountant (all vehicles) reads "view"; the Manager, whose
// role can change vehicles, "manage" on her region.
func TestYourAccessIsTheEffectiveLevel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for who, want := range map[string]string{"accountant@demo.test": "view", "manager@demo.test": "manage", "owner@demo.test": "manage"} {
		c := a.login(who)
		cells := c.get("/vehicles").find("td[data-label='Your access']")
		if len(cells) == 0 {
			t.Fatalf("%s: no vehicles", who)
		}
		for _, got := range cells {
			if got != want {
				t.Fatalf("%s: list says %q, want %q", who, got, want)
			}
		}
		res := c.get("/vehicles/1")
		if res.status == http.StatusOK {
			if got := strings.Join(res.find("[data-testid=vehicle-level]"), ""); got != want {
				t.Fatalf("%s: vehicle page says %q, want %q", who, got, want)
			}
		}
	}
	// The driver's role records trips, which needs manage: her grants show as they are.
	if got := a.login("driver@demo.test").get("/vehicles").find("td[data-label='Your access']"); len(got) != 2 || got[0] != "manage" {
		t.Fatalf("driver: %v", got)
	}
}
