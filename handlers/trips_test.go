package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Trips of the demo account: vehicle 1 (Chicago, North) and vehicle 21
// (Austin, South) are the Driver's; the Manager manages the North region;
// vehicle 1 is paired with clients 1 and 6; two months ago vehicle 1's
// month is finalized.

func months() (m0, m1, m2 string) {
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return first.Format("2006-01"), first.AddDate(0, -1, 0).Format("2006-01"), first.AddDate(0, -2, 0).Format("2006-01")
}

func countSQL(t testing.TB, a *app, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.db.QueryRowForTest(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func idsSQL(t testing.TB, a *app, q string, args ...any) []int64 {
	t.Helper()
	var ids []int64
	rows, err := a.db.QueryForTest(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// webTrips walks every page of a trip list in the console.
func webTrips(t testing.TB, c *client, path string) []int64 {
	t.Helper()
	var ids []int64
	for path != "" {
		res := c.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		doc := res.doc()
		doc.Find(`[data-testid="trip-row"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := strconv.ParseInt(s.AttrOr("data-trip-id", ""), 10, 64)
			ids = append(ids, id)
		})
		path = doc.Find(`[data-testid="trips-next"]`).AttrOr("href", "")
	}
	return ids
}

type apiTripOut struct {
	ID        int64
	VehicleID int64 `json:"vehicle_id"`
	DriverID  int64 `json:"driver_id"`
	Date      string
	OdoStart  *int64  `json:"odo_start"`
	OdoEnd    *int64  `json:"odo_end"`
	Distance  float64 `json:"distance_km"`
	Version   int
}

// apiTrips walks every page of the API's trip list.
func apiTrips(t testing.TB, a *app, token, query string) []int64 {
	t.Helper()
	var ids []int64
	after := ""
	for {
		res := a.client().api(http.MethodGet, "/api/v1/trips?"+query+"&after="+url.QueryEscape(after), token, "")
		if res.status != http.StatusOK {
			t.Fatalf("api trips %s: %d %s", query, res.status, res.body)
		}
		var out struct {
			Trips []apiTripOut
			Next  string
		}
		if err := json.Unmarshal([]byte(res.body), &out); err != nil {
			t.Fatal(err)
		}
		for _, tr := range out.Trips {
			ids = append(ids, tr.ID)
		}
		if out.Next == "" {
			return ids
		}
		after = out.Next
	}
}

func sorted(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sameIDs(t testing.TB, what string, got, want []int64) {
	t.Helper()
	g, w := sorted(got), sorted(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s: got %d trips, want %d", what, len(g), len(w))
	}
}

// Every built-in role sees, on the web and through the API, exactly the
// trips of its scope: the Owner, Admin and Accountant all of them, the
// Manager those of the North region, the Driver (own trips only) the
// trips they drove.
func TestTripListsPerRole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `UPDATE members SET channel = 'both'`)
	_, m1, _ := months()
	like := m1 + "-%"
	all := idsSQL(t, a, `SELECT id FROM trips WHERE account_id = 1 AND trip_date LIKE ?`, like)
	north := idsSQL(t, a, `SELECT t.id FROM trips t JOIN vehicles v ON v.id = t.vehicle_id JOIN vehicle_groups g ON g.id = v.group_id
		WHERE t.trip_date LIKE ? AND (g.name = 'North' OR g.parent_id = (SELECT id FROM vehicle_groups WHERE name = 'North'))`, like)
	own := idsSQL(t, a, `SELECT id FROM trips WHERE trip_date LIKE ? AND driver_member_id = ?`, like, memberID(t, a, "driver@demo.test"))
	if len(all) < 200 || len(north) == 0 || len(own) == 0 || len(north) >= len(all) {
		t.Fatalf("demo data: all %d, north %d, own %d", len(all), len(north), len(own))
	}
	want := map[string][]int64{"owner": all, "admin": all, "accountant": all, "manager": north, "driver": own}
	for _, role := range allRoles {
		email := roleLogins[role]
		web := webTrips(t, a.login(email), "/trips?month="+m1)
		sameIDs(t, role+" web", web, want[role])
		api := apiTrips(t, a, apiToken(t, a, email), "month="+m1)
		sameIDs(t, role+" api", api, want[role])
		sameIDs(t, role+" web vs api", web, api)
	}
}

// The monthly log's totals count exactly the trips in scope: the Driver
// sees their own trips of vehicle 1, the Owner all of them.
func TestMonthlyLogTotals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, m1, _ := months()
	driver := memberID(t, a, "driver@demo.test")
	allN := countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE vehicle_id = 1 AND trip_date LIKE ?`, m1+"-%")
	ownN := countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE vehicle_id = 1 AND trip_date LIKE ? AND driver_member_id = ?`, m1+"-%", driver)
	ownBiz := countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE vehicle_id = 1 AND trip_date LIKE ? AND driver_member_id = ? AND purpose = 'business'`, m1+"-%", driver)
	if ownN == 0 || ownN == allN {
		t.Fatalf("demo data: own %d of %d", ownN, allN)
	}
	for who, want := range map[string]int{"owner@demo.test": allN, "driver@demo.test": ownN} {
		res := a.login(who).get("/vehicles/1/trips?month=" + m1)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d", who, res.status)
		}
		got := res.find(`[data-testid="total-all"] [data-testid="total-trips"]`)
		if len(got) != 1 || got[0] != strconv.Itoa(want) {
			t.Errorf("%s total: %v, want %d", who, got, want)
		}
		if rows := len(res.find(`[data-testid="trip-row"]`)); rows != want {
			t.Errorf("%s rows: %d, want %d", who, rows, want)
		}
	}
	res := a.client().api(http.MethodGet, "/api/v1/trips?vehicle=1&month="+m1, apiToken(t, a, "driver@demo.test"), "")
	var out struct {
		Totals map[string]struct{ Trips int }
	}
	_ = json.Unmarshal([]byte(res.body), &out)
	if out.Totals["business"].Trips != ownBiz || out.Totals["business"].Trips+out.Totals["private"].Trips != ownN {
		t.Errorf("api totals %+v, want business %d of %d", out.Totals, ownBiz, ownN)
	}
	// Outside the Manager's region: not found.
	if res := a.login("manager@demo.test").get("/vehicles/21/trips"); res.status != http.StatusNotFound {
		t.Errorf("manager on a South vehicle: %d", res.status)
	}
}

// A role with a 30-day history limit sees only the last 30 days, and
// cannot reach or change older trips.
func TestTripHistoryLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	m0, m1, _ := months()
	mustExec(t, a, `UPDATE members SET channel = 'both'`)
	mustExec(t, a, `UPDATE role_permissions SET scopes = '{"history_days":30}' WHERE permission = 'trips.view'
		AND role_id IN (SELECT id FROM roles WHERE builtin IN ('admin','accountant'))`)
	since := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	for _, email := range []string{"admin@demo.test", "accountant@demo.test"} {
		c := a.login(email)
		tok := apiToken(t, a, email)
		for _, m := range []string{m0, m1} {
			want := idsSQL(t, a, `SELECT id FROM trips WHERE account_id = 1 AND trip_date LIKE ? AND trip_date >= ?`, m+"-%", since)
			sameIDs(t, email+" web "+m, webTrips(t, c, "/trips?month="+m), want)
			sameIDs(t, email+" api "+m, apiTrips(t, a, tok, "month="+m), want)
		}
	}
	old := idsSQL(t, a, `SELECT id FROM trips WHERE trip_date < ? ORDER BY trip_date DESC LIMIT 1`, since)[0]
	tok := apiToken(t, a, "admin@demo.test")
	if res := a.client().api(http.MethodGet, "/api/v1/trips/"+strconv.FormatInt(old, 10), tok, ""); res.status != http.StatusNotFound {
		t.Errorf("old trip via api: %d", res.status)
	}
	if res := a.client().api(http.MethodDelete, "/api/v1/trips/"+strconv.FormatInt(old, 10)+"?version=1", tok, ""); res.status != http.StatusNotFound {
		t.Errorf("delete old trip: %d", res.status)
	}
	// Recording beyond the limit is refused on the date.
	day := time.Now().UTC().AddDate(0, 0, -40).Format(time.DateOnly)
	res := a.client().api(http.MethodPost, "/api/v1/trips", tok, `{"vehicle_id":3,"date":"`+day+`","distance_km":12,"purpose":"business"}`)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `"trip_date"`) || !strings.Contains(res.body, "history") {
		t.Errorf("record beyond history: %d %s", res.status, res.body)
	}
}

func tripForm(date, start, end, dist, purpose, client string) url.Values {
	return url.Values{"trip_date": {date}, "odo_start": {start}, "odo_end": {end}, "distance_km": {dist}, "purpose": {purpose},
		"client_id": {client}, "start_place": {"Depot"}, "end_place": {"Client site"}}
}

// Each bad input is refused with its own message next to its field, the
// typed values kept; on the API as a field error.
func TestRecordTripRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, created_at) VALUES (?, 2, 'view', '2026-01-01T00:00:00Z')`,
		memberID(t, a, "driver@demo.test"))
	_, _, m2 := months()
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	var s0, e0 int64
	if err := a.db.QueryRowForTest(context.Background(), `SELECT odo_start, odo_end FROM trips WHERE vehicle_id = 1 ORDER BY id DESC LIMIT 1 OFFSET 3`).Scan(&s0, &e0); err != nil {
		t.Fatal(err)
	}
	d := a.login("driver@demo.test")
	cases := []struct {
		name, path, field, words string
		form                     url.Values
		status                   int
	}{
		{"end below start", "/vehicles/1/trips", "odo_end", "below the start", tripForm(today, "500", "10", "", "business", "0"), 422},
		{"future date", "/vehicles/1/trips", "trip_date", "future", tripForm(tomorrow, "", "", "12", "business", "0"), 422},
		{"finalized month", "/vehicles/1/trips", "trip_date", "finalized", tripForm(m2+"-15", "", "", "12", "business", "0"), 422},
		{"client not paired", "/vehicles/1/trips", "client_id", "paired with other clients", tripForm(today, "", "", "12", "business", "2"), 422},
		{"view-only vehicle", "/vehicles/2/trips", "vehicle_id", "not manage", tripForm(today, "", "", "12", "business", "0"), 403},
		{"overlapping odometer", "/vehicles/1/trips", "odo_start", "overlaps", tripForm(today, strconv.FormatInt(s0, 10), strconv.FormatInt(e0, 10), "", "business", "0"), 422},
	}
	before := countSQL(t, a, `SELECT COUNT(*) FROM trips`)
	for _, tc := range cases {
		res := d.postForm(tc.path, tc.form)
		msg := strings.Join(res.find(`[data-testid="error-`+tc.field+`"]`), " ")
		if res.status != tc.status || !strings.Contains(msg, tc.words) {
			t.Errorf("%s: %d, message %q, want %d with %q", tc.name, res.status, msg, tc.status, tc.words)
		}
		if v, _ := res.doc().Find(`input[name="start_place"]`).Attr("value"); v != "Depot" {
			t.Errorf("%s: typed place lost: %q", tc.name, v)
		}
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM trips`); n != before {
		t.Errorf("refused trips were saved: %d -> %d", before, n)
	}
	// The same refusals through the API name their field.
	tok := apiToken(t, a, "driver@demo.test")
	for body, field := range map[string]string{
		`{"vehicle_id":1,"date":"` + today + `","odo_start":500,"odo_end":100,"purpose":"business"}`:                "odo_end",
		`{"vehicle_id":1,"date":"` + tomorrow + `","distance_km":5,"purpose":"business"}`:                           "trip_date",
		`{"vehicle_id":1,"date":"` + m2 + `-15","distance_km":5,"purpose":"business"}`:                              "trip_date",
		`{"vehicle_id":1,"date":"` + today + `","distance_km":5,"purpose":"business","client_id":2}`:                "client_id",
		`{"vehicle_id":2,"date":"` + today + `","distance_km":5,"purpose":"business"}`:                              "vehicle_id",
		fmt.Sprintf(`{"vehicle_id":1,"date":"%s","odo_start":%d,"odo_end":%d,"purpose":"business"}`, today, s0, e0): "odo_start",
	} {
		res := a.client().api(http.MethodPost, "/api/v1/trips", tok, body)
		var p struct {
			Errors map[string]string
		}
		_ = json.Unmarshal([]byte(res.body), &p)
		if res.status < 400 || p.Errors[field] == "" || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("api %s: %d %s", field, res.status, res.body)
		}
	}
	// A vehicle outside the Driver's access is not found.
	if res := a.client().api(http.MethodPost, "/api/v1/trips", tok, `{"vehicle_id":3,"date":"`+today+`","distance_km":5,"purpose":"business"}`); res.status != http.StatusNotFound {
		t.Errorf("vehicle outside access: %d", res.status)
	}
}

// A trip recorded with only its end odometer starts where the previous
// one ended, and the vehicle's odometer follows its latest trip.
func TestRecordTripChainsOdometer(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	today := time.Now().UTC().Format(time.DateOnly)
	var odo int64
	_ = a.db.QueryRowForTest(context.Background(), `SELECT odometer_km FROM vehicles WHERE id = 1`).Scan(&odo)
	d := a.login("driver@demo.test")
	page := d.get("/vehicles/1/trips/new")
	if v, _ := page.doc().Find(`input[name="odo_start"]`).Attr("value"); v != strconv.FormatInt(odo, 10) {
		t.Fatalf("suggested start %q, want %d", v, odo)
	}
	res := d.postForm("/vehicles/1/trips", tripForm(today, "", strconv.FormatInt(odo+42, 10), "", "business", "1"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("record: %d %s", res.status, strings.Join(res.find(".error"), "; "))
	}
	var start, end int64
	var dist float64
	_ = a.db.QueryRowForTest(context.Background(), `SELECT odo_start, odo_end, distance_km FROM trips ORDER BY id DESC LIMIT 1`).Scan(&start, &end, &dist)
	if start != odo || end != odo+42 || dist != 42 {
		t.Errorf("trip %d-%d %v km, want %d-%d 42", start, end, dist, odo, odo+42)
	}
	if n := countSQL(t, a, `SELECT odometer_km FROM vehicles WHERE id = 1`); int64(n) != odo+42 {
		t.Errorf("vehicle odometer %d, want %d", n, odo+42)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM audit_events WHERE kind = 'trip.create'`); n != 1 {
		t.Errorf("audit events: %d", n)
	}
}

// A replayed API creation with the same Idempotency-Key answers the first
// trip and records nothing more; the key with another body is refused.
func TestAPITripIdempotency(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	today := time.Now().UTC().Format(time.DateOnly)
	tok := apiToken(t, a, "driver@demo.test")
	body := `{"vehicle_id":21,"date":"` + today + `","distance_km":17.5,"purpose":"business","start_place":"Home","end_place":"Depot"}`
	send := func(key, body string) response {
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/api/v1/trips", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		return a.client().do(req)
	}
	before := countSQL(t, a, `SELECT COUNT(*) FROM trips`)
	first, second := send("k-1", body), send("k-1", body)
	var t1, t2 apiTripOut
	_ = json.Unmarshal([]byte(first.body), &t1)
	_ = json.Unmarshal([]byte(second.body), &t2)
	if first.status != http.StatusCreated || second.status != http.StatusOK || t1.ID == 0 || t1.ID != t2.ID {
		t.Fatalf("first %d %s, replay %d %s", first.status, first.body, second.status, second.body)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM trips`); n != before+1 {
		t.Errorf("trips %d -> %d, want one more", before, n)
	}
	if res := send("k-1", strings.Replace(body, "17.5", "18", 1)); res.status != http.StatusConflict {
		t.Errorf("same key, other body: %d", res.status)
	}
	if res := send("k-2", body); res.status != http.StatusCreated {
		t.Errorf("new key: %d", res.status)
	}
}

// A stale save is refused: the web form shows the trip as saved now and
// keeps what was typed; the API answers 409 with the current trip.
func TestTripStaleEdit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	m0, _, _ := months()
	id := idsSQL(t, a, `SELECT id FROM trips WHERE vehicle_id = 1 AND driver_member_id = ? AND trip_date LIKE ? ORDER BY id LIMIT 1`,
		memberID(t, a, "driver@demo.test"), m0+"-%")
	if len(id) == 0 {
		t.Skip("no own trip this month yet (first days of a month)")
	}
	path := "/trips/" + strconv.FormatInt(id[0], 10)
	var date string
	_ = a.db.QueryRowForTest(context.Background(), `SELECT trip_date FROM trips WHERE id = ?`, id[0]).Scan(&date)
	d, m := a.login("driver@demo.test"), a.login("manager@demo.test")
	edit := func(c *client, note string) response {
		f := tripForm(date, "", "", "33", "private", "0")
		f.Set("version", "1")
		f.Set("note", note)
		return c.postForm(path, f)
	}
	if res := edit(m, "fixed by the manager"); res.status != http.StatusSeeOther {
		t.Fatalf("manager edit: %d %s", res.status, strings.Join(res.find(".error, [data-testid=form-error]"), ";"))
	}
	res := edit(d, "my note")
	if res.status != http.StatusConflict || len(res.find(`[data-testid="trip-current"]`)) != 1 {
		t.Fatalf("stale edit: %d", res.status)
	}
	if v, _ := res.doc().Find(`input[name="note"]`).Attr("value"); v != "my note" {
		t.Errorf("typed note lost: %q", v)
	}
	if v, _ := res.doc().Find(`input[name="version"]`).Attr("value"); v != "2" {
		t.Errorf("form version %q, want 2", v)
	}
	tok := apiToken(t, a, "driver@demo.test")
	api := a.client().api(http.MethodPut, "/api/v1"+path, tok, `{"date":"`+date+`","distance_km":5,"purpose":"business","version":1}`)
	if api.status != http.StatusConflict || !strings.Contains(api.body, `"current"`) {
		t.Errorf("api stale: %d %s", api.status, api.body)
	}
	ok := a.client().api(http.MethodPut, "/api/v1"+path, tok, `{"date":"`+date+`","distance_km":5,"purpose":"business","version":2}`)
	if ok.status != http.StatusOK {
		t.Errorf("api current version: %d %s", ok.status, ok.body)
	}
}

// trips.record lets a Driver change their own trips, never others';
// a finalized month is read-only for everyone until reopened.
func TestFinalizeAndOwnTrips(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mustExec(t, a, `UPDATE members SET channel = 'both'`)
	_, m1, _ := months()
	driver := memberID(t, a, "driver@demo.test")
	own := idsSQL(t, a, `SELECT id FROM trips WHERE vehicle_id = 1 AND driver_member_id = ? AND trip_date LIKE ? LIMIT 1`, driver, m1+"-%")[0]
	other := idsSQL(t, a, `SELECT id FROM trips WHERE vehicle_id = 1 AND driver_member_id != ? AND trip_date LIKE ? LIMIT 1`, driver, m1+"-%")[0]
	dtok, mtok := apiToken(t, a, "driver@demo.test"), apiToken(t, a, "manager@demo.test")
	put := func(tok string, id int64) response {
		var date string
		var version int
		_ = a.db.QueryRowForTest(context.Background(), `SELECT trip_date, version FROM trips WHERE id = ?`, id).Scan(&date, &version)
		return a.client().api(http.MethodPut, "/api/v1/trips/"+strconv.FormatInt(id, 10), tok,
			fmt.Sprintf(`{"date":"%s","distance_km":9,"purpose":"business","version":%d}`, date, version))
	}
	if res := put(dtok, own); res.status != http.StatusOK {
		t.Errorf("driver own: %d %s", res.status, res.body)
	}
	if res := put(dtok, other); res.status != http.StatusNotFound {
		t.Errorf("driver others' (hidden by own-only): %d", res.status)
	}
	// The Manager finalizes the month; nobody can change it any more.
	m := a.login("manager@demo.test")
	if res := m.postForm("/vehicles/1/trips/finalize", url.Values{"month": {m1}}); res.status != http.StatusSeeOther {
		t.Fatalf("finalize: %d", res.status)
	}
	log := m.get("/vehicles/1/trips?month=" + m1)
	if len(log.find(`[data-testid="month-final"]`)) != 1 || len(log.find(`[data-testid="trip-edit"]`)) != 0 {
		t.Errorf("finalized log still offers edits")
	}
	for who, tok := range map[string]string{"driver": dtok, "manager": mtok} {
		if res := put(tok, own); res.status != http.StatusForbidden || !strings.Contains(res.body, "finalized") {
			t.Errorf("%s edit in finalized month: %d %s", who, res.status, res.body)
		}
	}
	if res := a.client().api(http.MethodDelete, "/api/v1/trips/"+strconv.FormatInt(own, 10)+"?version=2", dtok, ""); res.status != http.StatusForbidden {
		t.Errorf("driver delete in finalized month: %d", res.status)
	}
	// The database refuses too, whatever the code path.
	if err := a.db.ExecForTest(context.Background(), `UPDATE trips SET note = 'x', version = version + 1 WHERE id = ?`, own); err == nil {
		t.Errorf("schema let a finalized trip change")
	}
	// The Driver cannot finalize or reopen.
	if res := a.login("driver@demo.test").postForm("/vehicles/1/trips/reopen", url.Values{"month": {m1}}); res.status != http.StatusForbidden {
		t.Errorf("driver reopen: %d", res.status)
	}
	if res := m.postForm("/vehicles/1/trips/reopen", url.Values{"month": {m1}}); res.status != http.StatusSeeOther {
		t.Fatalf("reopen: %d", res.status)
	}
	if res := put(mtok, other); res.status != http.StatusOK {
		t.Errorf("manager edit after reopen: %d %s", res.status, res.body)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM audit_events WHERE kind IN ('trip.finalize','trip.reopen') AND vehicle_id = 1`); n != 2 {
		t.Errorf("audit events of finalize/reopen: %d", n)
	}
}

// A recurring trip shows what it will add, adds it in one action, and
// never twice for the same day.
func TestRecurringFill(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, m1, _ := months()
	m := a.login("manager@demo.test")
	res := m.postForm("/vehicles/4/recurring", url.Values{"weekday": {"0", "2", "4"}, "distance_km": {"23"}, "purpose": {"business"},
		"start_place": {"Depot"}, "end_place": {"School"}, "client_id": {"0"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("create template: %d %s", res.status, strings.Join(res.find(".error"), ";"))
	}
	tid := idsSQL(t, a, `SELECT id FROM trip_templates`)[0]
	base := "/recurring/" + strconv.FormatInt(tid, 10) + "/fill"
	prev := m.get(base + "?month=" + m1)
	days := prev.find(`[data-testid="fill-days"] li`)
	if len(days) < 12 || len(days) > 15 {
		t.Fatalf("preview: %d days", len(days))
	}
	before := countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE vehicle_id = 4`)
	if res := m.postForm(base, url.Values{"month": {m1}}); res.status != http.StatusSeeOther {
		t.Fatalf("fill: %d", res.status)
	}
	if res := m.postForm(base, url.Values{"month": {m1}}); res.status != http.StatusSeeOther {
		t.Fatalf("fill again: %d", res.status)
	}
	if n := countSQL(t, a, `SELECT COUNT(*) FROM trips WHERE vehicle_id = 4`); n != before+len(days) {
		t.Errorf("trips %d -> %d, want +%d", before, n, len(days))
	}
	if again := m.get(base + "?month=" + m1); len(again.find(`[data-testid="fill-nothing"]`)) != 1 {
		t.Errorf("second preview should add nothing")
	}
	// The Driver may not use recurring trips.
	if res := a.login("driver@demo.test").get("/vehicles/1/recurring"); res.status != http.StatusForbidden {
		t.Errorf("driver recurring: %d", res.status)
	}
}

// An account that counts in miles reads its mileage logs in miles.
func TestTripDistancesInTheAccountsUnit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, m1, _ := months()
	c := a.login("owner@demo.test")
	if d := c.get("/vehicles/1/trips?month=" + m1).find(`[data-testid="trip-distance"]`); len(d) == 0 || !strings.HasSuffix(d[0], " km") {
		t.Fatalf("distances in km: %v", d)
	}
	mustExec(t, a, `UPDATE account_settings SET distance_unit = 'mi'`)
	d := c.get("/vehicles/1/trips?month=" + m1).find(`[data-testid="trip-distance"]`)
	if len(d) == 0 || !strings.HasSuffix(d[0], " mi") {
		t.Fatalf("distances in miles: %v", d)
	}
}

// The list across vehicles filters by driver: members who may list members
// choose any driver; the rows are that driver's trips only.
func TestTripsFilterByDriver(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, m1, _ := months()
	driver := memberID(t, a, "driver@demo.test")
	c := a.login("owner@demo.test")
	res := c.get("/trips?month=" + m1)
	if len(res.doc().Find(fmt.Sprintf(`#trips-driver option[value="%d"]`, driver)).Nodes) != 1 {
		t.Fatal("the driver is not offered in the filter")
	}
	res = c.get(fmt.Sprintf("/trips?month=%s&driver=%d", m1, driver))
	names := res.find(`[data-testid="trip-driver"]`)
	if len(names) == 0 {
		t.Fatal("no trips of the driver")
	}
	for _, n := range names {
		if n != "Diego Driver" {
			t.Fatalf("a trip of %q in the driver's filter", n)
		}
	}
	// The Driver (own trips only) is not offered other people.
	if opts := a.login("driver@demo.test").get("/trips?month=" + m1).find("#trips-driver option"); len(opts) > 2 {
		t.Fatalf("driver offered %d drivers", len(opts))
	}
}

// "Own trips only" holds in the audit log: an Accountant narrowed to their
// own trips reads no event about the trips others recorded.
func TestAuditLogOwnTripsOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acct := actorByEmail(t, a, "accountant@demo.test")
	today := time.Now().UTC().Format(time.DateOnly)
	tok := apiToken(t, a, "driver@demo.test")
	if r := a.client().api(http.MethodPost, "/api/v1/trips", tok, `{"vehicle_id":1,"date":"`+today+`","distance_km":7,"purpose":"business"}`); r.status != http.StatusCreated {
		t.Fatalf("record: %d %s", r.status, r.body)
	}
	if got := a.login("accountant@demo.test").get("/audit?kind=trip.").find("[data-testid=audit-row]"); len(got) == 0 {
		t.Fatal("the accountant does not see the driver's trip event")
	}
	mustExec(t, a, `UPDATE role_permissions SET scopes = '{"own_only":1}' WHERE permission = 'trips.view' AND role_id = ?`, acct.RoleID)
	if got := a.login("accountant@demo.test").get("/audit?kind=trip.").find("[data-testid=audit-row]"); len(got) != 0 {
		t.Fatalf("own trips only, yet %d trip events of others", len(got))
	}
}
