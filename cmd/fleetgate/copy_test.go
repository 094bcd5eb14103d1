package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/dbtest"
)

// needPostgres skips a test that needs a PostgreSQL server.
func needPostgres(t *testing.T) {
	t.Helper()
	if dbtest.Postgres() == "" {
		t.Skip("needs PostgreSQL: set FLEETGATE_TEST_POSTGRES, or run make test-postgres")
	}
}

// TestCopySQLiteToPostgres: fleetgate copy moves the demo installation
// from a SQLite file into an empty PostgreSQL database: every table's
// count is printed and the same on both sides, sample rows are equal, the
// copy serves (the demo Owner signs in, the Driver gets an API token) and takes new rows (the sequences
// moved past the copied ids), and a second copy into it is refused.
func TestCopySQLiteToPostgres(t *testing.T) {
	needPostgres(t)
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "fleet.db")
	src, err := db.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.EnsureDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.EnqueueMailForTest(ctx, db.Mail{To: "owner@demo.test", Kind: "test", Subject: "Before the move", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	src.Close()
	to := dbtest.Fresh(t, "")

	code, out, err := runCLI(t, nil, "copy", "--from", file, "--to", to)
	if code != 0 {
		t.Fatalf("copy: status %d, %v\n%s", code, err, out)
	}
	if !strings.Contains(out, "every table's count matches") {
		t.Fatalf("copy output:\n%s", out)
	}
	// The printed counts: one line per table, the same on both sides.
	line := regexp.MustCompile(`(?m)^\s*([a-z_0-9]+)\s+(\d+)\s+(\d+)\s*$`)
	printed := map[string]int64{}
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		if m[2] != m[3] {
			t.Errorf("table %s: %s rows in the file, %s copied", m[1], m[2], m[3])
		}
		printed[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
	}
	for _, table := range []string{"accounts", "users", "members", "roles", "vehicles", "trips", "audit_events", "vehicle_access", "outbox", "app_secrets"} {
		if printed[table] == 0 {
			t.Errorf("table %s: not printed, or no rows (output:\n%s)", table, out)
		}
	}

	s, err := db.OpenWith(ctx, file, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := db.Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for table, n := range printed {
		for _, side := range []*db.DB{s, d} {
			var got int64
			if err := side.QueryRowForTest(ctx, `SELECT count(*) FROM `+table).Scan(&got); err != nil || got != n {
				t.Errorf("%s on %s: %d rows (%v), printed %d", table, side.Store(), got, err, n)
			}
		}
	}
	// Sample rows, the same on both sides.
	samples := []string{
		`SELECT id || ' ' || email || ' ' || first_name || ' ' || password_hash FROM users ORDER BY id`,
		`SELECT id || ' ' || account_id || ' ' || user_id || ' ' || role_id || ' ' || status FROM members ORDER BY id`,
		`SELECT id || ' ' || name || ' ' || plate || ' ' || vin FROM vehicles ORDER BY id`,
		`SELECT member_id || ' ' || vehicle_id FROM vehicle_access ORDER BY member_id, vehicle_id`,
		`SELECT id || ' ' || kind || ' ' || summary || ' ' || created_at FROM audit_events ORDER BY id`,
		`SELECT id || ' ' || to_addr || ' ' || subject || ' ' || state FROM outbox ORDER BY id`,
	}
	for _, q := range samples {
		a, b := rowsOf(t, s, q), rowsOf(t, d, q)
		if len(a) == 0 || strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s:\nSQLite %d rows, first %q\nPostgreSQL %d rows, first %q", q, len(a), first(a), len(b), first(b))
		}
	}
	// The tables' own triggers are on again (they keep vehicle_access
	// and the roll-ups from here on).
	var on, off int
	if err := d.QueryRowForTest(ctx, `SELECT count(*) FILTER (WHERE tgenabled = 'O'), count(*) FILTER (WHERE tgenabled <> 'O')
		FROM pg_trigger WHERE NOT tgisinternal`).Scan(&on, &off); err != nil || on == 0 || off != 0 {
		t.Errorf("triggers after the copy: %d enabled, %d not (%v)", on, off, err)
	}
	// New rows take ids after the copied ones.
	for _, q := range []string{
		`INSERT INTO users (email, password_hash, created_at) VALUES ('new@demo.test', 'x', '2026-01-01T00:00:00Z')`,
		`INSERT INTO subscriptions (starts_on, ends_on) VALUES ('2026-01-01', '2027-01-01')`,
	} {
		if err := d.ExecForTest(ctx, q); err != nil {
			t.Fatalf("a new row after the copy: %v", err)
		}
	}
	d.Close()

	// A second copy into the database now holding data is refused.
	code, out, err = runCLI(t, nil, "copy", "--from", file, "--to", to)
	if code != 1 || err == nil || !strings.Contains(err.Error(), "holds data") {
		t.Fatalf("second copy: status %d, %v\n%s", code, err, out)
	}

	// The copy serves: the demo Owner signs in.
	addr, log, stop := startServe(t, nil, "--db", to, "--access-log=false", "--notify-every", "0")
	if st, _ := webSignIn(t, "http://"+addr, "owner@demo.test"); st != http.StatusSeeOther {
		t.Errorf("the demo Owner signs in on the copy: status %d\n%s", st, log)
	}
	if st := postJSON(t, "http://"+addr+"/api/v1/tokens", fmt.Sprintf(`{"email":"driver@demo.test","password":%q}`, db.DemoPassword)); st != http.StatusCreated {
		t.Errorf("the demo Driver gets an API token on the copy: status %d\n%s", st, log)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func rowsOf(t *testing.T, d *db.DB, q string) []string {
	t.Helper()
	rows, err := d.QueryForTest(context.Background(), q)
	if err != nil {
		t.Fatalf("%s on %s: %v", q, d.Store(), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
