package handlers_test

import (
	"context"
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
