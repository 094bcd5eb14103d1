package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
)

// addMembers puts n generated members (drivers) into the demo account.
func addMembers(tb testing.TB, a *app, n int) {
	tb.Helper()
	if err := a.db.GenerateMembers(context.Background(), 1, n, "x"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkUsersPage10k is the users page of an account of 10,000 members:
// the first page, a deep page, a search and a filter, through the real stack.
func BenchmarkUsersPage10k(b *testing.B) {
	a := newApp(b)
	addMembers(b, a, 10_000)
	c := a.login("owner@demo.test")
	for _, bc := range []struct{ name, path string }{
		{"first-page", "/users"},
		{"page-300", "/users?page=300"},
		{"search", "/users?q=person+0042"},
		{"filter", "/users?status=deactivated&page=10"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if res := c.htmx(bc.path, "users-results"); res.status != 200 {
					b.Fatal(res.status)
				}
			}
		})
	}
}

// BenchmarkTripPages is the trip screens through the real stack on an
// account of 10,000 vehicles with 20 trips each (200,000 trips) besides
// the demo's: a vehicle's monthly log, /trips for the demo Manager (the
// North region plus the 1,000 vehicles of a generated region), and
// recording a trip through the API.
func BenchmarkTripPages(b *testing.B) {
	ctx := context.Background()
	a := newApp(b)
	addMembers(b, a, 200)
	if err := a.db.GenerateFleet(ctx, 1, 10_000, 100); err != nil {
		b.Fatal(err)
	}
	if err := a.db.GenerateTrips(ctx, 1, 20, nil); err != nil {
		b.Fatal(err)
	}
	mustExec(b, a, `INSERT INTO member_group_grants (member_id, group_id, level, created_at)
		SELECT m.id, g.id, 'manage', '' FROM members m JOIN users u ON u.id = m.user_id, vehicle_groups g
		 WHERE u.email = 'manager@demo.test' AND g.name = 'Region 01'`)
	mustExec(b, a, `UPDATE members SET channel = 'both'`)
	var vehicle int64
	if err := a.db.QueryRowForTest(ctx, `SELECT id FROM vehicles WHERE name LIKE 'Load vehicle %' AND status = 'active' ORDER BY id LIMIT 1 OFFSET 500`).Scan(&vehicle); err != nil {
		b.Fatal(err)
	}
	owner, mgr := a.login("owner@demo.test"), a.login("manager@demo.test")
	for _, bc := range []struct {
		name, path string
		c          *client
	}{
		{"vehicle-monthly-log", "/vehicles/" + strconv.FormatInt(vehicle, 10) + "/trips", owner},
		{"trips/manager-region", "/trips", mgr},
		{"trips/owner", "/trips", owner},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if res := bc.c.get(bc.path); res.status != 200 {
					b.Fatal(res.status)
				}
			}
		})
	}
	b.Run("record-trip-api", func(b *testing.B) {
		tok := apiToken(b, a, "owner@demo.test")
		body := `{"vehicle_id":` + strconv.FormatInt(vehicle, 10) + `,"date":"` + a.db.Today() + `","distance_km":12,"purpose":"business"}`
		c := a.client()
		for b.Loop() {
			if res := c.api(http.MethodPost, "/api/v1/trips", tok, body); res.status != http.StatusCreated {
				b.Fatal(res.status, res.body)
			}
		}
	})
}
