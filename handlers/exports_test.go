package handlers_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Exports of the demo account: the Owner sees both regions, the Manager
// the North region, the Driver their own trips, and a role with a 30-day
// history limit the last 30 days. Who may export at all is in the access
// matrix; these tests check what each export holds.

// readCSV parses a CSV answer and checks that it is one.
func readCSV(t testing.TB, res response) [][]string {
	t.Helper()
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv; charset=utf-8") {
		t.Fatalf("not a CSV: %d %s %.300s", res.status, res.header.Get("Content-Type"), res.body)
	}
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("CSV: %v", err)
	}
	return recs
}

// column is the index of a named column of a CSV header.
func column(t testing.TB, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %s in %v", name, header)
	return -1
}

// csvTripIDs are the trip ids of a trips export, in order.
func csvTripIDs(t testing.TB, recs [][]string) []int64 {
	t.Helper()
	col := column(t, recs[0], "trip_id")
	var ids []int64
	for _, r := range recs[1:] {
		id, err := strconv.ParseInt(r[col], 10, 64)
		if err != nil {
			t.Fatalf("trip id %q", r[col])
		}
		ids = append(ids, id)
	}
	return ids
}

func sortedIDs(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sameIDSet(t testing.TB, what string, got, want []int64) {
	t.Helper()
	g, w := sortedIDs(got), sortedIDs(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", what, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: row %d is trip %d, want %d", what, i, g[i], w[i])
		}
	}
}

// giveExport lets a built-in role of the demo account export (with
// reports.view, which export requires).
func giveExport(t testing.TB, a *app, builtin string) {
	t.Helper()
	mustExec(t, a, `INSERT INTO role_permissions (role_id, permission) SELECT id, 'reports.view' FROM roles WHERE account_id = 1 AND builtin = ? ON CONFLICT DO NOTHING`, builtin)
	mustExec(t, a, `INSERT INTO role_permissions (role_id, permission) SELECT id, 'reports.export' FROM roles WHERE account_id = 1 AND builtin = ? ON CONFLICT DO NOTHING`, builtin)
}

// yearPeriod is the last 365 days up to today (UTC, the demo's zone).
func yearPeriod() (from, to string) {
	now := time.Now().UTC()
	return now.AddDate(0, 0, -364).Format(time.DateOnly), now.Format(time.DateOnly)
}

// regionTrips are the ids of the demo trips of a region's vehicles in a period.
func regionTrips(t testing.TB, a *app, region, from, to string) []int64 {
	return idsSQL(t, a, `WITH RECURSIVE g(id) AS (SELECT id FROM vehicle_groups WHERE account_id = 1 AND name = ? AND parent_id IS NULL
			UNION SELECT c.id FROM vehicle_groups c JOIN g ON c.parent_id = g.id)
		SELECT t.id FROM trips t JOIN vehicles v ON v.id = t.vehicle_id WHERE v.group_id IN (SELECT id FROM g) AND t.trip_date BETWEEN ? AND ?`,
		region, from, to)
}

func TestExportTripsAreExactlyTheMembersTrips(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	giveExport(t, a, "manager")
	giveExport(t, a, "driver")
	from, to := yearPeriod()
	path := "/exports/trips.csv?from=" + from + "&to=" + to

	owner := csvTripIDs(t, readCSV(t, a.login("owner@demo.test").get(path)))
	all := idsSQL(t, a, `SELECT id FROM trips WHERE account_id = 1 AND trip_date BETWEEN ? AND ?`, from, to)
	if len(all) < 100 {
		t.Fatalf("the demo has only %d trips this year", len(all))
	}
	sameIDSet(t, "owner", owner, all)
	north, south := regionTrips(t, a, "North", from, to), regionTrips(t, a, "South", from, to)
	if len(north) == 0 || len(south) == 0 || len(owner) != len(north)+len(south) {
		t.Fatalf("owner %d rows, regions %d + %d", len(owner), len(north), len(south))
	}

	// The Manager runs the North region: its trips, all drivers.
	manager := readCSV(t, a.login("manager@demo.test").get(path))
	sameIDSet(t, "manager", csvTripIDs(t, manager), north)
	// In date order.
	dates := column(t, manager[0], "date")
	for i := 2; i < len(manager); i++ {
		if manager[i][dates] < manager[i-1][dates] {
			t.Fatalf("row %d out of date order: %s after %s", i, manager[i][dates], manager[i-1][dates])
		}
	}

	// The Driver has "own trips only": the trips they drove.
	driverID := idsSQL(t, a, `SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'driver@demo.test'`)[0]
	driverTrips := idsSQL(t, a, `SELECT id FROM trips WHERE driver_member_id = ? AND trip_date BETWEEN ? AND ?`, driverID, from, to)
	onTheirVehicles := idsSQL(t, a, `SELECT t.id FROM trips t JOIN member_vehicle_grants g ON g.vehicle_id = t.vehicle_id
		WHERE g.member_id = ? AND t.trip_date BETWEEN ? AND ?`, driverID, from, to)
	if len(driverTrips) == 0 || len(onTheirVehicles) <= len(driverTrips) {
		t.Fatalf("demo: driver drove %d of the %d trips of their vehicles", len(driverTrips), len(onTheirVehicles))
	}
	sameIDSet(t, "driver", csvTripIDs(t, readCSV(t, a.login("driver@demo.test").get(path))), driverTrips)

	// A 30-day history limit (the Accountant's role here): the last 30 days.
	mustExec(t, a, `UPDATE role_permissions SET scopes = '{"history_days":30}' WHERE permission = 'trips.view'
		AND role_id IN (SELECT id FROM roles WHERE builtin = 'accountant')`)
	since := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	recent := idsSQL(t, a, `SELECT id FROM trips WHERE account_id = 1 AND trip_date >= ? AND trip_date <= ?`, since, to)
	if len(recent) == 0 || len(recent) >= len(all) {
		t.Fatalf("demo: %d of %d trips in the last 30 days", len(recent), len(all))
	}
	sameIDSet(t, "accountant with 30 days", csvTripIDs(t, readCSV(t, a.login("accountant@demo.test").get(path))), recent)

	// The Owner's distances are the sum of the regions' (the Manager's
	// North and the rest).
	sum := func(recs [][]string) float64 {
		col, total := column(t, recs[0], "distance_km"), 0.0
		for _, r := range recs[1:] {
			v, err := strconv.ParseFloat(r[col], 64)
			if err != nil {
				t.Fatalf("distance %q", r[col])
			}
			total += v
		}
		return total
	}
	var southKm float64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT SUM(t.distance_km) FROM trips t JOIN vehicles v ON v.id = t.vehicle_id
		JOIN vehicle_groups g ON g.id = v.group_id LEFT JOIN vehicle_groups p ON p.id = g.parent_id
		WHERE 'South' IN (g.name, p.name) AND t.trip_date BETWEEN ? AND ?`, from, to).Scan(&southKm); err != nil {
		t.Fatal(err)
	}
	ownerKm := sum(readCSV(t, a.login("owner@demo.test").get(path)))
	if math.Abs(ownerKm-(sum(manager)+southKm)) > 0.5 {
		t.Errorf("owner %.2f km, north %.2f + south %.2f", ownerKm, sum(manager), southKm)
	}
}

// The period is checked: dates, order, at most a year; the form comes
// back with the values and the message.
func TestExportTripsPeriod(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("accountant@demo.test")
	for q, field := range map[string]string{
		"from=2026-13-01&to=2026-12-31": "from",
		"from=2026-01-01&to=yesterday":  "to",
		"from=2026-03-01&to=2026-02-01": "to",
		"from=2024-01-01&to=2025-12-31": "to",
	} {
		res := c.get("/exports/trips.csv?" + q)
		if res.status != http.StatusUnprocessableEntity || len(res.find("[data-testid=error-"+field+"]")) != 1 {
			t.Errorf("%s: %d, errors %v", q, res.status, res.find(".error"))
			continue
		}
		if v := res.doc().Find("#export-"+field).AttrOr("value", ""); !strings.Contains(q, field+"="+v) {
			t.Errorf("%s: the form lost %s (%q)", q, field, v)
		}
	}
	// A whole year, a leap year included, is fine.
	for _, q := range []string{"from=2025-01-01&to=2025-12-31", "from=2024-01-01&to=2024-12-31"} {
		if recs := readCSV(t, c.get("/exports/trips.csv?"+q)); recs[0][0] != "trip_id" {
			t.Errorf("%s: header %v", q, recs[0])
		}
	}
}

// Times are in the account's time zone and distances in its unit.
func TestExportUnitsAndZone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `INSERT INTO account_settings (account_id, time_zone, distance_unit) VALUES (1, 'Asia/Tokyo', 'mi')
		ON CONFLICT (account_id) DO UPDATE SET time_zone = excluded.time_zone, distance_unit = excluded.distance_unit`)
	c := a.login("owner@demo.test")
	from, to := yearPeriod()
	recs := readCSV(t, c.get("/exports/trips.csv?from="+from+"&to="+to))
	col, id := column(t, recs[0], "distance_mi"), column(t, recs[0], "trip_id")
	var km float64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT distance_km FROM trips WHERE id = ?`, recs[1][id]).Scan(&km); err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.ParseFloat(recs[1][col], 64); math.Abs(got-km/1.609344) > 0.01 {
		t.Errorf("distance %s mi for %.2f km", recs[1][col], km)
	}
	v := readCSV(t, c.get("/exports/vehicles.csv"))
	if created := v[1][column(t, v[0], "created")]; !strings.HasSuffix(created, "+09:00") {
		t.Errorf("vehicle created %q, want Tokyo time", created)
	}
	au := readCSV(t, c.get("/exports/audit.csv"))
	if when := au[1][column(t, au[0], "when")]; !strings.HasSuffix(when, "+09:00") {
		t.Errorf("audit when %q, want Tokyo time", when)
	}
}

// Vehicles and clients: exactly the lists the member sees.
func TestExportVehiclesAndClientsScope(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	giveExport(t, a, "manager")
	o := readCSV(t, a.login("owner@demo.test").get("/exports/vehicles.csv"))
	m := readCSV(t, a.login("manager@demo.test").get("/exports/vehicles.csv"))
	if want := countSQL(t, a, `SELECT COUNT(*) FROM vehicles WHERE account_id = 1`); len(o)-1 != want {
		t.Errorf("owner: %d vehicles, want %d", len(o)-1, want)
	}
	north := countSQL(t, a, `SELECT COUNT(*) FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id LEFT JOIN vehicle_groups p ON p.id = g.parent_id
		WHERE 'North' IN (g.name, p.name)`)
	if len(m)-1 != north || north == 0 || north >= len(o)-1 {
		t.Errorf("manager: %d vehicles, North has %d of %d", len(m)-1, north, len(o)-1)
	}
	for _, r := range m[1:] {
		if r[column(t, m[0], "your_access")] != "manage" {
			t.Errorf("manager's access to %s: %s", r[0], r[column(t, m[0], "your_access")])
		}
	}
	// Clients: the Accountant (no clients.manage, all vehicles) and the
	// Owner see all; the pages' counts agree with the exports.
	acc := a.login("accountant@demo.test")
	cl := readCSV(t, acc.get("/exports/clients.csv"))
	if want := countSQL(t, a, `SELECT COUNT(*) FROM clients WHERE account_id = 1`); len(cl)-1 != want {
		t.Errorf("clients: %d, want %d", len(cl)-1, want)
	}
	// A member with selected vehicles and without clients.manage: only
	// the clients usable with their vehicles (the Driver's role, given export).
	giveExport(t, a, "driver")
	mustExec(t, a, `INSERT INTO role_permissions (role_id, permission) SELECT id, 'clients.view' FROM roles WHERE account_id = 1 AND builtin = 'driver' ON CONFLICT DO NOTHING`)
	d := a.login("driver@demo.test")
	dc := readCSV(t, d.get("/exports/clients.csv"))
	page := d.get("/clients")
	if n := len(page.find("[data-testid=client-row]")); n == 0 || n != len(dc)-1 {
		t.Errorf("driver: %d clients exported, %d on the page", len(dc)-1, n)
	}
}

// Every cell that a spreadsheet would run as a formula is neutralised.
func TestExportFormulaNeutralised(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := demoAccount(t, a)
	for _, name := range []string{"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"} {
		mustClient(t, acct, name)
	}
	from, to := yearPeriod()
	first := idsSQL(t, a, `SELECT id FROM trips WHERE account_id = 1 AND trip_date BETWEEN ? AND ? ORDER BY trip_date, id LIMIT 1`, from, to)[0]
	mustExec(t, a, `UPDATE trips SET note = ?, start_place = ?, end_place = ? WHERE id = ?`, "\t=1+1", "\r=2", "=3", first)
	c := a.login("owner@demo.test")
	cl := readCSV(t, c.get("/exports/clients.csv"))
	seen := 0
	for _, r := range cl[1:] {
		switch r[0] {
		case `'=HYPERLINK("http://x")`, "'+1+1", "'-2+3", "'@SUM(A1)":
			seen++
		case `=HYPERLINK("http://x")`, "+1+1", "-2+3", "@SUM(A1)":
			t.Errorf("client %q not neutralised", r[0])
		}
	}
	if seen != 4 {
		t.Errorf("%d of 4 formula names neutralised", seen)
	}
	trips := readCSV(t, c.get("/exports/trips.csv?from="+from+"&to="+to))
	row := trips[1]
	if row[0] != strconv.FormatInt(first, 10) {
		t.Fatalf("first row is trip %s, want %d", row[0], first)
	}
	for col, want := range map[string]string{"note": "'\t=1+1", "from": "'\r=2", "to": "'=3"} {
		if got := row[column(t, trips[0], col)]; got != want {
			t.Errorf("%s: %q, want %q", col, got, want)
		}
	}
}

// The whole account as a zip: every file, every row of the account.
func TestExportAccountZip(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	other := mustAccount(t, a, "Other Fleet") // nothing of it may appear
	mustVehicle(t, other, "Other van", 0)
	res := a.login("owner@demo.test").get("/exports/account.zip")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/zip" ||
		!strings.HasPrefix(res.header.Get("Content-Disposition"), `attachment; filename="account-`) {
		t.Fatalf("zip: %d %s %s", res.status, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(res.body)), int64(len(res.body)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"members.csv":  countSQL(t, a, `SELECT COUNT(*) FROM members WHERE account_id = 1`),
		"roles.csv":    countSQL(t, a, `SELECT COUNT(*) FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id WHERE r.account_id = 1`),
		"groups.csv":   countSQL(t, a, `SELECT COUNT(*) FROM vehicle_groups WHERE account_id = 1`),
		"vehicles.csv": countSQL(t, a, `SELECT COUNT(*) FROM vehicles WHERE account_id = 1`),
		"clients.csv":  countSQL(t, a, `SELECT COUNT(*) FROM clients WHERE account_id = 1`),
		"pairings.csv": countSQL(t, a, `SELECT COUNT(*) FROM vehicle_clients p JOIN vehicles v ON v.id = p.vehicle_id WHERE v.account_id = 1`),
		"grants.csv": countSQL(t, a, `SELECT (SELECT COUNT(*) FROM member_vehicle_grants g JOIN members m ON m.id = g.member_id WHERE m.account_id = 1)
			+ (SELECT COUNT(*) FROM member_group_grants g JOIN members m ON m.id = g.member_id WHERE m.account_id = 1)`),
		"trips.csv": countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE account_id = 1`),
		"audit.csv": countSQL(t, a, `SELECT COUNT(*) FROM audit_events WHERE account_id = 1`),
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(rc).ReadAll()
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(recs)-1 != want[f.Name] || want[f.Name] == 0 {
			t.Errorf("%s: %d rows, want %d", f.Name, len(recs)-1, want[f.Name])
		}
		if f.Name == "vehicles.csv" && strings.Contains(strings.Join(recs[len(recs)-1], ","), "Other van") {
			t.Error("another account's vehicle in the export")
		}
		if f.Name == "trips.csv" && recs[0][column(t, recs[0], "distance_km")] != "distance_km" {
			t.Errorf("trips header %v", recs[0])
		}
	}
	if got := strings.Join(names, " "); got != "members.csv roles.csv groups.csv vehicles.csv clients.csv pairings.csv grants.csv trips.csv audit.csv" {
		t.Errorf("files: %s", got)
	}
}

// Each export is recorded in the audit log, with who took it.
func TestExportsAreAudited(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	from, to := yearPeriod()
	for _, p := range []string{"/exports/trips.csv?from=" + from + "&to=" + to, "/exports/vehicles.csv", "/exports/clients.csv",
		"/exports/audit.csv", "/exports/account.zip", "/audit/export.csv"} {
		if res := c.get(p); res.status != http.StatusOK {
			t.Fatalf("%s: %d", p, res.status)
		}
	}
	got := idsSQL(t, a, `SELECT COUNT(*) FROM audit_events WHERE account_id = 1 AND actor_name <> '' AND kind IN
		('export.trips', 'export.vehicles', 'export.clients', 'export.audit', 'export.account') GROUP BY kind ORDER BY kind`)
	if len(got) != 5 || got[1] != 2 { // account, audit (twice), clients, trips, vehicles
		t.Errorf("export events per kind: %v", got)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM audit_events WHERE kind = 'export.trips' AND summary LIKE ?`, "%"+from+" to "+to+"%"); n != 1 {
		t.Errorf("the trips export's event does not name its period")
	}
}

// The audit export needs both reports.export and audit.view.
func TestExportAuditNeedsBoth(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acc := a.login("accountant@demo.test")
	mustExec(t, a, `DELETE FROM role_permissions WHERE permission = 'audit.view' AND role_id IN (SELECT id FROM roles WHERE builtin = 'accountant')`)
	res := acc.get("/exports/audit.csv")
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "audit") {
		t.Errorf("without audit.view: %d", res.status)
	}
	if n := len(acc.get("/exports").find("[data-testid=export-audit]")); n != 0 {
		t.Error("the exports page offers the audit log without audit.view")
	}
	// With audit.view but without reports.export (the Manager given audit.view).
	mustExec(t, a, `INSERT INTO role_permissions (role_id, permission) SELECT id, 'audit.view' FROM roles WHERE account_id = 1 AND builtin = 'manager'`)
	m := a.login("manager@demo.test")
	if res := m.get("/exports/audit.csv"); res.status != http.StatusForbidden || !strings.Contains(res.body, "Export reports") {
		t.Errorf("without reports.export: %d", res.status)
	}
	if m.get("/audit").status != http.StatusOK || len(m.get("/audit").find("[data-testid=audit-csv]")) != 0 {
		t.Error("the audit log offers the export without reports.export")
	}
}

// The exports page and the lists offer exactly what the member may export.
func TestExportLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	m0, _, _ := months()
	for who, want := range map[string]struct {
		nav, account bool
	}{
		"owner@demo.test":      {true, true},
		"accountant@demo.test": {true, false},
		"manager@demo.test":    {false, false},
		"driver@demo.test":     {false, false},
	} {
		c := a.login(who)
		nav := c.get("/vehicles")
		if got := contains(nav.find("nav.side a"), "Exports"); got != want.nav {
			t.Errorf("%s: nav link %v", who, got)
		}
		if got := len(nav.find("[data-testid=vehicles-csv]")) == 1; got != want.nav {
			t.Errorf("%s: vehicles export link %v", who, got)
		}
		if got := len(c.get("/trips?month="+m0).find("[data-testid=trips-csv]")) == 1; got != want.nav {
			t.Errorf("%s: trips export link %v", who, got)
		}
		if !want.nav {
			continue
		}
		if len(c.get("/clients").find("[data-testid=clients-csv]")) != 1 || len(c.get("/audit").find("[data-testid=audit-csv]")) != 1 {
			t.Errorf("%s: no export link on clients or audit", who)
		}
		page := c.get("/exports")
		if page.status != http.StatusOK || len(page.find("[data-testid=export-trips-form]")) != 1 {
			t.Fatalf("%s: exports page %d", who, page.status)
		}
		if got := len(page.find("[data-testid=export-account]")) == 1; got != want.account {
			t.Errorf("%s: account export offered %v", who, got)
		}
	}
	// The trips link exports the month shown.
	href := a.login("owner@demo.test").get("/trips?month="+m0).doc().Find("[data-testid=trips-csv]").AttrOr("href", "")
	first, _ := time.Parse("2006-01", m0)
	if href != "/exports/trips.csv?from="+m0+"-01&to="+first.AddDate(0, 1, -1).Format(time.DateOnly) {
		t.Errorf("trips export link %q", href)
	}
}

// gunzip reads a gzip body.
func gunzip(t testing.TB, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Large answers are compressed for clients that accept gzip; tiny ones,
// zips and health probes are not.
func TestGzip(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.login("owner@demo.test")
	gz := []string{"Accept-Encoding", "gzip"}
	plain := c.get("/vehicles")
	res := c.get("/vehicles", gz...)
	if vary := strings.Join(res.header.Values("Vary"), ", "); res.header.Get("Content-Encoding") != "gzip" || !strings.Contains(vary, "Accept-Encoding") {
		t.Fatalf("large page: encoding %q vary %q", res.header.Get("Content-Encoding"), vary)
	}
	if html := gunzip(t, res.body); len(html) < 1400 || len(res.body) >= len(html)/2 || !strings.Contains(html, "Chicago") ||
		len(html) != len(plain.body) {
		t.Errorf("large page: %d bytes compressed to %d (plain %d)", len(html), len(res.body), len(plain.body))
	}
	// An htmx fragment is compressed the same way and stays a fragment.
	frag := c.get("/vehicles?q=chicago", "Accept-Encoding", "gzip", "HX-Request", "true", "HX-Target", "vehicles-results")
	if frag.header.Get("Content-Encoding") == "gzip" && strings.Contains(gunzip(t, frag.body), "<html") {
		t.Error("fragment became a page")
	}
	// A streamed CSV is compressed and complete.
	from, to := yearPeriod()
	csvPlain := c.get("/exports/trips.csv?from=" + from + "&to=" + to)
	csvGz := c.get("/exports/trips.csv?from="+from+"&to="+to, gz...)
	if csvGz.header.Get("Content-Encoding") != "gzip" || gunzip(t, csvGz.body) != csvPlain.body {
		t.Errorf("CSV: encoding %q", csvGz.header.Get("Content-Encoding"))
	}
	// Not compressed: a tiny answer, a zip, the health probes.
	for _, p := range []string{"/favicon.ico", "/exports/account.zip", "/livez", "/readyz"} {
		res := c.get(p, gz...)
		if res.status != http.StatusOK || res.header.Get("Content-Encoding") != "" {
			t.Errorf("%s: %d encoding %q", p, res.status, res.header.Get("Content-Encoding"))
		}
	}
	if z := c.get("/exports/account.zip", gz...); !strings.HasPrefix(z.body, "PK") {
		t.Error("the zip is not a zip")
	}
}

// Static files: pages name them by content hash, served for a year;
// the plain names still answer, with a short lifetime.
func TestStaticHashedNames(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	doc := c.get("/login").doc()
	css := doc.Find(`link[rel=stylesheet]`).AttrOr("href", "")
	var scripts []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.AttrOr("src", "")) })
	hashed := regexp.MustCompile(`^/static/([a-z.]+)\.([0-9a-f]{8})\.(css|js)$`)
	for _, p := range append(scripts, css) {
		m := hashed.FindStringSubmatch(p)
		if m == nil {
			t.Errorf("%q is not a content-hashed name", p)
			continue
		}
		res := c.get(p)
		if res.status != http.StatusOK || res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d %q", p, res.status, res.header.Get("Cache-Control"))
		}
		orig := c.get("/static/" + m[1] + "." + m[3])
		if orig.status != http.StatusOK || orig.body != res.body || orig.header.Get("Cache-Control") != "public, max-age=300" {
			t.Errorf("%s: plain name %d %q, same bytes %v", m[1], orig.status, orig.header.Get("Cache-Control"), orig.body == res.body)
		}
		if ct := res.header.Get("Content-Type"); !strings.Contains(ct, map[string]string{"css": "text/css", "js": "javascript"}[m[3]]) {
			t.Errorf("%s: content type %q", p, ct)
		}
	}
	if len(scripts) != 2 {
		t.Errorf("scripts: %v", scripts)
	}
	if res := c.get("/static/app.00000000.css"); res.status != http.StatusNotFound {
		t.Errorf("a stale hash: %d", res.status)
	}
}
