package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
)

// addFleet puts a large generated fleet into the demo account (see
// db.GenerateFleet) and makes the demo manager manage "Region 01" only.
func addFleet(tb testing.TB, a *app, vehicles, clients int) string {
	tb.Helper()
	if err := a.db.GenerateFleet(context.Background(), 1, vehicles, clients); err != nil {
		tb.Fatal(err)
	}
	// The demo manager manages one region instead of North.
	mustExec(tb, a, `DELETE FROM member_group_grants WHERE member_id = 3`)
	mustExec(tb, a, `INSERT INTO member_group_grants (member_id, group_id, level, created_at)
		SELECT 3, id, 'manage', '' FROM vehicle_groups WHERE name = 'Region 01'`)
	return "Region 01"
}

func benchPaths(b *testing.B, c *client, target string, cases []struct{ name, path string }) {
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if res := c.htmx(bc.path, target); res.status != 200 {
					b.Fatal(res.status)
				}
			}
		})
	}
}

// BenchmarkVehicleList100k is the vehicle list of an account of 100,000
// vehicles through the real stack: a Manager scoped to one region (10,000
// vehicles), and the Owner for comparison.
func BenchmarkVehicleList100k(b *testing.B) {
	a := newApp(b)
	addFleet(b, a, 100_000, 0)
	mgr := a.login("manager@demo.test")
	if r := rangeText(mgr.get("/vehicles?status=all")); r != "1–25 of 10,000" {
		b.Fatalf("manager's scope: %q", r)
	}
	cases := []struct{ name, path string }{
		{"first-page", "/vehicles"},
		{"page-200", "/vehicles?page=200"},
		{"search", "/vehicles?q=" + url.QueryEscape("vehicle 0042")},
		{"search-short", "/vehicles?q=42"},
		{"depot-filter", "/vehicles?group=" + groupID(b, mgr, "Region 01 depot 03")},
	}
	b.Run("manager-one-region", func(b *testing.B) { benchPaths(b, mgr, "vehicles-results", cases) })
	owner := a.login("owner@demo.test")
	b.Run("owner-all", func(b *testing.B) { benchPaths(b, owner, "vehicles-results", cases[:4]) })
}

// BenchmarkPairing10kx10k is the pairing page at 10,000 vehicles and
// 10,000 clients: one page of 25 vehicles against 10 clients, searches on
// both axes, deep pages, and a toggle.
func BenchmarkPairing10kx10k(b *testing.B) {
	a := newApp(b)
	addFleet(b, a, 10_000, 10_000)
	owner := a.login("owner@demo.test")
	if r := owner.get("/pairing").find("[data-testid=pairing-clients] [data-testid=range]"); len(r) != 1 || r[0] != "1–10 of 10,015" {
		b.Fatalf("clients: %v", r)
	}
	cases := []struct{ name, path string }{
		{"first-page", "/pairing"},
		{"deep-pages", "/pairing?page=35&cp=900"},
		{"search-both", "/pairing?vq=" + url.QueryEscape("vehicle 004") + "&cq=" + url.QueryEscape("client 0001")},
	}
	b.Run("owner", func(b *testing.B) { benchPaths(b, owner, "pairing-grid", cases) })
	mgr := a.login("manager@demo.test")
	b.Run("manager-one-region", func(b *testing.B) { benchPaths(b, mgr, "pairing-grid", cases) })
	b.Run("toggle", func(b *testing.B) {
		on := false
		for b.Loop() {
			on = !on
			vals := url.Values{"vehicle_id": {"100"}, "client_id": {"20"}, "_csrf": {owner.csrf()}}
			if on {
				vals.Set("paired", "1")
			}
			if res := owner.postRaw("/pairing/toggle", vals, "HX-Request", "true", "X-CSRF-Token", owner.csrf()); res.status != 200 {
				b.Fatal(res.status, fmt.Sprint(res.find("p")))
			}
		}
	})
}
