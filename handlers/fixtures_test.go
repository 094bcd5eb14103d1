package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"fleetgate/db"
	"fleetgate/db/password"
	"fleetgate/db/perm"
)

// Named fixtures: accounts, members, groups, vehicles and clients made
// through the db package's own API (so they obey its rules and write their
// audit events), for tests that need data of their own instead of the demo
// account's details or raw SQL. Every fixture login has the demo password,
// so a.login(m.Email) works.

// fixAccount is an account made by mustAccount, with its Owner.
type fixAccount struct {
	a     *app
	ID    int64
	Name  string
	Owner *fixMember
	slug  string
}

// fixMember is a member of a fixture account (or of the demo account).
type fixMember struct {
	ID     int64 // member id
	UserID int64
	Email  string
	Actor  *db.Actor
	a      *app
}

var (
	fixtureSeq  atomic.Int64
	fixHashOnce sync.Once
	fixHash     string
)

// fixtureHash is the hash of the demo password, made once per test binary.
func fixtureHash(t testing.TB) string {
	t.Helper()
	fixHashOnce.Do(func() {
		h, err := password.Hash(db.DemoPassword)
		if err != nil {
			panic(err)
		}
		fixHash = h
	})
	return fixHash
}

// mustAccount creates an account named name with 20 paid vehicles and an
// Owner whose login is owner@<name>.test.
func mustAccount(t testing.TB, a *app, name string) *fixAccount {
	t.Helper()
	ctx := context.Background()
	slug := strings.ToLower(strings.Join(strings.Fields(name), "-"))
	email := "owner@" + slug + ".test"
	uid, err := a.db.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: fixtureHash(t), FirstName: "Owen", LastName: name})
	if err != nil {
		t.Fatalf("owner of %s: %v", name, err)
	}
	id, mid, err := a.db.CreateAccount(ctx, db.NewAccount{Name: name, PaidVehicles: 20, OwnerUserID: uid})
	if err != nil {
		t.Fatalf("account %s: %v", name, err)
	}
	acct := &fixAccount{a: a, ID: id, Name: name, slug: slug}
	acct.Owner = fixtureMember(t, a, mid, uid, email)
	return acct
}

func fixtureMember(t testing.TB, a *app, memberID, userID int64, email string) *fixMember {
	t.Helper()
	act, err := a.db.ActorByMember(context.Background(), memberID)
	if err != nil {
		t.Fatalf("member %d: %v", memberID, err)
	}
	return &fixMember{ID: memberID, UserID: userID, Email: email, Actor: act, a: a}
}

// demoOwner is the demo account as a fixture account (its Owner acts).
func demoAccount(t testing.TB, a *app) *fixAccount {
	t.Helper()
	o := actorByEmail(t, a, "owner@demo.test")
	u, _, err := a.db.UserForLogin(context.Background(), "owner@demo.test")
	if err != nil {
		t.Fatal(err)
	}
	return &fixAccount{a: a, ID: o.AccountID, Name: db.DemoAccountName, slug: "demo",
		Owner: &fixMember{ID: o.MemberID, UserID: u.ID, Email: "owner@demo.test", Actor: o, a: a}}
}

// role is the id of a built-in role of the account.
func (acct *fixAccount) role(t testing.TB, b perm.Builtin) int64 {
	t.Helper()
	return builtinRoleID(t, acct.a, acct.Owner.Actor, b)
}

// mustMember adds a new login to the account with a built-in role and
// vehicle access "all" or "selected" (channel: web). Its e-mail is
// <role>-<n>@<account>.test.
func mustMember(t testing.TB, acct *fixAccount, role perm.Builtin, access string) *fixMember {
	t.Helper()
	return mustMemberOn(t, acct, role, access, "web")
}

// mustMemberOn is mustMember with a channel: "web", "mobile" or "both".
func mustMemberOn(t testing.TB, acct *fixAccount, role perm.Builtin, access, channel string) *fixMember {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("%s-%d@%s.test", role, fixtureSeq.Add(1), acct.slug)
	uid, err := acct.a.db.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: fixtureHash(t), FirstName: "Fix", LastName: string(role)})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return acct.join(t, uid, email, role, access, channel)
}

// mustJoin makes an existing login (a demo one, say) a member of the
// account too, with a built-in role and access "all".
func mustJoin(t testing.TB, acct *fixAccount, email string, role perm.Builtin) *fixMember {
	t.Helper()
	u, found, err := acct.a.db.UserForLogin(context.Background(), email)
	if err != nil || !found {
		t.Fatalf("no login %s: %v", email, err)
	}
	return acct.join(t, u.ID, email, role, "all", "web")
}

func (acct *fixAccount) join(t testing.TB, userID int64, email string, role perm.Builtin, access, channel string) *fixMember {
	t.Helper()
	id, err := acct.a.db.AddMember(context.Background(), acct.Owner.Actor, db.NewMember{
		UserID: userID, RoleID: acct.role(t, role), Channel: channel, VehicleAccess: access})
	if err != nil {
		t.Fatalf("add %s to %s as %s: %v", email, acct.Name, role, err)
	}
	return fixtureMember(t, acct.a, id, userID, email)
}

// mustGroup creates a vehicle group (parent 0: at the top).
func mustGroup(t testing.TB, acct *fixAccount, name string, parent int64) int64 {
	t.Helper()
	id, err := acct.a.db.CreateGroup(context.Background(), acct.Owner.Actor, name, parent)
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	return id
}

// mustVehicle creates a vehicle in a group (0: none).
func mustVehicle(t testing.TB, acct *fixAccount, name string, group int64) int64 {
	t.Helper()
	id, err := acct.a.db.CreateVehicle(context.Background(), acct.Owner.Actor, db.VehicleInput{Name: name, GroupID: group})
	if err != nil {
		t.Fatalf("vehicle %s: %v", name, err)
	}
	return id
}

// mustClient creates a client.
func mustClient(t testing.TB, acct *fixAccount, name string) int64 {
	t.Helper()
	id, err := acct.a.db.CreateClient(context.Background(), acct.Owner.Actor, db.ClientInput{Name: name})
	if err != nil {
		t.Fatalf("client %s: %v", name, err)
	}
	return id
}

// mustGrant gives a member access to a vehicle or group ("vehicle" or
// "group") at a level, as the account's Owner.
func mustGrant(t testing.TB, acct *fixAccount, m *fixMember, kind string, target int64, level db.Level) {
	t.Helper()
	if err := acct.a.db.Grant(context.Background(), acct.Owner.Actor, m.ID, db.GrantInput{Kind: kind, TargetID: target, Level: level}); err != nil {
		t.Fatalf("grant %s %d to %s: %v", kind, target, m.Email, err)
	}
}

// mustSetStatus changes a member's status ("active", "deactivated") as the
// account's Owner.
func mustSetStatus(t testing.TB, acct *fixAccount, memberID int64, status string) {
	t.Helper()
	if err := acct.a.db.SetStatus(context.Background(), acct.Owner.Actor, memberID, status, db.Handover{}); err != nil {
		t.Fatalf("set member %d %s: %v", memberID, status, err)
	}
}

// login logs the member in on the web console.
func (m *fixMember) login() *client { return m.a.login(m.Email) }
