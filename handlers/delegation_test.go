package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// No escalation covers what a change leaves a member with: the demo Driver
// also drives a South vehicle, so the North Manager may not make them a
// Manager (who would then edit that South vehicle), nor give them more
// access, nor reactivate them. A Driver whose access lies within North is
// the Manager's to promote.
func TestDelegationStaysWithinTheChangersVehicleAccess(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	driver := memberID(t, a, "driver@demo.test")
	managerRole := roleIDByName(t, a, "Manager")
	m := a.login("manager@demo.test")
	page := fmt.Sprintf("/users/%d", driver)
	res := m.postEdit(t, page, page, editForm("Diego", "Driver", managerRole, "both"))
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "outside your own vehicle access") {
		t.Fatalf("promote a driver with a South vehicle: %d\n%s", res.status, res.body)
	}
	if got := actorByEmail(t, a, "driver@demo.test"); got.Builtin != perm.Driver {
		t.Fatalf("the driver became %s", got.RoleName)
	}
	north := groupIDByName(t, a, "Chicago")
	res = m.postForm(fmt.Sprintf("/users/%d/access/grant", driver), url.Values{"kind": {"group"}, "target_id": {fmt.Sprint(north)}, "level": {"view"}})
	if res.status == http.StatusSeeOther || res.status == http.StatusOK {
		t.Fatalf("grant to a driver with a South vehicle: %d", res.status)
	}

	// A driver of North only: the Manager may promote them.
	acct := demoAccount(t, a)
	nd := mustMember(t, acct, perm.Driver, "selected")
	mustGrant(t, acct, nd, "group", north, db.Manage)
	page = fmt.Sprintf("/users/%d", nd.ID)
	res = m.postEdit(t, page, page, editForm(nd.Actor.FirstName, nd.Actor.LastName, managerRole, "both"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("promote a North driver: %d\n%s", res.status, res.body)
	}
}
