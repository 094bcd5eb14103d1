package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

// sentMail is one outbox row.
type sentMail struct {
	ID       int64
	Account  int64
	Member   int64
	To, Kind string
	Subject  string
	Body     string
}

// mailMark is the newest outbox id: what a step writes comes after it.
func mailMark(t testing.TB, a *app) int64 {
	t.Helper()
	var id int64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT COALESCE(MAX(id), 0) FROM outbox`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// mailsSince reads the messages written after mark, in order.
func mailsSince(t testing.TB, a *app, mark int64) []sentMail {
	t.Helper()
	rows, err := a.db.QueryForTest(context.Background(), `SELECT id, COALESCE(account_id, 0), COALESCE(member_id, 0), to_addr, kind, subject, body
		FROM outbox WHERE id > ? ORDER BY id`, mark)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentMail
	for rows.Next() {
		var m sentMail
		if err := rows.Scan(&m.ID, &m.Account, &m.Member, &m.To, &m.Kind, &m.Subject, &m.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	// No message ever goes to someone who is not a member of the account
	// it is about, or to another address than their login's.
	var strays int
	if err := a.db.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM outbox o LEFT JOIN members m ON m.id = o.member_id
		LEFT JOIN users u ON u.id = m.user_id WHERE o.id > ? AND o.kind <> 'invitation' AND (m.id IS NULL OR m.account_id <> o.account_id OR u.email <> o.to_addr)`,
		mark).Scan(&strays); err != nil {
		t.Fatal(err)
	}
	if strays != 0 {
		t.Errorf("%d messages went to someone outside the account they are about", strays)
	}
	return out
}

// sent lists "kind to address" of messages, sorted, for exact comparison.
func sent(ms []sentMail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Kind+" to "+m.To)
	}
	slices.Sort(out)
	return out
}

func wantSent(t testing.TB, what string, ms []sentMail, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := sent(ms); !slices.Equal(got, want) {
		t.Errorf("%s: sent\n  %v\nwant\n  %v", what, got, want)
	}
}

// notifyCo is an account with one member of each built-in role, and a
// second account whose people must never hear of the first one's news.
type notifyCo struct {
	acct                                      *fixAccount
	admin, manager, accountant, driver, notif *fixMember
	north, south                              int64 // groups
	van, truck                                int64 // vehicles in North and South
	other                                     *fixAccount
	otherAdmin                                *fixMember
	ctx                                       context.Context
}

func newNotifyCo(t *testing.T, a *app) *notifyCo {
	t.Helper()
	n := &notifyCo{ctx: context.Background()}
	n.acct = mustAccount(t, a, "Notify Co "+strconv.FormatInt(fixtureSeq.Add(1), 10))
	n.admin = mustMember(t, n.acct, perm.Admin, "all")
	n.manager = mustMember(t, n.acct, perm.Manager, "selected")
	n.accountant = mustMember(t, n.acct, perm.Accountant, "all")
	n.driver = mustMember(t, n.acct, perm.Driver, "selected")
	n.notif = mustMember(t, n.acct, perm.Notifications, "selected")
	n.north = mustGroup(t, n.acct, "North", 0)
	n.south = mustGroup(t, n.acct, "South", 0)
	n.van = mustVehicle(t, n.acct, "Van", n.north)
	n.truck = mustVehicle(t, n.acct, "Truck", n.south)
	mustGrant(t, n.acct, n.manager, "group", n.north, db.Manage)
	n.other = mustAccount(t, a, "Other Co "+strconv.FormatInt(fixtureSeq.Add(1), 10))
	n.otherAdmin = mustMember(t, n.other, perm.Admin, "all")
	return n
}

func (n *notifyCo) edit(t *testing.T, a *app, m *fixMember, role perm.Builtin) {
	t.Helper()
	md, err := a.db.Member(n.ctx, n.acct.Owner.Actor, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.UpdateMember(n.ctx, n.acct.Owner.Actor, m.ID, md.Version, db.MemberEdit{FirstName: md.FirstName, LastName: md.LastName,
		Phone: md.Phone, RoleID: n.acct.role(t, role), Channel: md.Channel}); err != nil {
		t.Fatal(err)
	}
}

func (n *notifyCo) editVehicle(t *testing.T, a *app, by *db.Actor, id int64, name string) {
	t.Helper()
	v, err := a.db.Vehicle(n.ctx, by, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.UpdateVehicle(n.ctx, by, id, v.Version, db.VehicleInput{Name: name, Plate: v.Plate, VIN: v.VIN, GroupID: v.GroupID, OdometerKm: v.OdometerKm}); err != nil {
		t.Fatal(err)
	}
}

// A role change tells the member alone, with what they gained and lost by
// label, and the link back to the console and to unsubscribe.
func TestMailRoleChangedToTheMemberOnly(t *testing.T) {
	t.Parallel()
	a := newAppConfigured(t, withBase())
	n := newNotifyCo(t, a)
	mark := mailMark(t, a)
	n.edit(t, a, n.driver, perm.Accountant)
	ms := mailsSince(t, a, mark)
	wantSent(t, "role change", ms, "you.role to "+n.driver.Email)
	if len(ms) != 1 {
		return
	}
	b := ms[0].Body
	for _, want := range []string{"from Driver to Accountant (read-only)", "You can now:", "View users", "You can no longer:", "Record trips",
		"https://fleet.example.test/profile", "https://fleet.example.test/unsubscribe/"} {
		if !strings.Contains(b, want) {
			t.Errorf("role change body lacks %q:\n%s", want, b)
		}
	}
}

func withBase() handlers.Config { return handlers.Config{BaseURL: "https://fleet.example.test/"} }

// Deactivation tells the member and the subscribers (Owner and Admin by
// default, the actor excepted); a Notifications-only member receives it
// once their preference says so; the other account hears nothing.
func TestMailDeactivationToMemberAndSubscribers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	mark := mailMark(t, a)
	mustSetStatus(t, n.acct, n.manager.ID, "deactivated")
	wantSent(t, "deactivation", mailsSince(t, a, mark),
		"you.deactivated to "+n.manager.Email, "members.deactivated to "+n.admin.Email)

	// The Owner turns "A member was deactivated" on for the
	// Notifications-only member, on their page.
	owner := n.acct.Owner.login()
	res := owner.postForm("/users/"+itoa64(n.notif.ID)+"/notifications", url.Values{"kind": {db.KindMemberDeactivated, db.KindRoleChanged}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("set their choices: %d %s", res.status, res.body)
	}
	mark = mailMark(t, a)
	mustSetStatus(t, n.acct, n.driver.ID, "deactivated")
	wantSent(t, "deactivation with a Notifications-only subscriber", mailsSince(t, a, mark),
		"you.deactivated to "+n.driver.Email, "members.deactivated to "+n.admin.Email, "members.deactivated to "+n.notif.Email)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// The one-click link: GET asks, POST (without a CSRF token or session)
// turns that one kind off, audited; the member then receives no more of
// it, and a forged token does nothing.
func TestMailUnsubscribeLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	mark := mailMark(t, a)
	mustSetStatus(t, n.acct, n.manager.ID, "deactivated")
	ms := mailsSince(t, a, mark)
	var adminMail sentMail
	for _, m := range ms {
		if m.To == n.admin.Email {
			adminMail = m
		}
	}
	i := strings.Index(adminMail.Body, "/unsubscribe/")
	if i < 0 {
		t.Fatalf("no unsubscribe link in %q", adminMail.Body)
	}
	path := strings.Fields(adminMail.Body[i:])[0]
	c := a.client()
	if res := c.get(path); res.status != http.StatusOK || !strings.Contains(res.body, "A member was deactivated") || !strings.Contains(res.body, `data-testid="unsubscribe-form"`) {
		t.Fatalf("confirm page: %d %s", res.status, res.body)
	}
	forged := path[:len(path)-3] + "AAA"
	if res := c.postRaw(forged, nil); res.status != http.StatusNotFound {
		t.Errorf("forged token: %d, want 404", res.status)
	}
	other := strings.Replace(path, db.KindMemberDeactivated, db.KindMemberDeleted, 1)
	if res := c.postRaw(other, nil); res.status != http.StatusNotFound {
		t.Errorf("token of one kind used for another: %d, want 404", res.status)
	}
	if res := c.postRaw(path, nil); res.status != http.StatusOK || !strings.Contains(res.body, `data-testid="unsubscribed"`) {
		t.Fatalf("unsubscribe: %d %s", res.status, res.body)
	}
	var audited int
	if err := a.db.QueryRowForTest(n.ctx, `SELECT COUNT(*) FROM audit_events WHERE account_id = ? AND kind = 'member.mail_preferences' AND actor_member_id = ?`,
		n.acct.ID, n.admin.ID).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("unsubscribe audited %d times (%v), want 1", audited, err)
	}
	mark = mailMark(t, a)
	mustSetStatus(t, n.acct, n.driver.ID, "deactivated")
	wantSent(t, "after unsubscribing", mailsSince(t, a, mark), "you.deactivated to "+n.driver.Email)
	// Other kinds stay on.
	mark = mailMark(t, a)
	if err := a.db.DeleteMember(n.ctx, n.acct.Owner.Actor, n.driver.ID); err != nil {
		t.Fatal(err)
	}
	wantSent(t, "deletion", mailsSince(t, a, mark), "members.deleted to "+n.admin.Email)
}

// My profile: the choices per kind, saved for oneself; a member who turns
// everything off receives nothing, not even about themselves.
func TestMailPreferencesOnMyProfile(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	c := n.driver.login()
	page := c.get("/profile")
	if got := page.find(`[data-testid="profile-mail-form"] input[type=checkbox][checked]`); len(got) != 6 {
		t.Errorf("driver's defaults: %d kinds on, want 6 (about you and watched vehicles)", len(got))
	}
	if page.find(`[data-testid="pref-digest.weekly"]`) != nil {
		t.Error("the weekly digest is offered to a Driver")
	}
	if res := c.postForm("/profile/notifications", url.Values{"kind": {db.KindAccessChanged}}); res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.status, res.body)
	}
	mark := mailMark(t, a)
	n.edit(t, a, n.driver, perm.Accountant)
	mustGrant(t, n.acct, n.driver, "vehicle", n.truck, db.View)
	wantSent(t, "role off, access on", mailsSince(t, a, mark), "you.access to "+n.driver.Email)
	if res := c.postForm("/profile/notifications", url.Values{"kind": {"no.such.kind"}}); res.status == http.StatusSeeOther {
		t.Error("an unknown kind was accepted")
	}
}

// Who may set another member's choices and watches: only those with
// users.manage who reach the member, and only for Notifications-only
// members (others choose their own).
func TestMailPreferencesOfOthersDenied(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	// Fresh values per request: postForm adds the client's CSRF token.
	form := func() url.Values { return url.Values{"kind": {db.KindMemberJoined}} }
	watch := func() url.Values { return url.Values{"vehicle_id": {itoa64(n.van)}, "watch": {"on"}} }
	for _, tc := range []struct {
		who    *fixMember
		status int
	}{
		{n.accountant, http.StatusForbidden},
		{n.driver, http.StatusForbidden},
		{n.manager, http.StatusSeeOther}, // users.manage, reaches a member without access
		{n.admin, http.StatusSeeOther},
		{n.acct.Owner, http.StatusSeeOther},
	} {
		c := tc.who.login()
		if res := c.postForm("/users/"+itoa64(n.notif.ID)+"/notifications", form()); res.status != tc.status {
			t.Errorf("%s sets the Notifications-only member's choices: %d, want %d: %s", tc.who.Email, res.status, tc.status, res.body)
		}
		// Someone who can log in chooses for themselves.
		if res := c.postForm("/users/"+itoa64(n.driver.ID)+"/notifications", form()); res.status != http.StatusForbidden {
			t.Errorf("%s sets the driver's choices: %d, want 403", tc.who.Email, res.status)
		}
		if res := c.postForm("/users/"+itoa64(n.driver.ID)+"/watch", watch()); res.status != http.StatusForbidden {
			t.Errorf("%s makes the driver watch: %d, want 403", tc.who.Email, res.status)
		}
	}
	// Another account's manager: not found.
	if res := n.otherAdmin.login().postForm("/users/"+itoa64(n.notif.ID)+"/notifications", form()); res.status != http.StatusNotFound {
		t.Errorf("other account's admin: %d, want 404", res.status)
	}
	// What was set is what the member page shows.
	page := n.acct.Owner.login().get("/users/" + itoa64(n.notif.ID))
	if got := page.find(`[data-testid="member-mail-form"] input[type=checkbox][checked]`); len(got) != 1 {
		t.Errorf("member page shows %d kinds on, want 1", len(got))
	}
}

// Watchers: a member who sees a vehicle watches it and hears of its
// changes (not of their own); one who does not see it cannot; watching
// ends with the access, at once or when the next message would go out.
func TestMailVehicleWatchers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	mgr := n.manager.login()
	if res := mgr.postForm("/vehicles/"+itoa64(n.truck)+"/watch", url.Values{"watch": {"on"}}); res.status != http.StatusNotFound {
		t.Errorf("watch a vehicle outside one's access: %d, want 404", res.status)
	}
	if res := mgr.postForm("/vehicles/"+itoa64(n.van)+"/watch", url.Values{"watch": {"on"}}); res.status != http.StatusSeeOther {
		t.Fatalf("watch: %d %s", res.status, res.body)
	}
	if got := mgr.get("/vehicles/" + itoa64(n.van)).find(`[data-testid="unwatch"]`); len(got) != 1 {
		t.Error("the vehicle page offers no Stop watching")
	}
	// The Admin watches it too; each change reaches the other watcher only.
	if err := a.db.Watch(n.ctx, n.admin.Actor, n.van, true); err != nil {
		t.Fatal(err)
	}
	mark := mailMark(t, a)
	n.editVehicle(t, a, n.admin.Actor, n.van, "Van 2")
	ms := mailsSince(t, a, mark)
	wantSent(t, "edit", ms, "vehicles.watched to "+n.manager.Email)
	if len(ms) == 1 && !strings.Contains(ms[0].Body, "Name: Van → Van 2") {
		t.Errorf("edit body: %s", ms[0].Body)
	}
	mark = mailMark(t, a)
	if err := a.db.ArchiveVehicle(n.ctx, n.acct.Owner.Actor, n.van); err != nil {
		t.Fatal(err)
	}
	if err := a.db.RestoreVehicle(n.ctx, n.acct.Owner.Actor, n.van); err != nil {
		t.Fatal(err)
	}
	client := mustClient(t, n.acct, "Acme")
	if _, _, err := a.db.SetPairing(n.ctx, n.acct.Owner.Actor, n.van, client, true); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, n.acct, n.driver, "vehicle", n.van, db.View)
	wantSent(t, "archive, restore, pairing, access given", mailsSince(t, a, mark),
		"vehicles.watched to "+n.manager.Email, "vehicles.watched to "+n.admin.Email,
		"vehicles.watched to "+n.manager.Email, "vehicles.watched to "+n.admin.Email,
		"vehicles.watched to "+n.manager.Email, "vehicles.watched to "+n.admin.Email,
		"vehicles.watched to "+n.manager.Email, "vehicles.watched to "+n.admin.Email, "you.access to "+n.driver.Email)

	// The manager loses North: their watch ends with it.
	mark = mailMark(t, a)
	if err := a.db.Revoke(n.ctx, n.acct.Owner.Actor, n.manager.ID, "group", n.north); err != nil {
		t.Fatal(err)
	}
	n.editVehicle(t, a, n.acct.Owner.Actor, n.van, "Van 3")
	// The Admin, who watches a vehicle of North, hears of that too.
	wantSent(t, "after the watcher lost access", mailsSince(t, a, mark),
		"you.access to "+n.manager.Email, "vehicles.watched to "+n.admin.Email, "vehicles.watched to "+n.admin.Email)

	// A grant that runs out: the watch is dropped when the next message
	// would go out.
	end := time.Now().Add(48 * time.Hour)
	if err := a.db.Grant(n.ctx, n.acct.Owner.Actor, n.manager.ID, db.GrantInput{Kind: "vehicle", TargetID: n.van, Level: db.View, EndsAt: &end}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.Watch(n.ctx, n.manager.Actor, n.van, true); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(72 * time.Hour)
	a.db.Now = func() time.Time { return later }
	mark = mailMark(t, a)
	n.editVehicle(t, a, n.acct.Owner.Actor, n.van, "Van 4")
	wantSent(t, "after the watcher's grant ended", mailsSince(t, a, mark), "vehicles.watched to "+n.admin.Email)
	var left int
	if err := a.db.QueryRowForTest(n.ctx, `SELECT COUNT(*) FROM vehicle_watches WHERE member_id = ?`, n.manager.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("the ended watcher still has %d watches (%v)", left, err)
	}
}

// A Notifications-only member is made a watcher by someone with
// users.manage, within the vehicles that member can give, and only of a
// vehicle the watcher sees.
func TestMailWatcherSetForNotificationsOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	mgr := n.manager.login()
	watch := func(c *client, v int64) response {
		return c.postForm("/users/"+itoa64(n.notif.ID)+"/watch", url.Values{"vehicle_id": {itoa64(v)}, "watch": {"on"}})
	}
	if res := watch(mgr, n.van); res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
		t.Errorf("watch a vehicle the member does not see: %d, want refused", res.status)
	}
	mustGrant(t, n.acct, n.notif, "group", n.north, db.View)
	mustGrant(t, n.acct, n.notif, "group", n.south, db.View)
	if res := watch(mgr, n.truck); res.status != http.StatusNotFound {
		t.Errorf("manager of North makes them watch a South vehicle: %d, want 404", res.status)
	}
	if res := watch(n.accountant.login(), n.van); res.status != http.StatusForbidden {
		t.Errorf("accountant: %d, want 403", res.status)
	}
	if res := watch(mgr, n.van); res.status != http.StatusSeeOther {
		t.Fatalf("manager of North, a North vehicle: %d %s", res.status, res.body)
	}
	page := n.acct.Owner.login().get("/users/" + itoa64(n.notif.ID))
	if got := page.find(`[data-testid="watch-row"] a`); len(got) != 1 || got[0] != "Van" {
		t.Errorf("watch list on the member page: %v", got)
	}
	mark := mailMark(t, a)
	n.editVehicle(t, a, n.acct.Owner.Actor, n.van, "Van 2")
	n.editVehicle(t, a, n.acct.Owner.Actor, n.truck, "Truck 2")
	wantSent(t, "watched by the Notifications-only member", mailsSince(t, a, mark), "vehicles.watched to "+n.notif.Email)
}

// Account news: an invitation, a join, a new member added, a role saved
// (with its impact, and each holder's gains and losses), the paid vehicles
// all in use.
func TestMailAccountNews(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	owner := n.acct.Owner.Actor
	mark := mailMark(t, a)
	_, token, err := a.db.CreateInvitation(n.ctx, owner, db.NewInvitation{Email: "new@notify.test", RoleID: n.acct.role(t, perm.Driver), VehicleAccess: "selected"})
	if err != nil {
		t.Fatal(err)
	}
	wantSent(t, "invitation", mailsSince(t, a, mark), "members.invited to "+n.admin.Email)
	mark = mailMark(t, a)
	if _, err := a.db.AcceptInvitation(n.ctx, token, db.Acceptance{FirstName: "New", LastName: "Person", PasswordHash: fixtureHash(t)}); err != nil {
		t.Fatal(err)
	}
	wantSent(t, "join", mailsSince(t, a, mark), "members.joined to "+n.acct.Owner.Email, "members.joined to "+n.admin.Email)

	mark = mailMark(t, a)
	r, err := a.db.Role(n.ctx, owner, n.acct.role(t, perm.Driver))
	if err != nil {
		t.Fatal(err)
	}
	set := r.Perms.Clone()
	set[perm.ReportsView] = map[string]int{}
	res, err := a.db.SaveRole(n.ctx, owner, db.RoleSave{RoleID: r.ID, Version: r.Version, Perms: set})
	if err != nil {
		t.Fatal(err)
	}
	ms := mailsSince(t, a, mark)
	newcomer := "new@notify.test"
	wantSent(t, "role saved", ms, "roles.saved to "+n.admin.Email, "you.role to "+n.driver.Email, "you.role to "+newcomer)
	for _, m := range ms {
		if m.Kind == db.KindRoleSaved && !strings.Contains(m.Body, res.Impact.Summary()) {
			t.Errorf("role saved without its impact %q: %s", res.Impact.Summary(), m.Body)
		}
		if m.Kind == db.KindRoleChanged && !strings.Contains(m.Body, "You can now: View dashboard and reports") {
			t.Errorf("holder not told what they gained: %s", m.Body)
		}
	}

	mark = mailMark(t, a)
	sub, err := a.db.Subscription(n.ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.UpdateSubscription(n.ctx, owner, db.SubscriptionChange{PaidVehicles: sub.InUse, EndsOn: sub.EndsOn, Version: sub.Version}); err != nil {
		t.Fatal(err)
	}
	wantSent(t, "paid vehicles all in use", mailsSince(t, a, mark), "subscription to "+n.admin.Email)
	// A member without the permission the news needs never receives it,
	// even when they turn it on.
	if err := a.db.SetMailPreferences(n.ctx, n.driver.Actor, map[string]bool{db.KindMemberDeleted: true}); err != nil {
		t.Fatal(err)
	}
	mark = mailMark(t, a)
	if err := a.db.DeleteMember(n.ctx, owner, n.accountant.ID); err != nil {
		t.Fatal(err)
	}
	wantSent(t, "deletion", mailsSince(t, a, mark), "members.deleted to "+n.admin.Email)
}

// A sign-in from a user agent the login never used before is told to the
// member; the first sign-in ever and known devices are not.
func TestMailNewDeviceSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	login := func(ua string) {
		t.Helper()
		c := a.client()
		res := c.postRaw("/login", url.Values{"email": {n.driver.Email}, "password": {db.DemoPassword}, "_csrf": {c.csrf()}}, "User-Agent", ua)
		if res.status != http.StatusSeeOther {
			t.Fatalf("login: %d", res.status)
		}
	}
	mark := mailMark(t, a)
	login("Phone/1")
	login("Phone/1")
	wantSent(t, "first and known device", mailsSince(t, a, mark))
	login("Laptop/2")
	ms := mailsSince(t, a, mark)
	wantSent(t, "new device", ms, "you.sign-in to "+n.driver.Email)
	if len(ms) == 1 && !strings.Contains(ms[0].Body, "Laptop/2") {
		t.Errorf("body does not name the device: %s", ms[0].Body)
	}
}

// Scheduled messages at a fixed clock: access ending in 3 days to the
// member, grants ending this week to subscribers, the subscription's end,
// the Owner's weekly digest; a second run (a restart) sends nothing again.
func TestMailScheduledOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	now := time.Now().UTC().Truncate(time.Second)
	a.db.Now = func() time.Time { return now }
	in2 := now.Add(50 * time.Hour)
	in6 := now.Add(6 * 24 * time.Hour)
	if err := a.db.Grant(n.ctx, n.acct.Owner.Actor, n.driver.ID, db.GrantInput{Kind: "vehicle", TargetID: n.van, Level: db.View, EndsAt: &in2}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.Grant(n.ctx, n.acct.Owner.Actor, n.notif.ID, db.GrantInput{Kind: "group", TargetID: n.south, Level: db.View, EndsAt: &in6}); err != nil {
		t.Fatal(err)
	}
	sub, err := a.db.Subscription(n.ctx, n.acct.Owner.Actor)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.UpdateSubscription(n.ctx, n.acct.Owner.Actor, db.SubscriptionChange{PaidVehicles: sub.PaidVehicles, EndsOn: now.AddDate(0, 0, 10), Version: sub.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.AddPerson(n.ctx, n.acct.Owner.Actor, db.NewPerson{FirstName: "Jo", LastName: "Newcomer", Email: "jo@notify.test",
		PasswordHash: fixtureHash(t), RoleID: n.acct.role(t, perm.Driver), Channel: "web", VehicleAccess: "selected"}); err != nil {
		t.Fatal(err)
	}
	mark := mailMark(t, a)
	if _, err := a.db.SendScheduled(n.ctx); err != nil {
		t.Fatal(err)
	}
	var mine []sentMail
	for _, m := range mailsSince(t, a, mark) {
		if m.Account == n.acct.ID {
			mine = append(mine, m)
		}
	}
	wantSent(t, "scheduled", mine,
		"you.access-ending to "+n.driver.Email,
		"grants.ending to "+n.acct.Owner.Email, "grants.ending to "+n.admin.Email,
		"subscription to "+n.acct.Owner.Email, "subscription to "+n.admin.Email,
		"digest.weekly to "+n.acct.Owner.Email)
	for _, m := range mine {
		switch m.Kind {
		case db.KindGrantEnding:
			if !strings.Contains(m.Body, "2 grants") && !strings.Contains(m.Subject, "2 grants") {
				t.Errorf("grants ending: %s / %s", m.Subject, m.Body)
			}
		case db.KindDigest:
			for _, want := range []string{"Joined:", "Added Jo Newcomer as Driver", "Grants ending in the next 7 days:", "Van"} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("digest lacks %q:\n%s", want, m.Body)
				}
			}
		}
	}
	// Again, and a day later: nothing is sent twice.
	mark = mailMark(t, a)
	if _, err := a.db.SendScheduled(n.ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	if _, err := a.db.SendScheduled(n.ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range mailsSince(t, a, mark) {
		if m.Account == n.acct.ID && m.Kind != db.KindDigest {
			t.Errorf("sent again: %s to %s", m.Kind, m.To)
		}
	}
	// A week later, the next digest.
	now = now.Add(7 * 24 * time.Hour)
	mark = mailMark(t, a)
	if _, err := a.db.SendScheduled(n.ctx); err != nil {
		t.Fatal(err)
	}
	digests := 0
	for _, m := range mailsSince(t, a, mark) {
		if m.Account == n.acct.ID && m.Kind == db.KindDigest {
			digests++
		}
	}
	if digests != 1 {
		t.Errorf("the next week's digest: %d, want 1", digests)
	}
}

// Trips corrected in a finalized month: watchers hear when the month is
// reopened and when it is finalized again, with how many trips changed;
// the first finalization is not news.
func TestMailFinalizedMonthCorrected(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	n := newNotifyCo(t, a)
	if err := a.db.Watch(n.ctx, n.admin.Actor, n.van, true); err != nil {
		t.Fatal(err)
	}
	owner := n.acct.Owner.Actor
	first := time.Now().UTC().AddDate(0, -1, 0)
	month := first.Format("2006-01")
	if _, err := a.db.RecordTrip(n.ctx, owner, n.van, db.TripInput{Date: month + "-02", DistanceKm: 12, Purpose: "business"}); err != nil {
		t.Fatal(err)
	}
	mark := mailMark(t, a)
	if err := a.db.SetMonthFinal(n.ctx, owner, n.van, month, true); err != nil {
		t.Fatal(err)
	}
	wantSent(t, "first finalization", mailsSince(t, a, mark))
	if err := a.db.SetMonthFinal(n.ctx, owner, n.van, month, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.RecordTrip(n.ctx, owner, n.van, db.TripInput{Date: month + "-03", DistanceKm: 5, Purpose: "private"}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.SetMonthFinal(n.ctx, owner, n.van, month, true); err != nil {
		t.Fatal(err)
	}
	ms := mailsSince(t, a, mark)
	wantSent(t, "reopened and finalized again", ms, "vehicles.watched to "+n.admin.Email, "vehicles.watched to "+n.admin.Email)
	if len(ms) == 2 && (!strings.Contains(ms[0].Subject, "reopened") || !strings.Contains(ms[1].Body, "1 trip was corrected")) {
		t.Errorf("messages: %q / %s", ms[0].Subject, ms[1].Body)
	}
}
