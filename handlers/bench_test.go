package handlers_test

import (
	"testing"
)

// addMembers puts n generated members (drivers) into the demo account.
func addMembers(tb testing.TB, a *app, n int) {
	tb.Helper()
	mustExec(tb, a, `INSERT INTO users (email, password_hash, first_name, last_name, created_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT 'person' || i || '@load.test', 'x', 'Person', printf('%05d', i), '2026-01-01T00:00:00Z' FROM n`, n)
	mustExec(tb, a, `INSERT INTO members (account_id, user_id, role_id, status, created_at)
		SELECT 1, u.id, (SELECT id FROM roles WHERE account_id = 1 AND builtin = 'driver'),
		       CASE WHEN u.id % 10 = 0 THEN 'deactivated' ELSE 'active' END, '2026-01-01T00:00:00Z'
		  FROM users u WHERE u.email LIKE '%@load.test'`)
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
