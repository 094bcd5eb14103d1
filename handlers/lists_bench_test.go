package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// cpuLoop runs fn b.N times and reports the process's CPU time (user and
// system) per call beside the wall time: the server runs in this process,
// so this is the request's CPU, steadier than wall time on a busy machine.
func cpuLoop(b *testing.B, fn func()) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	n, start := 0, cpu()
	for b.Loop() {
		fn()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
	}
}

// BenchmarkLists measures every list through the real stack on an account
// of 1,000 and of 100,000 vehicles (a tenth as many clients and members;
// the demo manager manages one region: a tenth of the vehicles), so that
// the two sizes can be compared side by side: a page of a list should
// cost about the same whatever the account's size. Run with
// `make bench` (the 100,000-vehicle account takes minutes to generate);
// `make test` never builds these accounts.
func BenchmarkLists(b *testing.B) {
	for _, size := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("vehicles=%d", size), func(b *testing.B) {
			a := newApp(b)
			addMembers(b, a, size/10)
			addFleet(b, a, size, size/10)
			mustExec(b, a, `UPDATE members SET channel = 'both' WHERE id IN (1, 3)`)
			owner, mgr := a.login("owner@demo.test"), a.login("manager@demo.test")
			token := apiToken(b, a, "manager@demo.test")
			api := a.client()
			// The cursor of the manager's second page.
			var first struct{ Next string }
			res := api.api(http.MethodGet, "/api/v1/vehicles?limit=50", token, "")
			if err := json.Unmarshal([]byte(res.body), &first); err != nil || first.Next == "" {
				b.Fatalf("first page: %d %s", res.status, res.body)
			}
			b.Run("api-vehicles/manager", func(b *testing.B) {
				for b.Loop() {
					if res := api.api(http.MethodGet, "/api/v1/vehicles?limit=50", token, ""); res.status != 200 {
						b.Fatal(res.status)
					}
				}
			})
			b.Run("api-vehicles/manager/next-page", func(b *testing.B) {
				for b.Loop() {
					if res := api.api(http.MethodGet, "/api/v1/vehicles?limit=50&after="+first.Next, token, ""); res.status != 200 {
						b.Fatal(res.status)
					}
				}
			})
			otoken := apiToken(b, a, "owner@demo.test")
			for _, bc := range []struct{ name, path, token string }{
				{"api-users/owner", "/api/v1/users?per_page=50", otoken},
				{"api-audit/owner", "/api/v1/audit?per_page=50", otoken},
			} {
				b.Run(bc.name, func(b *testing.B) {
					cpuLoop(b, func() {
						if res := api.api(http.MethodGet, bc.path, bc.token, ""); res.status != 200 {
							b.Fatal(res.status, res.body)
						}
					})
				})
			}
			for _, bc := range []struct {
				name   string
				c      *client
				path   string
				target string
			}{
				{"vehicles/manager", mgr, "/vehicles", "vehicles-results"},
				{"vehicles/owner", owner, "/vehicles", "vehicles-results"},
				{"vehicles/owner/depot-filter", owner, "/vehicles?group=" + groupID(b, owner, "Region 01 depot 03"), "vehicles-results"},
				{"pairing/manager", mgr, "/pairing", "pairing-grid"},
				{"pairing/owner", owner, "/pairing", "pairing-grid"},
				{"pairing/owner/page-2", owner, "/pairing?page=2&cp=2", "pairing-grid"},
				{"clients/manager", mgr, "/clients", "clients-results"},
				{"clients/owner", owner, "/clients", "clients-results"},
				{"users/owner", owner, "/users", "users-results"},
				{"users/owner/sort=email", owner, "/users?sort=email", "users-results"},
				{"users/owner/sort=role", owner, "/users?sort=role", "users-results"},
				{"users/owner/sort=status", owner, "/users?sort=status", "users-results"},
				{"users/owner/sort=-last_login", owner, "/users?sort=-last_login", "users-results"},
				{"audit/owner/full-page", owner, "/audit", ""},
				{"audit/owner", owner, "/audit", "audit-results"},
			} {
				b.Run(bc.name, func(b *testing.B) {
					cpuLoop(b, func() {
						if res := bc.c.htmx(bc.path, bc.target); res.status != 200 {
							b.Fatal(res.status)
						}
					})
				})
			}
		})
	}
}
