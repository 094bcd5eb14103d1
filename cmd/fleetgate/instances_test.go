package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/mailer/mailtest"
)

// apiCall sends a JSON request to the console at base and returns the
// status and body; header is pairs of names and values.
func apiCall(t *testing.T, method, url, token, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// signIn gets an API token for a demo login through the console at base.
func signIn(t *testing.T, base, email string) string {
	t.Helper()
	st, body := apiCall(t, "POST", base+"/api/v1/tokens", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, db.DemoPassword))
	if st != http.StatusCreated {
		t.Fatalf("sign in %s at %s: %d %s", email, base, st, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Token == "" {
		t.Fatalf("token answer %q: %v", body, err)
	}
	return out.Token
}

// webSignIn logs in on the console at base with the login form, as a
// browser does, and answers the status of the form's post (303 on
// success) and the browser (its cookies) for the next requests.
func webSignIn(t *testing.T, base, email string) (int, *http.Client) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	token := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "fleetgate_csrf" {
			token = ck.Value
		}
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {db.DemoPassword}, "_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, c
}

// TestSeveralInstancesOnePostgres: three fleetgate serve processes on one
// PostgreSQL database serve one installation as one: a role changed
// through one applies to the next request through another; failed logins
// through one lock the login on the others; a console session begun on one
// is good on another; an Idempotency-Key replayed
// through another answers the first result and creates nothing more; and
// e-mails queued once are sent once while all three senders run.
func TestSeveralInstancesOnePostgres(t *testing.T) {
	needPostgres(t)
	t.Parallel()
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Plain)
	addr := demoDB.PathAs(t, "fleet.db")
	// A password in the address (the test server trusts its users and
	// asks for none): no instance may write it anywhere.
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	args := []string{"--db", u.String(), "--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(srv.Port), "--smtp-tls", "none",
		"--smtp-from", "Fleetgate <fleet@example.com>", "--base-url", "http://fleet.example.com",
		"--mail-poll", "100ms", // every sender looks often: they compete for each message
		"--notify-every", "0"} // no scheduled e-mails (the demo's digest): only the test's
	var bases []string
	type child struct {
		stop func() error
		out  *syncBuffer
	}
	var children []child
	for range 3 {
		cmd, a, out := startChild(t, args...)
		bases = append(bases, "http://"+a)
		children = append(children, child{stop: func() error {
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				return err
			}
			return cmd.Wait()
		}, out: out})
	}
	logs := func() string {
		var b strings.Builder
		for i, c := range children {
			fmt.Fprintf(&b, "--- instance %d:\n%s\n", i+1, c.out)
		}
		return b.String()
	}

	// A role change through instance 1 applies to the next request
	// through instance 2 (and 3).
	// The Owner's login is for the web console: the Owner's API token is
	// an integration token (made as the console's token page would).
	d := openDB(t, addr)
	var ownerID int64
	if err := d.QueryRowForTest(ctx, `SELECT owner_member_id FROM accounts`).Scan(&ownerID); err != nil {
		t.Fatal(err)
	}
	ownerActor, err := d.ActorByMember(ctx, ownerID)
	if err != nil {
		t.Fatal(err)
	}
	owner, _, err := d.CreateIntegrationToken(ctx, ownerActor, "multi-instance test", 30, false)
	if err != nil {
		t.Fatal(err)
	}
	// A console session begun on instance 3 is good on instance 1 (the
	// cookie keys and the sessions are the database's).
	st, browser := webSignIn(t, bases[2], "owner@demo.test")
	if st != http.StatusSeeOther {
		t.Fatalf("the Owner signs in on instance 3: status %d", st)
	}
	if res, err := browser.Get(bases[0] + "/users"); err != nil {
		t.Fatal(err)
	} else {
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "driver@demo.test") {
			t.Fatalf("the Owner's session from instance 3 on instance 1: status %d", res.StatusCode)
		}
	}
	driver := signIn(t, bases[1], "driver@demo.test")
	if st, body := apiCall(t, "GET", bases[1]+"/api/v1/users", driver, ""); st != http.StatusForbidden {
		t.Fatalf("the Driver lists users: %d %s", st, body)
	}
	st, body := apiCall(t, "GET", bases[0]+"/api/v1/roles", owner, "")
	if st != http.StatusOK {
		t.Fatalf("roles: %d %s", st, body)
	}
	var roles struct {
		Roles []struct {
			ID      int64
			Builtin string
		}
	}
	if err := json.Unmarshal([]byte(body), &roles); err != nil {
		t.Fatalf("roles %s: %v", body, err)
	}
	var adminRole int64
	for _, r := range roles.Roles {
		if r.Builtin == "admin" {
			adminRole = r.ID
		}
	}
	var driverID, version int64
	if err := d.QueryRowForTest(ctx, `SELECT m.id, m.version FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'driver@demo.test'`).Scan(&driverID, &version); err != nil || adminRole == 0 {
		t.Fatalf("driver %d (%v), admin role %d in %s", driverID, err, adminRole, body)
	}
	if st, body := apiCall(t, "PUT", fmt.Sprintf("%s/api/v1/users/%d", bases[0], driverID), owner, fmt.Sprintf(`{"role_id":%d}`, adminRole),
		"If-Match", fmt.Sprintf(`"%d"`, version)); st != http.StatusOK {
		t.Fatalf("the Owner makes the Driver an Admin through instance 1: %d %s", st, body)
	}
	for _, base := range bases[1:] {
		if st, body := apiCall(t, "GET", base+"/api/v1/users", driver, ""); st != http.StatusOK || !strings.Contains(body, "owner@demo.test") {
			t.Errorf("the new Admin lists users through %s: %d %s", base, st, body)
		}
	}

	// Five failed logins through instance 1 lock the login on 2 and 3,
	// the right password included.
	for range 5 {
		if st, body := apiCall(t, "POST", bases[0]+"/api/v1/tokens", "", `{"email":"accountant@demo.test","password":"wrong"}`); st != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d %s", st, body)
		}
	}
	for _, base := range bases[1:] {
		for _, pw := range []string{"wrong", db.DemoPassword} {
			if st, body := apiCall(t, "POST", base+"/api/v1/tokens", "", fmt.Sprintf(`{"email":"accountant@demo.test","password":%q}`, pw)); st != http.StatusTooManyRequests {
				t.Errorf("after five failures on instance 1, %s answers %d %s, want 429", base, st, body)
			}
		}
	}

	// An Idempotency-Key replayed through instance 2 answers instance 1's
	// result and creates nothing more.
	create := `{"name":"Shared van","plate":"MULTI-1","vin":""}`
	st1, first := apiCall(t, "POST", bases[0]+"/api/v1/vehicles", owner, create, "Idempotency-Key", "multi-instance-1")
	if st1 != http.StatusCreated {
		t.Fatalf("create through instance 1: %d %s", st1, first)
	}
	st2, again := apiCall(t, "POST", bases[1]+"/api/v1/vehicles", owner, create, "Idempotency-Key", "multi-instance-1")
	if st2 != st1 || again != first {
		t.Errorf("the replay through instance 2: %d %s\nthe first answer: %d %s", st2, again, st1, first)
	}
	var vans int
	if err := d.QueryRowForTest(ctx, `SELECT count(*) FROM vehicles WHERE plate = 'MULTI-1'`).Scan(&vans); err != nil || vans != 1 {
		t.Errorf("%d vehicles MULTI-1 (%v), want 1", vans, err)
	}

	// E-mails queued once are sent once while the three senders run:
	// password resets asked for through each instance, and messages
	// queued beside them (no instance is woken for those: every sender
	// finds them at its next look).
	var before int
	if err := d.QueryRowForTest(ctx, `SELECT count(*) FROM outbox`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	emails := []string{"owner@demo.test", "admin@demo.test", "manager@demo.test"}
	for i, e := range emails {
		forgot(t, strings.TrimPrefix(bases[i], "http://"), e)
	}
	const queued = 30
	for i := range queued {
		if err := d.EnqueueMailForTest(ctx, db.Mail{To: fmt.Sprintf("reader%d@example.com", i), Kind: "test", Subject: fmt.Sprintf("Message %d", i), Body: "Hello"}); err != nil {
			t.Fatal(err)
		}
	}
	var total int
	if err := d.QueryRowForTest(ctx, `SELECT count(*) FROM outbox`).Scan(&total); err != nil || total != before+len(emails)+queued {
		t.Fatalf("%d messages in the outbox (%v), want %d", total, err, before+len(emails)+queued)
	}
	srv.WaitFor(t, 60*time.Second, "every message sent", func(s *mailtest.Server) bool { return len(s.Messages()) >= total })
	// Then every instance stops: nothing can be sent after that.
	for i, c := range children {
		if err := c.stop(); err != nil {
			t.Errorf("instance %d: %v", i+1, err)
		}
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.MessageID]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("message %s sent %d times", id, n)
		}
	}
	if len(seen) != total || len(srv.Messages()) != total {
		t.Errorf("%d messages received, %d distinct, want %d once each", len(srv.Messages()), len(seen), total)
	}
	var sent int
	if err := d.QueryRowForTest(ctx, `SELECT count(*) FROM outbox WHERE state = 'sent' AND via = 'smtp'`).Scan(&sent); err != nil || sent != total {
		t.Errorf("%d marked sent (%v), want %d", sent, err, total)
	}
	// Which sender sent what (they compete; any split is right).
	var split []string
	for i, c := range children {
		split = append(split, fmt.Sprintf("instance %d: %d", i+1, strings.Count(c.out.String(), `msg="e-mail sent"`)))
	}
	t.Logf("%d e-mails sent once each; %s", total, strings.Join(split, ", "))
	// The background jobs (pruning, reminders, the senders) ran without
	// an error on any instance.
	for i, c := range children {
		for _, l := range strings.Split(c.out.String(), "\n") {
			if strings.Contains(l, "level=ERROR") {
				t.Errorf("instance %d: %s", i+1, l)
			}
		}
	}
	if strings.Contains(logs(), "s3cret-pw") {
		t.Errorf("an instance wrote the database's password")
	}
	if !strings.Contains(logs(), "xxxxx@") {
		t.Errorf("no instance named its database")
	}
	if t.Failed() {
		t.Log(logs())
	}
}

// openDB opens the database at addr for the test's checks, closed when
// the test ends.
func openDB(t *testing.T, addr string) *db.DB {
	t.Helper()
	d, err := db.OpenWith(context.Background(), addr, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
