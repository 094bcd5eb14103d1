package db

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// memberSortsVsRule is a sameRowsSQL query: the members' copies of their
// login's e-mail and their role's name (migration 0032) against the
// logins and roles themselves, as stored (case included).
var memberSortsVsRule = sameRowsSQL(
	`SELECT id, sort_email || '', sort_role || '' FROM members`,
	`SELECT m.id, u.email || '', r.name || ''
	   FROM members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id`, 3)

// walkMembers reads every page of the users list in sort's order through
// the cursors and answers the members' ids in order.
func walkMembers(t *testing.T, d *DB, a *Actor, sort string) []int64 {
	t.Helper()
	var ids []int64
	f := MemberFilter{Sort: sort, PerPage: 4}
	for range 1000 {
		rows, ks, err := d.MembersPage(context.Background(), a, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rows {
			ids = append(ids, m.ID)
		}
		if ks.Next == "" {
			return ids
		}
		f.After = ks.Next
	}
	t.Fatalf("sort %s: no last page", sort)
	return nil
}

// TestMemberSortCopiesFollowTheirSources applies random changes of
// logins' e-mails, roles' names, members' roles (ownership handed over
// included) and new members, and checks after each that every member's
// sort_email and sort_role equal the e-mail and role name they copy, and
// that the users list sorted by e-mail and by role (both directions)
// walks the members in the order of the logins and roles themselves.
func TestMemberSortCopiesFollowTheirSources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	rng := propertyRNG(t)
	c := newPreparedReads(t, d)
	pick := func(xs []int64) int64 {
		if len(xs) == 0 {
			return 0
		}
		return xs[rng.IntN(len(xs))]
	}
	words := []string{"alpha", "Bravo", "charlie", "DELTA", "echo", "Zulu", "ärger", "a", "b"}
	word := func() string { return words[rng.IntN(len(words))] }
	exec := func(step int, what, q string, args ...any) {
		t.Helper()
		err := d.update(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err })
		if err != nil && !isUnique(err) && !isTriggerAbort(err) && !isForeignKey(err) {
			t.Fatalf("step %d (%s): %v", step, what, err)
		}
	}
	if diff := c.diff(memberSortsVsRule); diff != "" {
		t.Fatalf("after the migration: copies (first) differ from their sources (second):\n%s", diff)
	}
	steps := rounds(200, 5)
	for step := 0; step < steps; step++ {
		members := c.ids(`SELECT id FROM members WHERE account_id = 1`)
		users := c.ids(`SELECT user_id FROM members WHERE account_id = 1`)
		roles := c.ids(`SELECT id FROM roles WHERE account_id = 1`)
		var what string
		switch rng.IntN(8) {
		case 0, 1:
			what = "e-mail changed"
			exec(step, what, `UPDATE users SET email = ? WHERE id = ?`, fmt.Sprintf("%s.%d@x.test", word(), step), pick(users))
		case 2:
			what = "e-mail's case changed"
			exec(step, what, `UPDATE users SET email = upper(email) WHERE id = ?`, pick(users))
		case 3:
			what = "role renamed" // built-in roles refuse
			exec(step, what, `UPDATE roles SET name = ? WHERE id = ?`, fmt.Sprintf("%s %d", word(), step), pick(roles))
		case 4, 5:
			what = "member's role changed" // the Owner role refuses
			exec(step, what, `UPDATE members SET role_id = ? WHERE id = ?`, pick(roles), pick(members))
		case 6:
			what = "role added and given"
			exec(step, what, `INSERT INTO roles (account_id, name, created_at, updated_at) VALUES (1, ?, '', '')`, fmt.Sprintf("%s new %d", word(), step))
			exec(step, what, `UPDATE members SET role_id = (SELECT MAX(id) FROM roles) WHERE id = ?`, pick(members))
		case 7:
			if rng.IntN(3) == 0 {
				what = "ownership handed over"
				exec(step, what, `UPDATE accounts SET owner_member_id = ? WHERE id = 1`, pick(members))
				break
			}
			what = "member added"
			email := fmt.Sprintf("%s.new%d@x.test", word(), step)
			exec(step, what, `INSERT INTO users (email, password_hash, created_at) VALUES (?, '', '')`, email)
			exec(step, what, `INSERT INTO members (account_id, user_id, role_id, created_at)
				SELECT 1, (SELECT id FROM users WHERE email = ?), ?, ''`, email, pick(roles))
		}
		if diff := c.diff(memberSortsVsRule); diff != "" {
			t.Fatalf("step %d (%s): copies (first) differ from their sources (second):\n%s", step, what, diff)
		}
	}
	// The lists sorted by e-mail and by role, page by page through the
	// cursors, against the order of the logins and roles themselves.
	owner := c.ids(`SELECT owner_member_id FROM accounts WHERE id = 1`)[0]
	a, err := d.ActorByMember(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	for sort, order := range map[string]string{
		"email": "lower(u.email), m.id", "-email": "lower(u.email) DESC, m.id DESC",
		"role": "lower(r.name), m.id", "-role": "lower(r.name) DESC, m.id DESC",
	} {
		want := c.ids(`SELECT m.id FROM members m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id
			WHERE m.account_id = 1 ORDER BY ` + order)
		if got := walkMembers(t, d, a, sort); !slices.Equal(got, want) {
			t.Errorf("sort %s: walked %v, want %v", sort, got, want)
		}
	}
}

// TestMemberSortCopiesThroughTheApp changes a role's name and a member's
// role the way the console does, and checks the copies and the order.
func TestMemberSortCopiesThroughTheApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := demoDB.open(t)
	c := newPreparedReads(t, d)
	a, err := d.ActorByMember(ctx, c.ids(`SELECT owner_member_id FROM accounts WHERE id = 1`)[0])
	if err != nil {
		t.Fatal(err)
	}
	roleID, err := d.CreateRole(ctx, a, NewRole{Name: "Mid", CopyFrom: c.ids(`SELECT id FROM roles WHERE account_id = 1 AND builtin = 'driver'`)[0]})
	if err != nil {
		t.Fatal(err)
	}
	driver := c.ids(`SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = 'driver@demo.test'`)[0]
	md, err := d.Member(ctx, a, driver)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.UpdateMember(ctx, a, driver, md.Version, MemberEdit{FirstName: md.FirstName, LastName: md.LastName, Phone: md.Phone,
		RoleID: roleID, Channel: md.Channel}); err != nil {
		t.Fatal(err)
	}
	if err := d.RenameRole(ctx, a, roleID, "AAA first"); err != nil {
		t.Fatal(err)
	}
	if diff := c.diff(memberSortsVsRule); diff != "" {
		t.Fatalf("copies (first) differ from their sources (second):\n%s", diff)
	}
	if got := c.rows(`SELECT sort_role FROM members WHERE id = ?`, driver); !slices.Equal(got, []string{"AAA first"}) {
		t.Fatalf("driver's sort_role %v", got)
	}
	if got := walkMembers(t, d, a, "role"); len(got) == 0 || got[0] != driver {
		t.Fatalf("by role, the renamed role's member first: %v (driver %d)", got, driver)
	}
	if got := walkMembers(t, d, a, "-role"); len(got) == 0 || got[len(got)-1] != driver {
		t.Fatalf("by role descending, the renamed role's member last: %v (driver %d)", got, driver)
	}
}
