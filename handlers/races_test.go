package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"fleetgate/db"
)

// versionIn reads the version carried by the form posting to action, or "".
func versionIn(body, action string) string {
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		return ""
	}
	if m := versionField.FindStringSubmatch(body[i:]); m != nil {
		return m[1]
	}
	return ""
}

// While an Admin makes a Driver an Accountant, a Manager saves that
// Driver's page (opened before). Whatever the interleaving, the Manager
// never puts the role back, and the audit log never records a change the
// Manager may not make. The invariants are asserted, not the interleaving.
func TestManagerSaveNeverUndoesAdminRoleChange(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	driver := memberID(t, a, "driver@demo.test")
	managerID := memberID(t, a, "manager@demo.test")
	owner, err := a.db.ActorByMember(ctx, memberID(t, a, "owner@demo.test"))
	if err != nil {
		t.Fatal(err)
	}
	driverRole, accountantRole := roleIDByName(t, a, "Driver"), roleIDByName(t, a, "Accountant (read-only)")
	adm, mgr := a.login("admin@demo.test"), a.login("manager@demo.test")
	page := fmt.Sprintf("/users/%d", driver)

	const rounds = 50
	outcomes := map[string]int{}
	managerSaved := 0
	for round := range rounds {
		// Each round starts with the member a Driver again (the Owner's doing).
		m, err := a.db.Member(ctx, owner, driver)
		if err != nil {
			t.Fatal(err)
		}
		if m.RoleID != driverRole {
			if err := a.db.UpdateMember(ctx, owner, driver, m.Version, db.MemberEdit{FirstName: m.FirstName, LastName: m.LastName,
				Phone: m.Phone, RoleID: driverRole, Channel: m.Channel}); err != nil {
				t.Fatal(err)
			}
		}
		// Both open the page (the version it carries is the member's: read
		// through the page in the first round, from the store after that,
		// to keep the test cheap); then both save at once.
		m, _ = a.db.Member(ctx, owner, driver)
		mv, av := strconv.Itoa(m.Version), strconv.Itoa(m.Version)
		if round == 0 {
			mv, av = mgr.formVersionOn(t, page, page), adm.formVersionOn(t, page, page)
			if mv != strconv.Itoa(m.Version) || av != mv {
				t.Fatalf("the page carries versions %s and %s, the member is at %d", mv, av, m.Version)
			}
		}
		phone := fmt.Sprintf("+1 555 %04d", round)
		var wg sync.WaitGroup
		var mStatus, aStatus int
		wg.Add(2)
		go func() {
			defer wg.Done()
			mStatus = mgr.postForm(page, url.Values{"first_name": {m.FirstName}, "last_name": {m.LastName}, "phone": {phone},
				"role_id": {strconv.FormatInt(driverRole, 10)}, "channel": {m.Channel}, "version": {mv}}).status
		}()
		go func() {
			defer wg.Done()
			// The Admin's change must land: on a conflict they look again
			// (the 409 page shows the current values) and save once more.
			v, cur := av, m
			for range 3 {
				res := adm.postForm(page, url.Values{"first_name": {cur.FirstName}, "last_name": {cur.LastName}, "phone": {cur.Phone},
					"role_id": {strconv.FormatInt(accountantRole, 10)}, "channel": {cur.Channel}, "version": {v}})
				aStatus = res.status
				if res.status != http.StatusConflict {
					return
				}
				v = versionIn(res.body, page)
				cur, _ = a.db.Member(ctx, owner, driver)
			}
		}()
		wg.Wait()
		outcomes[fmt.Sprintf("manager %d", mStatus)]++
		if aStatus != http.StatusSeeOther {
			t.Fatalf("round %d: the admin's save: %d", round, aStatus)
		}
		after, err := a.db.Member(ctx, owner, driver)
		if err != nil {
			t.Fatal(err)
		}
		if after.RoleName != "Accountant (read-only)" {
			t.Fatalf("round %d: role is %s after the admin made it Accountant (manager %d)", round, after.RoleName, mStatus)
		}
		switch mStatus {
		case http.StatusSeeOther: // the Manager saved first, on the Driver
			managerSaved++
			if after.Phone != phone {
				t.Fatalf("round %d: the manager's saved phone was lost: %q", round, after.Phone)
			}
		case http.StatusConflict, http.StatusForbidden: // refused: nothing of theirs
			if after.Phone == phone {
				t.Fatalf("round %d: a refused save changed the phone", round)
			}
		default:
			t.Fatalf("round %d: manager's save answered %d", round, mStatus)
		}
	}
	// The audit log: every change by the Manager is one they may make (a
	// Driver stays a Driver), and there is one per save they were told of.
	es, _, err := a.db.AuditLog(ctx, owner, db.AuditFilter{ActorID: managerID, PerPage: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if !strings.HasPrefix(e.Kind, "member.") {
			continue
		}
		n++
		var before, after struct{ Role string }
		_ = json.Unmarshal([]byte(e.Before), &before)
		_ = json.Unmarshal([]byte(e.After), &after)
		if e.Kind != "member.update" || before.Role != "Driver" || after.Role != "Driver" {
			t.Fatalf("the manager made a change they may not make: %s %s → %s", e.Kind, e.Before, e.After)
		}
	}
	if n != managerSaved {
		t.Fatalf("%d audit events by the manager for %d saves", n, managerSaved)
	}
	t.Logf("%d rounds: %v; the role was never put back", rounds, outcomes)
}

// Two people save the same record from the same starting version: exactly
// one is saved, the other gets 409 with the current state shown beside
// what they typed, and nothing is lost. 20 rounds for each record type.
func TestConcurrentSavesOneWinsNoLostUpdate(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	owner, err := a.db.ActorByMember(ctx, memberID(t, a, "owner@demo.test"))
	if err != nil {
		t.Fatal(err)
	}
	driver := memberID(t, a, "driver@demo.test")
	vs, _, err := a.db.ListVehicles(ctx, owner, db.VehicleFilter{PerPage: 1})
	if err != nil || len(vs) == 0 {
		t.Fatal("no vehicle", err)
	}
	v := vs[0]
	cs, _, err := a.db.ListClients(ctx, owner, db.ClientFilter{PerPage: 1})
	if err != nil || len(cs) == 0 {
		t.Fatal("no client", err)
	}
	cl := cs[0]
	gs, err := a.db.Groups(ctx, owner)
	if err != nil || len(gs) == 0 {
		t.Fatal("no group", err)
	}
	g := gs[0]
	driverRole := roleIDByName(t, a, "Driver")
	id := strconv.FormatInt

	kinds := []struct {
		kind, page, action string
		form               func(label string) url.Values
		input, field       string // the typed field checked on the 409 page
		current            func() string
		version            func() int
	}{
		{"member", fmt.Sprintf("/users/%d", driver), fmt.Sprintf("/users/%d", driver),
			func(label string) url.Values { return editForm("Diego", label, driverRole, "both") },
			"#last_name", "last_name",
			func() string { m, _ := a.db.Member(ctx, owner, driver); return m.LastName },
			func() int { m, _ := a.db.Member(ctx, owner, driver); return m.Version }},
		{"vehicle", fmt.Sprintf("/vehicles/%d/edit", v.ID), fmt.Sprintf("/vehicles/%d", v.ID),
			func(label string) url.Values {
				return url.Values{"name": {label}, "plate": {v.Plate}, "vin": {v.VIN}, "odometer_km": {id(v.OdometerKm, 10)}, "group_id": {id(v.GroupID, 10)}}
			},
			"#vehicle-name", "name",
			func() string { x, _ := a.db.Vehicle(ctx, owner, v.ID); return x.Name },
			func() int { x, _ := a.db.Vehicle(ctx, owner, v.ID); return x.Version }},
		{"client", fmt.Sprintf("/clients/%d/edit", cl.ID), fmt.Sprintf("/clients/%d", cl.ID),
			func(label string) url.Values { return url.Values{"name": {label}, "email": {cl.Email}} },
			"#client-name", "name",
			func() string { x, _ := a.db.Client(ctx, owner, cl.ID); return x.Name },
			func() int { x, _ := a.db.Client(ctx, owner, cl.ID); return x.Version }},
		{"group", "/groups", fmt.Sprintf("/groups/%d", g.ID),
			func(label string) url.Values { return url.Values{"name": {label}, "parent_id": {id(g.ParentID, 10)}} },
			fmt.Sprintf("#group-name-%d", g.ID), "name",
			func() string {
				gs, _ := a.db.Groups(ctx, owner)
				for _, x := range gs {
					if x.ID == g.ID {
						return x.Name
					}
				}
				return ""
			},
			func() int {
				gs, _ := a.db.Groups(ctx, owner)
				for _, x := range gs {
					if x.ID == g.ID {
						return x.Version
					}
				}
				return 0
			}},
	}
	people := []*client{a.login("owner@demo.test"), a.login("admin@demo.test")}
	const rounds = 20
	for _, k := range kinds {
		for round := range rounds {
			var wg sync.WaitGroup
			res := make([]response, 2)
			labels := []string{fmt.Sprintf("%s %d by owner", k.kind, round), fmt.Sprintf("%s %d by admin", k.kind, round)}
			forms := make([]url.Values, 2)
			for i, p := range people { // both open the page first …
				forms[i] = k.form(labels[i])
				forms[i].Set("version", strconv.Itoa(k.version()))
				if round == 0 { // the version the page carries is the record's
					if got := p.formVersionOn(t, k.page, k.action); got != forms[i].Get("version") {
						t.Fatalf("%s: the page carries version %s, the record is at %s", k.kind, got, forms[i].Get("version"))
					}
				}
			}
			for i, p := range people { // … then both save at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = p.postForm(k.action, forms[i])
				}()
			}
			wg.Wait()
			won, lost := -1, -1
			for i, r := range res {
				switch r.status {
				case http.StatusSeeOther:
					won = i
				case http.StatusConflict:
					lost = i
				default:
					t.Fatalf("%s round %d: status %d", k.kind, round, r.status)
				}
			}
			if won < 0 || lost < 0 {
				t.Fatalf("%s round %d: %d and %d, want one saved and one conflict", k.kind, round, res[0].status, res[1].status)
			}
			if got := k.current(); got != labels[won] {
				t.Fatalf("%s round %d: saved %q, want the winner's %q", k.kind, round, got, labels[won])
			}
			// The refused page: a message, what was typed kept, the saved value beside it.
			r := res[lost]
			if alert := r.find("[role=alert][data-testid=conflict]"); len(alert) != 1 || !strings.Contains(alert[0], "changed this "+k.kind) {
				t.Fatalf("%s round %d: conflict message %v", k.kind, round, alert)
			}
			if typed, _ := r.doc().Find(k.input).Attr("value"); typed != labels[lost] {
				t.Fatalf("%s round %d: typed value not kept: %q", k.kind, round, typed)
			}
			if cur := r.find("[data-testid=current-" + k.field + "]"); len(cur) != 1 || !strings.Contains(cur[0], labels[won]) {
				t.Fatalf("%s round %d: current value beside the field: %v", k.kind, round, cur)
			}
			cur := r.doc().Find("[data-testid=current-" + k.field + "]")
			if id, _ := cur.Attr("id"); id == "" || !strings.Contains(attr(r, k.input, "aria-describedby"), id) {
				t.Fatalf("%s round %d: the field is not described by the current value (%q)", k.kind, round, attr(r, k.input, "aria-describedby"))
			}
			// The refused form now carries the current version: saving it again applies it, knowingly.
			again := k.form(labels[lost])
			again.Set("version", versionIn(r.body, k.action))
			if st := people[lost].postForm(k.action, again).status; st != http.StatusSeeOther || k.current() != labels[lost] {
				t.Fatalf("%s round %d: saving again after the conflict: %d", k.kind, round, st)
			}
		}
	}
}

func attr(r response, sel, name string) string {
	v, _ := r.doc().Find(sel).Attr(name)
	return v
}
