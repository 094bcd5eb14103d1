package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"fleetgate/db"
)

// TestAccountCreate: the command makes the account and its Owner and
// prints a single-use link to choose a password; an e-mail that already has
// a login gets no link; missing flags are usage errors.
func TestAccountCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migratedDB.PathAs(t, "acc.db")
	var out bytes.Buffer
	err := run(ctx, []string{"account", "create", "--name", "Acme Fleet", "--owner-email", "ana@acme.test", "--db", path,
		"--base-url", "https://fleet.example.com/"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`https://fleet\.example\.com/reset/([A-Za-z0-9_-]+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no link printed:\n%s", out.String())
	}
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.PasswordResetByToken(ctx, m[1])
	if err != nil || r.Purpose != "setup" || r.Email != "ana@acme.test" {
		t.Fatalf("link: %+v %v", r, err)
	}
	u, found, _ := d.UserForLogin(ctx, "ana@acme.test")
	ms, _ := d.Memberships(ctx, u.ID)
	if !found || len(ms) != 1 || ms[0].AccountName != "Acme Fleet" || ms[0].RoleName != "Owner" {
		t.Fatalf("memberships: %+v", ms)
	}
	// The same person owns a second account: no new link.
	out.Reset()
	if err := run(ctx, []string{"account", "create", "--name", "Acme Rentals", "--owner-email", "ana@acme.test", "--db", path}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already has a login") || strings.Contains(out.String(), "/reset/") {
		t.Fatalf("second account:\n%s", out.String())
	}
	for _, args := range [][]string{
		{"account", "create", "--owner-email", "x@acme.test", "--db", path},
		{"account", "create", "--name", "X", "--owner-email", "not-an-email", "--db", path},
		{"account", "delete", "--name", "X"},
	} {
		err := run(ctx, args, &out)
		if exitCode(ctx, err) != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
