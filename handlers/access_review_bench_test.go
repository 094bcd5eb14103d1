package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"fleetgate/handlers"
)

// BenchmarkAccessReview10k is the access overview of an account of 10,000
// members and 100,000 vehicles, through the real stack: every member with
// a group grant, a third with a direct grant, sign-ins, 30 days of
// permission uses, tokens. The head (counts of every finding over the
// whole account, roles, invitations) is computed on each page.
func BenchmarkAccessReview10k(b *testing.B) {
	ctx := context.Background()
	a := newApp(b)
	addMembers(b, a, 10_000)
	if err := a.db.GenerateFleet(ctx, 1, 100_000, 0); err != nil {
		b.Fatal(err)
	}
	if err := a.db.GenerateAccessHistory(ctx, 1, 30); err != nil {
		b.Fatal(err)
	}
	c := a.login("owner@demo.test")
	for _, bc := range []struct{ name, path string }{
		{"overview", "/access-review"},
		{"page-100", "/access-review?page=100"},
		{"finding-unused", "/access-review?finding=unused"},
		{"finding-stale-page-10", "/access-review?finding=stale&page=10"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if res := c.get(bc.path); res.status != http.StatusOK {
					b.Fatal(res.status, res.body)
				}
			}
		})
	}
}

// BenchmarkPermissionUseRecording is one API request that passes a
// permission check (GET /api/v1/vehicles/:id as the Owner), with and
// without noting the permission's use: the difference is what the
// recording costs a request. The writes happen in FlushUses, off the
// request path.
func BenchmarkPermissionUseRecording(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  handlers.Config
	}{
		{"without", handlers.Config{NoUseRecording: true}},
		{"with", handlers.Config{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := newAppConfigured(b, bc.cfg)
			mustExec(b, a, `UPDATE members SET channel = 'both'`)
			token := apiToken(b, a, "owner@demo.test")
			c := a.client()
			b.ReportAllocs()
			for b.Loop() {
				if res := c.api(http.MethodGet, "/api/v1/vehicles/1", token, ""); res.status != http.StatusOK {
					b.Fatal(res.status, res.body)
				}
			}
		})
	}
}
