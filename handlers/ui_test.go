package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
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

// The Groups page counts the vehicles access to a group covers: its own
// and its sub-groups'.
func TestGroupCountsIncludeSubGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var north, direct int
	if err := a.db.QueryRowForTest(context.Background(), `SELECT
		(SELECT COUNT(*) FROM vehicles v WHERE v.status = 'active' AND v.group_id IN (
			WITH RECURSIVE sub(id) AS (SELECT id FROM vehicle_groups WHERE name = 'North' AND account_id = 1
				UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id) SELECT id FROM sub)),
		(SELECT COUNT(*) FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id WHERE g.name = 'North' AND g.account_id = 1 AND v.status = 'active')`).Scan(&north, &direct); err != nil {
		t.Fatal(err)
	}
	doc := a.login("owner@demo.test").get("/groups").doc()
	var got string
	doc.Find("[data-testid=group-row]").Each(func(_ int, r *goquery.Selection) {
		if strings.TrimSpace(r.Find("[data-testid=group-name]").Text()) == "North" {
			got = strings.Join(strings.Fields(r.Find("[data-testid=group-vehicles]").Text()), " ")
		}
	})
	want := fmt.Sprintf("%d (%d directly in it)", north, direct)
	if north == direct {
		want = fmt.Sprint(north)
	}
	if north < 2 || got != want {
		t.Fatalf("North: %q, want %q", got, want)
	}
	// The Accountant's access reads view on every group.
	for _, lvl := range a.login("accountant@demo.test").get("/groups").find("td[data-label='Your access']") {
		if lvl != "view" {
			t.Fatalf("accountant's group access: %q", lvl)
		}
	}
}
