package db_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

func TestInvitationStoresOnlyTheTokenHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	o := account(t, d, "Acme", "o@acme.test")
	_, token, err := d.CreateInvitation(ctx, o, db.NewInvitation{Email: "p@acme.test", RoleID: roleID(t, d, o, perm.Driver), VehicleAccess: "selected"})
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	var row string
	if err := d.QueryRowForTest(ctx, `SELECT token_hash, email || role_id || grants || created_at || expires_at FROM invitations`).Scan(&stored, &row); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	if string(stored) != string(sum[:]) {
		t.Fatal("token_hash is not the SHA-256 of the token")
	}
	if strings.Contains(row, token) || strings.Contains(string(stored), token) {
		t.Fatal("the token itself is stored")
	}
}

func TestInvitationRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	mgrID := member(t, d, o, "m@acme.test", perm.Manager)
	mgr, _ := d.ActorByMember(ctx, mgrID)
	member(t, d, o, "x@acme.test", perm.Driver)

	try := func(a *db.Actor, email string, role int64, access string) error {
		_, _, err := d.CreateInvitation(ctx, a, db.NewInvitation{Email: email, RoleID: role, VehicleAccess: access})
		return err
	}
	cases := []struct {
		name  string
		err   error
		code  db.Code
		field string
	}{
		{"owner role", try(o, "a@x.test", roleID(t, d, o, perm.Owner), "selected"), db.EForbidden, "role_id"},
		{"wider role", try(mgr, "a@x.test", roleID(t, d, o, perm.Admin), "selected"), db.EForbidden, "role_id"},
		{"all vehicles without having them", try(mgr, "a@x.test", roleID(t, d, o, perm.Driver), "all"), db.EForbidden, "vehicle_access"},
		{"bad access", try(o, "a@x.test", roleID(t, d, o, perm.Driver), "some"), db.EInvalid, "vehicle_access"},
		{"already a member (any case)", try(o, "X@ACME.test", roleID(t, d, o, perm.Driver), "selected"), db.EInvalid, "email"},
	}
	for _, c := range cases {
		var e *db.Error
		if c.err == nil || db.ErrorCode(c.err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, c.err, c.code)
			continue
		}
		e = c.err.(*db.Error)
		if e.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.name, e.Field, c.field)
		}
	}
	if err := try(mgr, "ok@x.test", roleID(t, d, o, perm.Driver), "selected"); err != nil {
		t.Fatalf("manager invites a driver: %v", err)
	}
	if err := try(o, "OK@x.test", roleID(t, d, o, perm.Driver), "selected"); db.ErrorCode(err) != db.EInvalid {
		t.Fatalf("second open invitation (other case): %v", err)
	}
}

// TestInvitationIsSingleUse: two people racing with one link: one wins.
func TestInvitationIsSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	_, token, err := d.CreateInvitation(ctx, o, db.NewInvitation{Email: "p@acme.test", RoleID: roleID(t, d, o, perm.Driver), VehicleAccess: "selected"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.AcceptInvitation(ctx, token, db.Acceptance{FirstName: "P", LastName: "Q", PasswordHash: "x"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case db.ErrorCode(err) != db.EConflict:
			t.Errorf("loser got %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d accepted", ok)
	}
	_, total, _ := d.ListMembers(ctx, o, db.MemberFilter{Query: "p@acme.test"})
	if total != 1 {
		t.Fatalf("%d members for one invitation", total)
	}
}

func TestAcceptedMemberGetsTheInvitedAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	_, token, err := d.CreateInvitation(ctx, o, db.NewInvitation{Email: "p@acme.test", RoleID: roleID(t, d, o, perm.Accountant),
		Channel: "both", VehicleAccess: "all", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := d.InvitationByToken(ctx, token)
	if got := inv.ExpiresAt.Sub(inv.CreatedAt); got != time.Hour {
		t.Fatalf("ttl %v", got)
	}
	done, err := d.AcceptInvitation(ctx, token, db.Acceptance{FirstName: "P", LastName: "Q", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := d.ActorByMember(ctx, done.MemberID)
	if m.Status != "active" || m.Channel != "both" || m.VehicleAccess != "all" || m.Builtin != perm.Accountant || m.AccountID != o.AccountID {
		t.Fatalf("member %+v", m)
	}
	inv, _ = d.InvitationByToken(ctx, token)
	if inv.State(d.Now()) != db.InviteAccepted {
		t.Fatalf("state %s", inv.State(d.Now()))
	}
}

func TestProfileChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	o := account(t, d, "Acme", "o@acme.test")
	keep, _ := d.CreateSession(ctx, o.UserID, o.MemberID, "a", "1")
	other, _ := d.CreateSession(ctx, o.UserID, o.MemberID, "b", "2")
	n, err := d.ChangePassword(ctx, o, "new hash", keep)
	if err != nil || n != 1 {
		t.Fatalf("ended %d, %v", n, err)
	}
	if _, err := d.SessionActor(ctx, keep); err != nil {
		t.Fatal("kept session ended")
	}
	if _, err := d.SessionActor(ctx, other); db.ErrorCode(err) != db.ENotFound {
		t.Fatal("other session survived")
	}
	if err := d.UpdateProfile(ctx, o, " Olga ", "Owner", "+1 555"); err != nil {
		t.Fatal(err)
	}
	p, _ := d.Profile(ctx, o)
	if p.FirstName != "Olga" || p.Phone != "+1 555" {
		t.Fatalf("profile %+v", p)
	}
	es, _, _ := d.AuditLog(ctx, o, db.AuditFilter{Kind: "profile."})
	if len(es) != 2 || es[0].Kind != "profile.update" || es[1].Kind != "profile.password" {
		t.Fatalf("audit %+v", es)
	}
}
