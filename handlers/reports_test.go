package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// Home, dashboard and reports. The totals tests build one account with two
// regions and trips of several drivers, then check every member's
// dashboard and report against the trips that member may see, computed
// here from the fixture's own list.

// fleetTrip is a trip of the fixture, as the test knows it.
type fleetTrip struct {
	vehicle, driver, client int64
	date                    string
	km                      float64
	purpose                 string
}

// dashFleet is the fixture: regions North (N1, N2, N3 idle) and South
// (S1, S2 idle), clients C1 and C2, and members of every kind of scope.
type dashFleet struct {
	acct             *fixAccount
	north, south     int64
	vehicles         map[int64]string
	region           map[int64]int64 // vehicle -> group
	c1, c2           int64
	mgrN, mgrS       *fixMember // Managers scoped to one region (group grant)
	driver           *fixMember // own trips only, on N1 and S1, with reports.view
	limited          *fixMember // all vehicles, history limited to 30 days
	trips            []fleetTrip
	today, old, last string
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// memberWithRole adds a login to the account with a role given by id.
func memberWithRole(t testing.TB, acct *fixAccount, roleID int64, access, tag string) *fixMember {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("%s-%d@%s.test", tag, fixtureSeq.Add(1), acct.slug)
	uid, err := acct.a.db.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: fixtureHash(t), FirstName: "Fix", LastName: tag})
	if err != nil {
		t.Fatal(err)
	}
	id, err := acct.a.db.AddMember(ctx, acct.Owner.Actor, db.NewMember{UserID: uid, RoleID: roleID, Channel: "web", VehicleAccess: access})
	if err != nil {
		t.Fatalf("add %s: %v", email, err)
	}
	return fixtureMember(t, acct.a, id, uid, email)
}

// customRole creates a role with exactly these permissions.
func customRole(t testing.TB, acct *fixAccount, name string, set perm.Set) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := acct.a.db.CreateRole(ctx, acct.Owner.Actor, db.NewRole{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := acct.a.db.Role(ctx, acct.Owner.Actor, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acct.a.db.SaveRole(ctx, acct.Owner.Actor, db.RoleSave{RoleID: id, Version: r.Version, Perms: set}); err != nil {
		t.Fatal(err)
	}
	return id
}

func newDashFleet(t testing.TB, a *app) *dashFleet {
	t.Helper()
	ctx := context.Background()
	f := &dashFleet{acct: mustAccount(t, a, fmt.Sprintf("Dash %d", fixtureSeq.Add(1))), vehicles: map[int64]string{}, region: map[int64]int64{}}
	acct := f.acct
	f.north, f.south = mustGroup(t, acct, "North", 0), mustGroup(t, acct, "South", 0)
	add := func(name string, g int64) int64 {
		id := mustVehicle(t, acct, name, g)
		f.vehicles[id], f.region[id] = name, g
		return id
	}
	n1, n2, _ := add("N1", f.north), add("N2", f.north), add("N3 idle", f.north)
	s1, _ := add("S1", f.south), add("S2 idle", f.south)
	f.c1, f.c2 = mustClient(t, acct, "Client One"), mustClient(t, acct, "Client Two")

	f.mgrN = mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, f.mgrN, "group", f.north, db.Manage)
	f.mgrS = mustMember(t, acct, perm.Manager, "selected")
	mustGrant(t, acct, f.mgrS, "group", f.south, db.Manage)
	driverRole := customRole(t, acct, "Driver with reports", perm.Set{perm.ReportsView: {}, perm.VehiclesView: {},
		perm.TripsView: {perm.ScopeOwnOnly: 1}, perm.TripsRecord: {}})
	f.driver = memberWithRole(t, acct, driverRole, "selected", "driver")
	mustGrant(t, acct, f.driver, "vehicle", n1, db.Manage)
	mustGrant(t, acct, f.driver, "vehicle", s1, db.Manage)
	limitedRole := customRole(t, acct, "Auditor, 30 days", perm.Set{perm.ReportsView: {}, perm.VehiclesView: {},
		perm.TripsView: {perm.ScopeHistoryDays: 30}})
	f.limited = memberWithRole(t, acct, limitedRole, "all", "auditor")

	now := a.db.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	f.today, f.last, f.old = day(now), day(first.AddDate(0, -1, 14)), day(now.AddDate(0, 0, -45))
	recent := day(now.AddDate(0, 0, -3))
	this := day(first)
	o := acct.Owner.ID
	for _, tr := range []fleetTrip{
		{n1, f.driver.ID, f.c1, this, 10, "business"},
		{n1, f.mgrN.ID, 0, this, 20, "private"},
		{n2, f.mgrN.ID, f.c2, f.last, 30, "business"},
		{n2, o, f.c1, recent, 5, "business"},
		{s1, f.driver.ID, f.c1, this, 40, "business"},
		{s1, o, 0, f.last, 50, "private"},
		{s1, f.driver.ID, f.c2, recent, 7, "private"},
		{n2, o, f.c1, f.old, 60, "business"},
		{s1, f.driver.ID, 0, f.old, 70, "business"},
	} {
		if _, err := a.db.RecordTrip(ctx, acct.Owner.Actor, tr.vehicle, db.TripInput{Date: tr.date, DriverID: tr.driver, ClientID: tr.client,
			DistanceKm: tr.km, Purpose: tr.purpose}); err != nil {
			t.Fatalf("trip %+v: %v", tr, err)
		}
		f.trips = append(f.trips, tr)
	}
	return f
}

// sees tells which fixture trips a member sees: the rules of the trip
// list, written out for this fixture.
func (f *dashFleet) sees(m *fixMember) func(fleetTrip) bool {
	switch m {
	case f.acct.Owner:
		return func(fleetTrip) bool { return true }
	case f.mgrN:
		return func(tr fleetTrip) bool { return f.region[tr.vehicle] == f.north }
	case f.mgrS:
		return func(tr fleetTrip) bool { return f.region[tr.vehicle] == f.south }
	case f.driver:
		return func(tr fleetTrip) bool { return tr.driver == f.driver.ID }
	case f.limited:
		since := day(f.acct.a.db.Now().UTC().AddDate(0, 0, -30))
		return func(tr fleetTrip) bool { return tr.date >= since }
	}
	panic("unknown member")
}

// dashNumbers is what a dashboard shows in its purpose table, as
// "purpose month" -> "trips/km".
func dashNumbers(t testing.TB, c *client) (map[string]string, string) {
	t.Helper()
	res := c.get("/dashboard")
	if res.status != http.StatusOK {
		t.Fatalf("dashboard: %d %s", res.status, res.body)
	}
	doc := res.doc()
	out := map[string]string{}
	for _, pur := range []string{"business", "private", "all"} {
		row := doc.Find(`[data-testid="dash-` + pur + `"]`)
		out[pur+" this"] = row.Find(`[data-testid="this-trips"]`).Text() + "/" + row.Find(`[data-testid="this-km"]`).AttrOr("data-km", "")
		out[pur+" last"] = row.Find(`[data-testid="last-trips"]`).Text() + "/" + row.Find(`[data-testid="last-km"]`).AttrOr("data-km", "")
	}
	return out, strings.TrimSpace(doc.Find(`[data-testid="scope-banner"]`).Text())
}

// wantDash computes a dashboard's purpose table from the fixture.
func (f *dashFleet) wantDash(sees func(fleetTrip) bool) map[string]string {
	month := f.today[:7]
	type acc struct {
		n  int
		km float64
	}
	sums := map[string]*acc{}
	for _, k := range []string{"business this", "private this", "all this", "business last", "private last", "all last"} {
		sums[k] = &acc{}
	}
	lastMonth := f.last[:7]
	for _, tr := range f.trips {
		if !sees(tr) {
			continue
		}
		which := ""
		switch tr.date[:7] {
		case month:
			which = " this"
		case lastMonth:
			which = " last"
		default:
			continue
		}
		for _, k := range []string{tr.purpose + which, "all" + which} {
			sums[k].n++
			sums[k].km += tr.km
		}
	}
	out := map[string]string{}
	for k, s := range sums {
		out[k] = strconv.Itoa(s.n) + "/" + fmt.Sprintf("%.1f", s.km)
	}
	return out
}

// reportRows reads one ranking of a report as id -> "trips/business/private".
func reportRows(doc *goquery.Document, table string) map[int64]string {
	out := map[int64]string{}
	doc.Find(`[data-testid="` + table + `"] [data-testid="report-row"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-id", ""), 10, 64)
		out[id] = s.Find(`[data-testid="row-trips"]`).Text() + "/" + s.Find(`[data-testid="row-business"]`).AttrOr("data-km", "") +
			"/" + s.Find(`[data-testid="row-private"]`).AttrOr("data-km", "")
	})
	return out
}

// wantRows computes a ranking of the fixture's trips from..to by key.
func (f *dashFleet) wantRows(sees func(fleetTrip) bool, from, to string, key func(fleetTrip) int64) map[int64]string {
	type acc struct {
		n      int
		bk, pk float64
	}
	sums := map[int64]*acc{}
	for _, tr := range f.trips {
		if !sees(tr) || tr.date < from || tr.date > to {
			continue
		}
		k := key(tr)
		if sums[k] == nil {
			sums[k] = &acc{}
		}
		sums[k].n++
		if tr.purpose == "business" {
			sums[k].bk += tr.km
		} else {
			sums[k].pk += tr.km
		}
	}
	out := map[int64]string{}
	for k, s := range sums {
		out[k] = fmt.Sprintf("%d/%.1f/%.1f", s.n, s.bk, s.pk)
	}
	return out
}

func sameMap[K comparable](t testing.TB, what string, got, want map[K]string) {
	t.Helper()
	if fmt.Sprint(sortedMap(got)) != fmt.Sprint(sortedMap(want)) {
		t.Errorf("%s:\n got %v\nwant %v", what, sortedMap(got), sortedMap(want))
	}
}

func sortedMap[K comparable](m map[K]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprint(k)+"="+v)
	}
	sort.Strings(out)
	return out
}

// TestDashboardAndReportsCountExactlyWhatEachMemberSees checks the
// numbers of the dashboard and of a report for the Owner, a Manager of
// each region, a Driver with "own trips only" and a role whose history is
// limited to 30 days: each gets exactly the totals of their trips, says
// what they are based on, and the Owner's totals are the regions' sum.
func TestDashboardAndReportsCountExactlyWhatEachMemberSees(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	f := newDashFleet(t, a)
	from, to := day(a.db.Now().UTC().AddDate(0, 0, -60)), f.today
	cases := []struct {
		name   string
		m      *fixMember
		banner string
	}{
		{"owner", f.acct.Owner, "Based on all 5 vehicles of the account."},
		{"manager north", f.mgrN, "Based on the 3 vehicles you can access."},
		{"manager south", f.mgrS, "Based on the 2 vehicles you can access."},
		{"driver own trips", f.driver, "Based on the 2 vehicles you can access, only the trips you drove."},
		{"history 30 days", f.limited, "Based on all 5 vehicles of the account; trips before " + day(a.db.Now().UTC().AddDate(0, 0, -30)) + " are beyond your history limit and not counted."},
	}
	dash := map[string]map[string]string{}
	for _, tc := range cases {
		c := tc.m.login()
		sees := f.sees(tc.m)
		got, banner := dashNumbers(t, c)
		dash[tc.name] = got
		if banner != tc.banner {
			t.Errorf("%s: banner %q, want %q", tc.name, banner, tc.banner)
		}
		sameMap(t, tc.name+" dashboard", got, f.wantDash(sees))

		res := c.get("/reports?" + url.Values{"from": {from}, "to": {to}}.Encode())
		if res.status != http.StatusOK {
			t.Fatalf("%s report: %d %s", tc.name, res.status, res.body)
		}
		doc := res.doc()
		if got := strings.TrimSpace(doc.Find(`[data-testid="scope-banner"]`).Text()); got != tc.banner {
			t.Errorf("%s: report banner %q", tc.name, got)
		}
		sameMap(t, tc.name+" per vehicle", reportRows(doc, "report-vehicles"), f.wantRows(sees, from, to, func(tr fleetTrip) int64 { return tr.vehicle }))
		sameMap(t, tc.name+" per driver", reportRows(doc, "report-drivers"), f.wantRows(sees, from, to, func(tr fleetTrip) int64 { return tr.driver }))
		sameMap(t, tc.name+" per client", reportRows(doc, "report-clients"), f.wantRows(sees, from, to, func(tr fleetTrip) int64 { return tr.client }))
		all := f.wantRows(sees, from, to, func(fleetTrip) int64 { return 0 })[0]
		if all == "" {
			all = "0/0.0/0.0"
		}
		split := doc.Find(`[data-testid="split-trips"]`).Text() + "/" + doc.Find(`[data-testid="split-business"]`).AttrOr("data-km", "") +
			"/" + doc.Find(`[data-testid="split-private"]`).AttrOr("data-km", "")
		if split != all {
			t.Errorf("%s: split %s, want %s", tc.name, split, all)
		}
	}
	// The Owner's totals are the sum of the two regions'.
	for k, v := range dash["owner"] {
		var n1, n2 int
		var k1, k2 float64
		fmt.Sscanf(dash["manager north"][k], "%d/%f", &n1, &k1)
		fmt.Sscanf(dash["manager south"][k], "%d/%f", &n2, &k2)
		if sum := fmt.Sprintf("%d/%.1f", n1+n2, k1+k2); sum != v {
			t.Errorf("owner %s = %s, regions add up to %s", k, v, sum)
		}
	}
	// The fixture has trips in both months for the Owner; the test is not vacuous.
	if dash["owner"]["all this"] == "0/0.0" || dash["owner"]["all last"] == "0/0.0" {
		t.Fatalf("owner dashboard is empty: %v", dash["owner"])
	}
}

// TestDashboardListsAreScoped: top vehicles, idle vehicles and ending
// grants cover only the member's vehicles.
func TestDashboardListsAreScoped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	f := newDashFleet(t, a)
	ends := a.db.Now().Add(72 * time.Hour)
	s2 := int64(0)
	for id, name := range f.vehicles {
		if name == "S2 idle" {
			s2 = id
		}
	}
	if err := a.db.Grant(context.Background(), f.acct.Owner.Actor, f.limited.ID, db.GrantInput{Kind: "vehicle", TargetID: s2, Level: db.View, EndsAt: &ends}); err != nil {
		t.Fatal(err)
	}
	names := func(c *client, sel string) []string {
		var out []string
		c.get("/dashboard").doc().Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
		sort.Strings(out)
		return out
	}
	n, o := f.mgrN.login(), f.acct.Owner.login()
	// Top vehicles: those with trips this month that the member sees
	// (fewer than five, so all of them).
	top := func(m *fixMember) string {
		set := map[string]bool{}
		for _, tr := range f.trips {
			if f.sees(m)(tr) && tr.date[:7] == f.today[:7] {
				set[f.vehicles[tr.vehicle]] = true
			}
		}
		var out []string
		for name := range set {
			out = append(out, name)
		}
		sort.Strings(out)
		return fmt.Sprint(out)
	}
	if got := names(n, `[data-testid="top-vehicles"] th[scope=row]`); fmt.Sprint(got) != top(f.mgrN) || contains(got, "S1") {
		t.Errorf("north top vehicles: %v, want %s", got, top(f.mgrN))
	}
	if got := names(o, `[data-testid="top-vehicles"] th[scope=row]`); fmt.Sprint(got) != top(f.acct.Owner) || !contains(got, "S1") {
		t.Errorf("owner top vehicles: %v, want %s", got, top(f.acct.Owner))
	}
	if got := names(n, `[data-testid="idle-list"] li`); !contains(got, "N3 idle") || contains(got, "S2 idle") {
		t.Errorf("north idle vehicles: %v", got)
	}
	if got := names(o, `[data-testid="idle-list"] li`); !contains(got, "N3 idle") || !contains(got, "S2 idle") {
		t.Errorf("owner idle vehicles: %v", got)
	}
	// The grant on S2 ends this week: the Owner and the South Manager
	// see it, the North Manager does not.
	if got := names(o, `[data-testid="ending-grants"] li`); len(got) != 1 || !strings.Contains(got[0], "S2 idle") {
		t.Errorf("owner ending grants: %v", got)
	}
	if got := names(f.mgrS.login(), `[data-testid="ending-grants"] li`); len(got) != 1 {
		t.Errorf("south ending grants: %v", got)
	}
	if got := names(n, `[data-testid="ending-grants"] li`); len(got) != 0 {
		t.Errorf("north ending grants: %v", got)
	}
	// The subscription's vehicles are a billing fact: shown to those with
	// billing.view only.
	if got := o.get("/dashboard").find(`[data-testid="dash-subscription"] strong`); fmt.Sprint(got) != "[5]" {
		t.Errorf("owner subscription: %v", got)
	}
	if got := n.get("/dashboard").find(`[data-testid="dash-subscription"]`); len(got) != 0 {
		t.Errorf("a Manager sees the subscription: %v", got)
	}
}

// TestReportPeriodIsValidated: a bad period re-renders the form with the
// values typed and a message next to the field.
func TestReportPeriodIsValidated(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("accountant@demo.test")
	for _, tc := range []struct {
		from, to, field, want string
	}{
		{"2026-13-01", "2026-11-01", "from", "YYYY-MM-DD"},
		{"2026-11-01", "yesterday", "to", "YYYY-MM-DD"},
		{"2026-11-10", "2026-11-01", "to", "cannot be before"},
		{"2024-01-01", "2026-01-01", "to", "at most 366 days"},
	} {
		res := c.get("/reports?" + url.Values{"from": {tc.from}, "to": {tc.to}}.Encode())
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(fieldMsg(res, tc.field), tc.want) {
			t.Errorf("%s..%s: %d %q", tc.from, tc.to, res.status, fieldMsg(res, tc.field))
		}
		doc := res.doc()
		if doc.Find("#report-from").AttrOr("value", "") != tc.from || doc.Find("#report-to").AttrOr("value", "") != tc.to {
			t.Errorf("%s..%s: values not kept", tc.from, tc.to)
		}
		if doc.Find("#report-"+tc.field).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("%s not marked invalid", tc.field)
		}
		if len(res.find(`[data-testid="report-vehicles"]`)) != 0 {
			t.Errorf("%s..%s: rows shown for a bad period", tc.from, tc.to)
		}
	}
	// The default period is this month; the Accountant may export, so the
	// page links the period's trips export.
	res := c.get("/reports")
	if res.status != http.StatusOK {
		t.Fatalf("reports: %d", res.status)
	}
	today := a.db.TodayFor(actorByEmail(t, a, "accountant@demo.test"))
	want := "/exports/trips.csv?" + url.Values{"from": {today[:8] + "01"}, "to": {today}}.Encode()
	if got := res.doc().Find(`[data-testid="report-export"]`).AttrOr("href", ""); got != want {
		t.Errorf("export link %q, want %q", got, want)
	}
	// The Manager may not export: no link.
	if got := a.login("manager@demo.test").get("/reports").find(`[data-testid="report-export"]`); len(got) != 0 {
		t.Errorf("a Manager is offered the export: %v", got)
	}
}

// TestHomeByRole: "/" leads each built-in role where its work is, and
// that page opens for them; the sidebar offers Dashboard and Reports only
// to those who may open them.
func TestHomeByRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for role, want := range map[string]string{
		"owner": "/dashboard", "admin": "/dashboard", "manager": "/dashboard", "accountant": "/dashboard", "driver": "/my",
	} {
		c := a.login(roleLogins[role])
		res := c.get("/")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != want {
			t.Errorf("%s: home %d %s, want %s", role, res.status, res.header.Get("Location"), want)
			continue
		}
		page := c.get(want)
		if page.status != http.StatusOK {
			t.Errorf("%s: %s answers %d", role, want, page.status)
		}
		nav := strings.Join(page.find(`nav.side a`), ",")
		if has := strings.Contains(nav, "Dashboard") && strings.Contains(nav, "Reports"); has != (want == "/dashboard") {
			t.Errorf("%s: nav %s", role, nav)
		}
	}
	// Roles without reports or trips land on the first section they may
	// open; a role that opens nothing gets a page that says so.
	acct := mustAccount(t, a, "Homes")
	for _, tc := range []struct {
		perms perm.Set
		want  string
	}{
		{perm.Of(perm.UsersView, perm.VehiclesView), "/users"},
		{perm.Of(perm.VehiclesView, perm.AuditView), "/vehicles"},
		{perm.Of(perm.VehiclesView, perm.TripsView), "/vehicles"}, // reads trips, records none: not a driver
		{perm.Of(perm.AuditView), "/audit"},
		{perm.Of(perm.TripsRecord), "/my"},
		{perm.Set{perm.TripsView: {perm.ScopeOwnOnly: 1}}, "/my"},
	} {
		m := memberWithRole(t, acct, customRole(t, acct, "Role "+strings.Join(keysOf(tc.perms), " "), tc.perms), "all", "home")
		c := m.login()
		res := c.get("/")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != tc.want {
			t.Errorf("%v: home %d %s, want %s", keysOf(tc.perms), res.status, res.header.Get("Location"), tc.want)
			continue
		}
		if page := c.get(tc.want); page.status != http.StatusOK {
			t.Errorf("%v: %s answers %d", keysOf(tc.perms), tc.want, page.status)
		}
	}
}

func keysOf(s perm.Set) []string {
	var out []string
	for _, k := range s.Keys() {
		out = append(out, string(k))
	}
	return out
}

// TestDriverHomeShowsTheirVehiclesAndTrips: the demo Driver's home lists
// their vehicles and only their own trips of this month.
func TestDriverHomeShowsTheirVehiclesAndTrips(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("driver@demo.test")
	res := c.get("/my")
	if res.status != http.StatusOK {
		t.Fatalf("my: %d", res.status)
	}
	drv := actorByEmail(t, a, "driver@demo.test")
	month := a.db.TodayFor(drv)[:7]
	vehicles := res.find(`[data-testid="my-vehicle"] > a:first-child`)
	if len(vehicles) == 0 {
		t.Fatal("no vehicles on the driver's home")
	}
	want := idsSQL(t, a, `SELECT id FROM trips WHERE driver_member_id = ? AND substr(trip_date, 1, 7) = ? ORDER BY trip_date, id LIMIT 20`, drv.MemberID, month)
	var got []int64
	res.doc().Find(`[data-testid="my-trips"] [data-testid="trip-row"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-trip-id", ""), 10, 64)
		got = append(got, id)
	})
	sameIDs(t, "driver's trips", got, want)
}
