package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// reviewClock is the server's clock in an access review test: fixtures
// are made in the past, findings judged at "now".
type reviewClock struct{ unix atomic.Int64 }

func useReviewClock(a *app, at time.Time) *reviewClock {
	c := &reviewClock{}
	c.set(at)
	a.db.Now = func() time.Time { return time.Unix(c.unix.Load(), 0).UTC() }
	return c
}

func (c *reviewClock) set(t time.Time) { c.unix.Store(t.Unix()) }

// signedInAt writes a successful sign-in of the member to the history.
func signedInAt(t testing.TB, a *app, m *fixMember, at time.Time) {
	t.Helper()
	mustExec(t, a, `INSERT INTO sign_ins (user_id, member_id, at, channel, outcome) VALUES (?, ?, ?, 'web', 'ok')`,
		m.UserID, m.ID, at.UTC().Format(time.RFC3339))
}

// usedAllOn records a use of every permission of the member's role on day.
func usedAllOn(t testing.TB, a *app, m *fixMember, day time.Time) {
	t.Helper()
	ctx := context.Background()
	set, _, err := a.db.RoleSet(ctx, m.Actor, m.Actor.RoleID)
	if err != nil {
		t.Fatal(err)
	}
	for k := range set {
		if err := a.db.RecordUseAt(ctx, m.ID, k, day); err != nil {
			t.Fatal(err)
		}
	}
}

// reviewMembers lists the member ids the overview shows at path.
func reviewMembers(t testing.TB, c *client, path string) []int64 {
	t.Helper()
	res := c.get(path)
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.status, res.body)
	}
	var ids []int64
	res.doc().Find(`[data-testid="review-member"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-member", ""), 10, 64)
		ids = append(ids, id)
	})
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func idsOf(ms ...*fixMember) []int64 {
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Each finding of the overview names exactly the members it describes:
// a fixed clock, members made 200 days ago, generated sign-ins, grants,
// tokens and permission uses.
func TestAccessReviewFindingsNameExactlyTheirMembers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	clock := useReviewClock(a, now.AddDate(0, 0, -200))
	acct := mustAccount(t, a, "Review Findings")
	g := mustGroup(t, acct, "Depot", 0)
	v1 := mustVehicle(t, acct, "Van 1", g)
	v2 := mustVehicle(t, acct, "Van 2", g)

	fresh := mustMember(t, acct, perm.Driver, "selected")
	stale := mustMember(t, acct, perm.Driver, "selected")
	never := mustMember(t, acct, perm.Accountant, "selected")
	allv := mustMember(t, acct, perm.Admin, "all")
	wider := mustMember(t, acct, perm.Accountant, "selected")
	ending := mustMember(t, acct, perm.Driver, "selected")
	ended := mustMember(t, acct, perm.Driver, "selected")
	unused := mustMember(t, acct, perm.Manager, "selected")
	tok := mustMember(t, acct, perm.Driver, "selected")
	gone := mustMember(t, acct, perm.Driver, "selected") // deactivated: no findings
	mustSetStatus(t, acct, gone.ID, "deactivated")

	mustGrant(t, acct, wider, "group", g, db.Manage)
	endsSoon := now.Add(7 * 24 * time.Hour)
	endedAt := now.Add(-3 * 24 * time.Hour)
	if err := a.db.Grant(ctx, acct.Owner.Actor, ending.ID, db.GrantInput{Kind: "vehicle", TargetID: v1, Level: db.View, EndsAt: &endsSoon}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.Grant(ctx, acct.Owner.Actor, ended.ID, db.GrantInput{Kind: "vehicle", TargetID: v2, Level: db.Manage, EndsAt: &endedAt}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.CreateInvitation(ctx, acct.Owner.Actor, db.NewInvitation{Email: "ghost@review.test", RoleID: acct.role(t, perm.Driver), VehicleAccess: "selected"}); err != nil {
		t.Fatal(err)
	}
	clock.set(now.AddDate(0, 0, -40))
	if _, _, err := a.db.CreateToken(ctx, tok.ID, "old phone"); err != nil {
		t.Fatal(err)
	}
	clock.set(now.AddDate(0, 0, -5))
	if _, _, err := a.db.CreateToken(ctx, fresh.ID, "new phone"); err != nil {
		t.Fatal(err)
	}
	clock.set(now)
	if _, _, err := a.db.CreateInvitation(ctx, acct.Owner.Actor, db.NewInvitation{Email: "newcomer@review.test", RoleID: acct.role(t, perm.Driver), VehicleAccess: "selected"}); err != nil {
		t.Fatal(err)
	}

	recent := now.AddDate(0, 0, -5)
	for _, m := range []*fixMember{fresh, allv, wider, ending, ended, unused, tok} {
		signedInAt(t, a, m, recent)
	}
	signedInAt(t, a, stale, now.AddDate(0, 0, -100))
	for _, m := range []*fixMember{fresh, stale, allv, wider, ending, ended, tok} {
		usedAllOn(t, a, m, recent)
	}
	// A use older than the window does not count.
	if err := a.db.RecordUseAt(ctx, unused.ID, perm.VehiclesView, now.AddDate(0, 0, -120)); err != nil {
		t.Fatal(err)
	}

	c := acct.Owner.login()
	want := map[db.Finding][]*fixMember{
		db.FindStale:         {stale, never},
		db.FindAllVehicles:   {allv},
		db.FindWiderThanRole: {wider},
		db.FindEnding:        {ending},
		db.FindEnded:         {ended},
		db.FindUnusedPerms:   {unused, never},
		db.FindUnusedTokens:  {tok},
	}
	res := c.get("/access-review")
	if res.status != http.StatusOK {
		t.Fatalf("overview: %d %s", res.status, res.body)
	}
	doc := res.doc()
	for f, ms := range want {
		got := reviewMembers(t, c, "/access-review?finding="+string(f))
		if !equalIDs(got, idsOf(ms...)) {
			t.Errorf("finding %s: members %v, want %v", f, got, idsOf(ms...))
		}
		count := strings.TrimSpace(doc.Find(`[data-testid="finding-` + string(f) + `"] [data-testid="finding-count"]`).Text())
		if count != strconv.Itoa(len(ms)) {
			t.Errorf("finding %s: count %q, want %d", f, count, len(ms))
		}
	}
	// The whole list: every member, the Owner and the deactivated too.
	if got := reviewMembers(t, c, "/access-review"); len(got) != 11 {
		t.Errorf("all members: %d rows, want 11", len(got))
	}
	// The Manager who used nothing: every permission of the role the route
	// table checks, named.
	row := doc.Find(`[data-testid="review-member"][data-member="` + strconv.FormatInt(unused.ID, 10) + `"]`)
	if txt := row.Find(`[data-testid="unused-perms"]`).Text(); !strings.Contains(txt, perm.Label(perm.VehiclesView)) ||
		!strings.Contains(txt, perm.Label(perm.UsersManage)) {
		t.Errorf("unused permissions of the Manager: %q", txt)
	}
	// Vehicle reach in words.
	if r := strings.TrimSpace(doc.Find(`[data-testid="review-member"][data-member="` + strconv.FormatInt(wider.ID, 10) + `"] [data-testid="review-reach"]`).Text()); r != "2 vehicle(s) via 1 group(s)" {
		t.Errorf("reach of the group grant: %q", r)
	}
	// Roles: the Manager role's only holder used nothing; every Driver used all.
	roles := strings.Join(res.find(`[data-testid="role-unused-row"]`), "\n")
	if !strings.Contains(roles, "Manager") || strings.Contains(roles, "Driver") {
		t.Errorf("roles with unused permissions: %q", roles)
	}
	// Invited 200 days ago and never joined; the invitation of today is not a finding.
	never2 := strings.Join(res.find(`[data-testid="never-joined-row"]`), "\n")
	if !strings.Contains(never2, "ghost@review.test") || strings.Contains(never2, "newcomer@review.test") {
		t.Errorf("never joined: %q", never2)
	}
	// The threshold is the account's setting: 120 days makes the member last seen 100 days ago current.
	res = c.postForm("/access-review/settings", url.Values{"stale_days": {"120"}, "every_days": {"90"}, "version": {settingsVersion(t, a, acct)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", res.status, res.body)
	}
	if got := reviewMembers(t, c, "/access-review?finding=stale"); !equalIDs(got, idsOf(never)) {
		t.Errorf("stale after 120 days: %v, want %v", got, idsOf(never))
	}
	res = c.postForm("/access-review/settings", url.Values{"stale_days": {"3"}, "every_days": {"90"}, "version": {settingsVersion(t, a, acct)}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "between 7 and 365") {
		t.Errorf("3 days: %d, want 422 with a message", res.status)
	}
}

func settingsVersion(t testing.TB, a *app, acct *fixAccount) string {
	t.Helper()
	s, err := a.db.AccessReviewSettings(context.Background(), acct.Owner.Actor)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(s.Version)
}

// A Manager who may use the overview (their role given audit.view) fixes
// within their own reach only: the one-click fixes are the ordinary
// writes, and refuse what the Manager could not do on the member's page.
func TestAccessReviewFixStaysWithinTheManagersReach(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	clock := useReviewClock(a, now.AddDate(0, 0, -100))
	acct := mustAccount(t, a, "Review Reach")
	north := mustGroup(t, acct, "North", 0)
	south := mustGroup(t, acct, "South", 0)
	vn := mustVehicle(t, acct, "North van", north)
	vs := mustVehicle(t, acct, "South van", south)
	mgr := mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, mgr, "group", north, db.Manage)
	mustExec(t, a, `INSERT INTO role_permissions (role_id, permission) VALUES (?, 'audit.view')`, acct.role(t, perm.Manager))

	admin := mustMember(t, acct, perm.Admin, "all")
	driverAll := mustMember(t, acct, perm.Driver, "all")
	driverN := mustMember(t, acct, perm.Driver, "selected")
	driverS := mustMember(t, acct, perm.Driver, "selected")
	endedAt := now.Add(-24 * time.Hour)
	for _, g := range []struct {
		m *fixMember
		v int64
	}{{driverN, vn}, {driverS, vs}} {
		if err := a.db.Grant(ctx, acct.Owner.Actor, g.m.ID, db.GrantInput{Kind: "vehicle", TargetID: g.v, Level: db.View, EndsAt: &endedAt}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.db.CreateToken(ctx, admin.ID, "admin script"); err != nil {
		t.Fatal(err)
	}
	clock.set(now)
	signedInAt(t, a, mgr, now)
	c := mgr.login()

	res := c.get("/access-review")
	if res.status != http.StatusOK {
		t.Fatalf("overview as Manager: %d %s", res.status, res.body)
	}
	adminRow := res.doc().Find(`[data-testid="review-member"][data-member="` + strconv.FormatInt(admin.ID, 10) + `"]`)
	if adminRow.Find(`[data-testid="has-all_vehicles"]`).Length() != 1 || adminRow.Find("button").Length() != 0 {
		t.Errorf("the Admin's row: a finding without any fix is expected for a Manager")
	}

	fix := func(v url.Values) response { return c.postForm("/access-review/fix", v) }
	id := func(m *fixMember) string { return strconv.FormatInt(m.ID, 10) }
	// The Admin's role is wider than the Manager's: no fix touches them.
	if res := fix(url.Values{"fix": {"selected"}, "member": {id(admin)}}); res.status != http.StatusForbidden {
		t.Errorf("limit the Admin: %d, want 403", res.status)
	}
	if res := fix(url.Values{"fix": {"revoke-token"}, "member": {id(admin)}, "token": {"1"}}); res.status != http.StatusForbidden {
		t.Errorf("revoke the Admin's token: %d, want 403", res.status)
	}
	// All vehicles is given and taken only by members who have all vehicles.
	if res := fix(url.Values{"fix": {"selected"}, "member": {id(driverAll)}}); res.status != http.StatusForbidden ||
		!strings.Contains(res.body, "Only members with access to all vehicles") {
		t.Errorf("limit a Driver with all vehicles: %d, want 403 with the rule", res.status)
	}
	// A grant on a vehicle outside the Manager's groups: not even there.
	if res := fix(url.Values{"fix": {"revoke-grant"}, "member": {id(driverS)}, "kind": {"vehicle"}, "target": {strconv.FormatInt(vs, 10)}}); res.status != http.StatusNotFound {
		t.Errorf("remove a grant in South: %d, want 404", res.status)
	}
	var unchanged bool
	if err := a.db.QueryRowForTest(ctx, `SELECT (SELECT vehicle_access FROM members WHERE id = ?) = 'all' AND (SELECT vehicle_access FROM members WHERE id = ?) = 'all'
		AND (SELECT COUNT(*) FROM member_vehicle_grants WHERE member_id = ?) = 1 AND (SELECT COUNT(*) FROM api_tokens WHERE member_id = ?) = 1`,
		admin.ID, driverAll.ID, driverS.ID, admin.ID).Scan(&unchanged); err != nil || !unchanged {
		t.Errorf("a refused fix changed something (%v)", err)
	}
	// Within reach: the ended grant in North goes, audited.
	if res := fix(url.Values{"fix": {"revoke-grant"}, "member": {id(driverN)}, "kind": {"vehicle"}, "target": {strconv.FormatInt(vn, 10)},
		"back": {"/access-review?finding=ended"}}); res.status != http.StatusSeeOther || res.header.Get("Location") != "/access-review?finding=ended" {
		t.Fatalf("remove a grant in North: %d %s", res.status, res.header.Get("Location"))
	}
	var n int
	if err := a.db.QueryRowForTest(ctx, `SELECT (SELECT COUNT(*) FROM member_vehicle_grants WHERE member_id = ?) * 10 +
		(SELECT COUNT(*) FROM audit_events WHERE kind = 'access.revoke' AND actor_member_id = ?)`, driverN.ID, mgr.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("grants left and audit events: %d, want 0 grants and 1 event (%v)", n, err)
	}
	// An address elsewhere is not where a fix returns.
	if res := fix(url.Values{"fix": {"deactivate"}, "member": {id(driverN)}, "back": {"https://evil.example/"}}); res.status != http.StatusSeeOther ||
		res.header.Get("Location") != "/access-review" {
		t.Errorf("deactivate: %d %s", res.status, res.header.Get("Location"))
	}
	// The Manager lacks account.settings: the settings form is not offered, and refused.
	if strings.Contains(c.get("/access-review").body, `data-testid="review-settings"`) {
		t.Error("the settings form is offered to a Manager")
	}
	if res := c.postForm("/access-review/settings", url.Values{"stale_days": {"30"}, "every_days": {"90"}}); res.status != http.StatusForbidden {
		t.Errorf("settings as Manager: %d, want 403", res.status)
	}
}

// A review is started, left, resumed and finished; finished, it is on
// record for good (the reviewer, the database and another Admin cannot
// change it), listed in history and exported as CSV with neutralised cells.
func TestAccessReviewFinishedIsImmutableAndExported(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	useReviewClock(a, now)
	acct := mustAccount(t, a, "Review Record")
	keep := mustMember(t, acct, perm.Driver, "selected")
	revoke := mustMember(t, acct, perm.Driver, "selected")
	change := mustMember(t, acct, perm.Accountant, "selected")
	other := mustMember(t, acct, perm.Admin, "all")
	mustExec(t, a, `UPDATE users SET first_name = '=HYPERLINK("x")' WHERE id = ?`, keep.UserID)
	c := acct.Owner.login()

	res := c.postForm("/access-review/reviews", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	path := res.header.Get("Location")
	rid := strings.TrimPrefix(path, "/access-review/reviews/")
	page := c.get(path)
	if got := len(page.find(`[data-testid="review-item"]`)); got != 4 {
		t.Fatalf("members to review: %d, want 4 (everyone but the Owner)", got)
	}
	decide := func(cl *client, m *fixMember, d string) response {
		return cl.postForm(path+"/decide", url.Values{"member": {strconv.FormatInt(m.ID, 10)}, "decision": {d}})
	}
	if res := decide(c, keep, "keep"); res.status != http.StatusSeeOther {
		t.Fatalf("keep: %d %s", res.status, res.body)
	}
	if res := decide(c, change, "change"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/users/"+strconv.FormatInt(change.ID, 10) {
		t.Fatalf("change: %d %s, want the member's editor", res.status, res.header.Get("Location"))
	}
	// Another Admin may look but not decide in the Owner's review.
	oc := other.login()
	if res := decide(oc, revoke, "keep"); res.status != http.StatusForbidden {
		t.Errorf("another reviewer decides: %d, want 403", res.status)
	}
	// Not finished while someone has no decision.
	if res := c.postForm(path+"/finish", nil); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "2 member(s) have no decision") {
		t.Errorf("finish too early: %d", res.status)
	}
	// Leave and resume: starting again opens the same review.
	if res := c.postForm("/access-review/reviews", nil); res.header.Get("Location") != path {
		t.Errorf("resume: %s, want %s", res.header.Get("Location"), path)
	}
	if res := decide(c, revoke, "revoke"); res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := decide(c, other, "keep"); res.status != http.StatusSeeOther {
		t.Fatalf("keep: %d", res.status)
	}
	var status string
	if err := a.db.QueryRowForTest(ctx, `SELECT status FROM members WHERE id = ?`, revoke.ID).Scan(&status); err != nil || status != "deactivated" {
		t.Errorf("revoked member: %q, want deactivated", status)
	}
	if res := c.postForm(path+"/finish", nil); res.status != http.StatusSeeOther {
		t.Fatalf("finish: %d %s", res.status, res.body)
	}
	// On record: no decision changes, not through the console nor the database.
	if res := decide(c, keep, "revoke"); res.status != http.StatusConflict {
		t.Errorf("decide after finishing: %d, want 409", res.status)
	}
	if err := a.db.ExecForTest(ctx, `UPDATE access_review_items SET decision = 'revoke' WHERE review_id = ?`, rid); err == nil {
		t.Error("the database let a finished review's decisions change")
	}
	if err := a.db.ExecForTest(ctx, `DELETE FROM access_reviews WHERE id = ?`, rid); err == nil {
		t.Error("the database let a finished review be deleted")
	}
	page = c.get(path)
	if !strings.Contains(strings.Join(page.find(`[data-testid="review-state"]`), ""), "on record") || strings.Contains(page.body, `data-testid="decide-keep"`) {
		t.Error("the finished review still offers decisions")
	}
	hist := c.get("/access-review/reviews")
	if rows := hist.find(`[data-testid="review-counts"]`); len(rows) != 1 || strings.Join(strings.Fields(rows[0]), "") != "2/1/1" {
		t.Errorf("history: %v, want one review 2/1/1", rows)
	}
	// The next review date: 90 days on.
	if s, err := a.db.AccessReviewSettings(ctx, acct.Owner.Actor); err != nil || s.NextReviewOn != "2026-09-13" {
		t.Errorf("next review: %q (%v)", s.NextReviewOn, err)
	}
	// The export: who reviewed whom, with decisions; formulas neutralised.
	res = c.get(path + "/export.csv")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.status, res.header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("export: %d records (%v)", len(recs), err)
	}
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[6]] = r[9]
		if r[1] != "Owen Review Record" || r[3] == "" {
			t.Errorf("reviewer and finish time: %v", r)
		}
		if strings.HasPrefix(r[5], "=") {
			t.Errorf("a formula cell: %q", r[5])
		}
	}
	if got[keep.Email] != "keep" || got[revoke.Email] != "revoke" || got[change.Email] != "change" || got[other.Email] != "keep" {
		t.Errorf("decisions exported: %v", got)
	}
	var events int
	if err := a.db.QueryRowForTest(ctx, `SELECT COUNT(*) FROM audit_events WHERE kind IN ('access_review.start', 'access_review.finish', 'member.deactivate') AND account_id = ?`,
		acct.ID).Scan(&events); err != nil || events != 3 {
		t.Errorf("audit events: %d, want start, deactivate, finish", events)
	}
}

// Requests note the permissions they pass with, in memory; a flush writes
// one row per member, permission and day however many requests there were.
func TestPermissionUseIsRecordedOncePerDay(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	d := actorByEmail(t, a, "driver@demo.test")
	c := a.login("driver@demo.test")
	for range 3 {
		if res := c.get("/trips"); res.status != http.StatusOK {
			t.Fatalf("trips: %d", res.status)
		}
	}
	if res := c.get("/users"); res.status != http.StatusForbidden {
		t.Fatalf("users as Driver: %d", res.status)
	}
	if err := a.db.FlushUses(ctx); err != nil {
		t.Fatal(err)
	}
	if a.db.PendingUses() != 0 {
		t.Error("uses left after a flush")
	}
	c.get("/trips")
	if a.db.PendingUses() != 0 {
		t.Error("a use already noted today was noted again")
	}
	rows, err := a.db.QueryForTest(ctx, `SELECT permission, COUNT(*) FROM permission_uses WHERE member_id = ? GROUP BY permission ORDER BY permission`, d.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		got[k] = n
	}
	if len(got) != 1 || got["trips.view"] != 1 {
		t.Errorf("uses of the Driver: %v, want trips.view once", got)
	}
}

// Two roles side by side, and what giving a member a role or a group
// would change, in permissions and vehicles.
func TestRoleCompareAndWhatIf(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := mustAccount(t, a, "What If")
	north := mustGroup(t, acct, "North", 0)
	south := mustGroup(t, acct, "South", 0)
	mustVehicle(t, acct, "N1", north)
	mustVehicle(t, acct, "N2", north)
	for _, n := range []string{"S1", "S2", "S3"} {
		mustVehicle(t, acct, n, south)
	}
	drv := mustMember(t, acct, perm.Driver, "selected")
	mustGrant(t, acct, drv, "group", north, db.View)
	mgr := mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, mgr, "group", north, db.Manage)
	c := acct.Owner.login()
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	res := c.get("/roles/compare?a=" + id(acct.role(t, perm.Accountant)) + "&b=" + id(acct.role(t, perm.Manager)))
	if res.status != http.StatusOK {
		t.Fatalf("compare: %d", res.status)
	}
	gain, lose := strings.Join(res.find(`[data-testid="compare-gain"]`), ""), strings.Join(res.find(`[data-testid="compare-lose"]`), "")
	if !strings.Contains(gain, perm.Label(perm.UsersManage)) || !strings.Contains(lose, perm.Label(perm.AuditView)) || strings.Contains(gain, perm.Label(perm.AuditView)) {
		t.Errorf("Accountant to Manager: gain %q, lose %q", gain, lose)
	}
	if res := c.get("/roles/compare?a=999999&b=1"); res.status != http.StatusNotFound {
		t.Errorf("unknown role: %d, want 404", res.status)
	}

	res = c.htmx("/users/"+id(drv.ID)+"/what-if?role_id="+id(acct.role(t, perm.Manager)), "what-if-role")
	if res.status != http.StatusOK || !strings.Contains(strings.Join(res.find(`[data-testid="what-if-gain"]`), ""), perm.Label(perm.UsersManage)) ||
		strings.Join(strings.Fields(strings.Join(res.find(`[data-testid="what-if-vehicles"]`), "")), " ") != "Vehicles seen: 2 → 2" {
		t.Errorf("what if the Driver became Manager: %d %s", res.status, res.body)
	}
	res = c.htmx("/users/"+id(drv.ID)+"/what-if?kind=group&target_id="+id(south)+"&level=manage", "what-if-group")
	if v, m := strings.Join(strings.Fields(strings.Join(res.find(`[data-testid="what-if-vehicles"]`), "")), " "),
		strings.Join(strings.Fields(strings.Join(res.find(`[data-testid="what-if-manage"]`), "")), " "); v != "Vehicles seen: 2 → 5" || m != "Vehicles they can change: 0 → 3" {
		t.Errorf("what if South at manage: %q, %q", v, m)
	}
	// A Manager of North cannot even ask about South.
	if res := mgr.login().htmx("/users/"+id(drv.ID)+"/what-if?kind=group&target_id="+id(south), "what-if-group"); res.status != http.StatusNotFound {
		t.Errorf("what if South, as the Manager of North: %d, want 404", res.status)
	}
}
