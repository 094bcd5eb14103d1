package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// apiWalk follows an API list's "next" cursors from path (which holds its
// query) to the end, and answers each page's rows (key: the list's
// field), as raw JSON objects.
func apiWalk(t *testing.T, a *app, token, path, key string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sep := "&"
	if !strings.Contains(path, "?") {
		sep = "?"
	}
	next := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatalf("%s: no end", path)
		}
		href := path
		if next != "" {
			href += sep + "cursor=" + next
		}
		res := a.client().api(http.MethodGet, href, token, "")
		var page map[string]any
		if res.status != 200 || json.Unmarshal([]byte(res.body), &page) != nil {
			t.Fatalf("%s: %d %s", href, res.status, res.body)
		}
		// No count per page: "total" only where one page holds them all.
		if _, counted := page["total"]; counted && (next != "" || page["next"] != "") {
			t.Fatalf("%s: counted without asking: %s", href, res.body)
		}
		for _, r := range page[key].([]any) {
			rows = append(rows, r.(map[string]any))
		}
		next, _ = page["next"].(string)
		if next == "" {
			return rows
		}
	}
}

// TestAPIListsWalkWithCursorsInScope walks the API's member, client and
// audit lists with small pages for each role that may read them: the walk
// gives every row of the whole list exactly once, in order, without a
// count per page; total=1 counts; nothing outside the reader's vehicle
// scope appears; a cursor the API did not give is a 422 problem.
func TestAPIListsWalkWithCursorsInScope(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	acct := mustAccount(t, a, "API Walk")
	in, out := mustGroup(t, acct, "In", 0), mustGroup(t, acct, "Out", 0)
	var near []int64
	for i := 1; i <= 5; i++ {
		near = append(near, mustClient(t, acct, fmt.Sprintf("Near %d", i)))
		mustClient(t, acct, fmt.Sprintf("Far %d", i))
	}
	for i := 1; i <= 6; i++ {
		v := mustVehicle(t, acct, fmt.Sprintf("In %d", i), in)
		mustVehicle(t, acct, fmt.Sprintf("Out %d", i), out)
		// Every vehicle of In is paired with a Near client: the Far ones are
		// usable only with the (unpaired) vehicles of Out.
		if _, _, err := a.db.SetPairing(ctx, acct.Owner.Actor, v, near[i%len(near)], true); err != nil {
			t.Fatal(err)
		}
	}
	mgr := mustMemberOn(t, acct, perm.Manager, "selected", "both")
	mustGrant(t, acct, mgr, "group", in, db.Manage)
	acc := mustMemberOn(t, acct, perm.Accountant, "selected", "both")
	mustGrant(t, acct, acc, "group", in, db.View)
	admin := mustMemberOn(t, acct, perm.Admin, "all", "both")
	driver := mustMemberOn(t, acct, perm.Driver, "selected", "both")
	mustGrant(t, acct, driver, "group", out, db.View)
	for i := 0; i < 5; i++ {
		mustMember(t, acct, perm.Driver, "selected")
	}
	field := func(rows []map[string]any, k string) []string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r[k]))
		}
		return out
	}
	for _, tc := range []struct {
		name                string
		m                   *fixMember
		users, clients, log bool // which lists the role reads
		scoped              bool // events and clients of Out are out of scope
	}{
		// The Manager manages clients: all of them, whatever the vehicle scope.
		{"owner", acct.Owner, true, true, true, false},
		{"admin", admin, true, true, true, false},
		{"manager", mgr, true, true, false, false},
		{"accountant", acc, true, true, true, true},
		{"driver", driver, false, false, false, false},
	} {
		tok := tokenOf(t, tc.m)
		for _, l := range []struct {
			path, key, id string
			allowed       bool
		}{
			{"/api/v1/users", "members", "email", tc.users},
			{"/api/v1/clients", "clients", "name", tc.clients},
			{"/api/v1/audit", "events", "id", tc.log},
		} {
			what := tc.name + " " + l.path
			if !l.allowed {
				if r := a.client().api(http.MethodGet, l.path, tok, ""); r.status != http.StatusForbidden {
					t.Fatalf("%s: %d", what, r.status)
				}
				continue
			}
			whole := apiWalk(t, a, tok, l.path+"?per_page=200", l.key)
			if len(whole) < 5 {
				t.Fatalf("%s: %d rows", what, len(whole))
			}
			walked := apiWalk(t, a, tok, l.path+"?per_page=2", l.key)
			onceEach(t, what, field(walked, l.id), field(whole, l.id))
			seen := map[string]bool{}
			for _, k := range field(walked, l.id) {
				if seen[k] {
					t.Fatalf("%s: %s twice", what, k)
				}
				seen[k] = true
			}
			// total=1 counts all matches.
			var counted struct{ Total int }
			r := a.client().api(http.MethodGet, l.path+"?per_page=2&total=1", tok, "")
			if json.Unmarshal([]byte(r.body), &counted) != nil || counted.Total != len(whole) {
				t.Fatalf("%s: total=1: %s, want %d", what, r.body, len(whole))
			}
			// Out of scope: the clients usable only with Out, events about Out.
			for _, row := range walked {
				text := fmt.Sprint(row["name"], " ", row["target"], " ", row["summary"])
				if tc.scoped && (strings.Contains(text, "Out ") || strings.Contains(text, "Far ")) {
					t.Fatalf("%s: out of scope: %v", what, row)
				}
			}
			if want := map[bool]int{false: 10, true: 5}[tc.scoped]; l.key == "clients" && len(whole) != want {
				t.Fatalf("%s: %v", what, field(whole, "name"))
			}
			// A cursor the API did not give: 422, a problem naming the cursor.
			for _, bad := range []string{"not-a-cursor", "cDI", "-5", strings.Repeat("A", 500)} {
				r := a.client().api(http.MethodGet, l.path+"?cursor="+bad, tok, "")
				if r.status != http.StatusUnprocessableEntity || !strings.Contains(problemDetail(t, r), "cursor") || !strings.Contains(r.body, `"cursor"`) {
					t.Fatalf("%s: bad cursor %q: %d %s", what, bad, r.status, r.body)
				}
			}
		}
	}
}
