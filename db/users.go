package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"fleetgate/db/field"
	"fleetgate/db/perm"
)

// NewUser is a login to create.
type NewUser struct {
	Email, PasswordHash, FirstName, LastName, Phone string
}

// CreateUser creates a login. A taken e-mail is an EConflict on "email".
func (d *DB) CreateUser(ctx context.Context, u NewUser) (int64, error) {
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = createUser(ctx, tx, d.stamp(), u)
		return err
	})
	return id, err
}

func createUser(ctx context.Context, tx *sql.Tx, now string, u NewUser) (int64, error) {
	id, err := insertID(ctx, tx, `INSERT INTO users (email, password_hash, first_name, last_name, phone, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		strings.TrimSpace(u.Email), u.PasswordHash, strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName), strings.TrimSpace(u.Phone), now)
	if isUnique(err) {
		return 0, &Error{Code: EConflict, Field: "email", Message: "This e-mail already has a login."}
	}
	return id, err
}

// LoginUser is what login needs to know of an e-mail.
type LoginUser struct {
	ID           int64
	PasswordHash string
}

// UserForLogin finds a login by e-mail (case-insensitive). found is false
// for an unknown e-mail; the caller must then do the same work anyway.
func (d *DB) UserForLogin(ctx context.Context, email string) (u LoginUser, found bool, err error) {
	err = d.r.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE email = ?`, strings.TrimSpace(email)).Scan(&u.ID, &u.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	return u, err == nil, err
}

// MemberFilter narrows the users list.
type MemberFilter struct {
	Query   string // words matched against name and e-mail
	RoleID  int64
	Status  string
	Channel string
	Sort    string // a sort of memberKeysets (KnownMemberSort), "-" first for descending; "" is by name
	Page    int    // from 1
	PerPage int
	// After and Before are cursors (MembersPage); Count asks for the total.
	After, Before string
	Count         bool
}

// MemberRow is one line of the users list.
type MemberRow struct {
	ID          int64
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	RoleID      int64
	RoleName    string
	Builtin     perm.Builtin
	IsOwner     bool
	Status      string
	Channel     string
	LastLoginAt *time.Time
	Version     int // bumped by every change of the member; edits name the one they started from
	sortName    string
}

// Name is the member's display name.
func (m MemberRow) Name() string { return displayName(m.FirstName, m.LastName, m.Email) }

// KnownMemberSort tells whether key ("-" first for descending) is one of
// the users list's sorts (memberKeysets).
func KnownMemberSort(key string) bool {
	_, ok := memberKeysets[strings.TrimPrefix(key, "-")]
	return ok
}

// memberOrder turns a sort key into the ORDER BY of its keyset; an
// unknown key is by name.
func memberOrder(key string) string {
	ks, ok := memberKeysets[strings.TrimPrefix(key, "-")]
	if !ok {
		return memberKeysets["name"].order(false, false)
	}
	return ks.order(strings.HasPrefix(key, "-"), false)
}

// memberWhere is the users list's filter over members m, users u.
func memberWhere(a *Actor, f MemberFilter) conds {
	var where conds
	where.add("m.account_id = ?", a.AccountID)
	words, ok := field.SearchWords(f.Query)
	if !ok {
		where.add("1 = 0") // a word no stored text can hold
	}
	for _, w := range words {
		like := "%" + escapeLike(w) + "%"
		where.add(`(u.first_name LIKE ? ESCAPE '\' OR u.last_name LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')`, like, like, like)
	}
	if f.RoleID != 0 {
		where.add("m.role_id = ?", f.RoleID)
	}
	if f.Status != "" {
		where.add("m.status = ?", f.Status)
	}
	if f.Channel != "" {
		where.add("m.channel = ?", f.Channel)
	}
	return where
}

const memberCols = `m.id, u.first_name, u.last_name, u.email, u.phone, m.role_id, r.name, COALESCE(r.builtin, ''),
		       m.id = a.owner_member_id, m.status, m.channel, m.last_login_at, m.version, m.sort_name`

const memberFrom = `
		  FROM members m
		  JOIN users u ON u.id = m.user_id
		  JOIN roles r ON r.id = m.role_id
		  JOIN accounts a ON a.id = m.account_id`

func scanMember(sc interface{ Scan(...any) error }, extra ...any) (MemberRow, error) {
	var m MemberRow
	var b string
	err := sc.Scan(append([]any{&m.ID, &m.FirstName, &m.LastName, &m.Email, &m.Phone, &m.RoleID, &m.RoleName, &b,
		&m.IsOwner, &m.Status, &m.Channel, nullTimeCol{&m.LastLoginAt}, &m.Version, &m.sortName}, extra...)...)
	m.Builtin = perm.Builtin(b)
	return m, err
}

// ListMembers returns one page of the actor's account's members, ordered by
// name, and the number of members matching the filter (use MembersPage for
// lists whose cost must follow the page).
func (d *DB) ListMembers(ctx context.Context, a *Actor, f MemberFilter) ([]MemberRow, int, error) {
	where := memberWhere(a, f)
	var out []MemberRow
	total, err := readPage(ctx, d.r, `
		SELECT `+memberCols+`, COUNT(*) OVER ()`+memberFrom+`
		 WHERE `+where.sql()+`
		 ORDER BY `+memberOrder(f.Sort)+` LIMIT ? OFFSET ?`, where.args, pageOf(f.Page, f.PerPage, 25),
		func(rows *sql.Rows, total *int) error {
			m, err := scanMember(rows, total)
			if err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("list members: %w", err)
	}
	return out, total, nil
}

// memberKeyset is a sort of the users list that reads its page through an index from a cursor (migrations 0001,
// 0031 and 0032): the sort key as a column of the page's rows, the condition of
// the rows after (or before) a cursor's key and id in the list's order
// (desc: the "-" sort), and that order (reversed to read backwards).
// Their arguments are the cursor's key and id.
type memberKeyset struct {
	key   string
	bound func(desc, before bool, key string) string
	order func(desc, reversed bool) string
}

// memberKeysets are the users list's sorts. The e-mail and the role's
// name are copies on the member kept by triggers (migration 0032).
var memberKeysets = map[string]memberKeyset{
	"name":   plainKeyset("m.sort_name"),
	"status": plainKeyset("m.status"),
	"email":  plainKeyset("m.sort_email"),
	"role":   plainKeyset("m.sort_role"),
	// Never signed in comes last either way, by id: the key is the stamp,
	// "" for never.
	"last_login": {
		key: "COALESCE(m.last_login_at, '')",
		bound: func(desc, before bool, key string) string {
			cmp := map[bool]string{false: ">", true: "<"}[desc != before]
			switch {
			case key == "" && !before:
				return "(m.last_login_at IS NULL AND (? = '' AND m.id " + cmp + " ?))"
			case key == "":
				return "(m.last_login_at IS NOT NULL OR (? = '' AND m.id " + cmp + " ?))"
			case !before:
				return "(m.last_login_at IS NULL OR (m.last_login_at, m.id) " + cmp + " (?, ?))"
			}
			return "(m.last_login_at IS NOT NULL AND (m.last_login_at, m.id) " + cmp + " (?, ?))"
		},
		order: func(desc, reversed bool) string {
			switch {
			case !desc && !reversed:
				return "m.last_login_at IS NULL, m.last_login_at, m.id"
			case !desc:
				return "m.last_login_at IS NULL DESC, m.last_login_at DESC, m.id DESC"
			case !reversed:
				return "m.last_login_at IS NULL, m.last_login_at DESC, m.id DESC"
			}
			return "m.last_login_at IS NULL DESC, m.last_login_at, m.id"
		},
	},
}

// plainKeyset is the keyset of a sort by one NOT NULL column of members
// (with an index on account, column, id), then id.
func plainKeyset(col string) memberKeyset {
	return memberKeyset{
		key: col,
		bound: func(desc, before bool, _ string) string {
			if desc != before {
				return "(" + col + ", m.id) < (?, ?)"
			}
			return "(" + col + ", m.id) > (?, ?)"
		},
		order: func(desc, reversed bool) string {
			if desc != reversed {
				return col + " DESC, m.id DESC"
			}
			return col + ", m.id"
		},
	}
}

// MembersPage returns one page of the actor's account's members from the
// cursor f.After or f.Before (or the page number f.Page of an old link);
// the total only with f.Count or when one page holds all. Every sort
// reads its page through an index in its order from the cursor (the
// row's sort key and id): by name (the default), e-mail, role, status
// and last sign-in.
func (d *DB) MembersPage(ctx context.Context, a *Actor, f MemberFilter) ([]MemberRow, Keyset, error) {
	per := f.PerPage
	if per <= 0 {
		per = 25
	}
	where := memberWhere(a, f)
	desc := strings.HasPrefix(f.Sort, "-")
	ksort, ok := memberKeysets[strings.TrimPrefix(f.Sort, "-")]
	if !ok {
		ksort, desc = memberKeysets["name"], false
	}
	k := keysetSpec{after: f.After, before: f.Before, per: per}
	bound, order := "1 = 1", ksort.order(desc, false)
	var bargs []any
	backwards := false
	if key, id, ok := parseNameCursor(f.Before); ok && f.Before != "" {
		bound = ksort.bound(desc, true, key)
		bargs, backwards = []any{key, id}, true
		order = ksort.order(desc, true)
	} else if key, id, ok := parseNameCursor(f.After); ok && f.After != "" {
		bound = ksort.bound(desc, false, key)
		bargs = []any{key, id}
	} else {
		k.after, k.before = "", ""
	}
	if f.After == "" && f.Before == "" && f.Page > 1 {
		k.offset = (f.Page - 1) * per
	}
	rows, err := d.readQuery(ctx, `SELECT `+memberCols+`, `+ksort.key+memberFrom+`
		 WHERE `+where.sql()+` AND `+bound+`
		 ORDER BY `+order+` LIMIT ? OFFSET ?`, append(append(append([]any{}, where.args...), bargs...), per+1, k.offset)...)
	if err != nil {
		return nil, Keyset{}, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []MemberRow
	var keys = map[int64]string{}
	for rows.Next() {
		var key string
		m, err := scanMember(rows, &key)
		if err != nil {
			return nil, Keyset{}, err
		}
		keys[m.ID] = key
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, Keyset{}, fmt.Errorf("list members: %w", err)
	}
	out, ks := finish(out, k, backwards, func(m MemberRow) string { return nameCursor(keys[m.ID], m.ID) })
	if f.Count && ks.Total < 0 {
		err := d.readRow(ctx, `SELECT COUNT(*) FROM members m JOIN users u ON u.id = m.user_id WHERE `+where.sql(), where.args...).Scan(&ks.Total)
		if err != nil {
			return nil, Keyset{}, fmt.Errorf("count members: %w", err)
		}
	}
	return out, ks, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// RoleOption is a role as a filter or a select offers it.
type RoleOption struct {
	ID      int64
	Name    string
	Builtin perm.Builtin
	Members int
}

// RoleOptions lists the account's roles, built-in ones first, with the
// number of members holding each.
func (d *DB) RoleOptions(ctx context.Context, a *Actor) ([]RoleOption, error) {
	return d.roleOptions(ctx, a, true)
}

// RoleChoices is RoleOptions without the member counts (Members is 0):
// what a filter or a picker offers, without counting the account's
// members on every view.
func (d *DB) RoleChoices(ctx context.Context, a *Actor) ([]RoleOption, error) {
	return d.roleOptions(ctx, a, false)
}

func (d *DB) roleOptions(ctx context.Context, a *Actor, count bool) ([]RoleOption, error) {
	members := "0"
	if count {
		members = "(SELECT COUNT(*) FROM members m WHERE m.role_id = r.id)"
	}
	rows, err := d.readQuery(ctx, `
		SELECT r.id, r.name, COALESCE(r.builtin, ''), `+members+`
		  FROM roles r WHERE r.account_id = ?
		 ORDER BY r.builtin IS NULL, CASE r.builtin WHEN 'owner' THEN 1 WHEN 'admin' THEN 2 WHEN 'manager' THEN 3
		          WHEN 'accountant' THEN 4 WHEN 'driver' THEN 5 WHEN 'notifications' THEN 6 END, r.name`, a.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleOption
	for rows.Next() {
		var o RoleOption
		var b string
		if err := rows.Scan(&o.ID, &o.Name, &b, &o.Members); err != nil {
			return nil, err
		}
		o.Builtin = perm.Builtin(b)
		out = append(out, o)
	}
	return out, rows.Err()
}

// NewMember adds an existing login to an account.
type NewMember struct {
	UserID        int64
	RoleID        int64
	Status        string
	Channel       string
	VehicleAccess string
}

// AddMember adds a login to the actor's account with a role of that account.
func (d *DB) AddMember(ctx context.Context, a *Actor, nm NewMember) (int64, error) {
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = addMember(ctx, tx, d.stamp(), a.AccountID, nm)
		return err
	})
	return id, err
}

func addMember(ctx context.Context, tx *sql.Tx, now string, accountID int64, nm NewMember) (int64, error) {
	if nm.Status == "" {
		nm.Status = "active"
	}
	if nm.Channel == "" {
		nm.Channel = "web"
	}
	if nm.VehicleAccess == "" {
		nm.VehicleAccess = "selected"
	}
	id, err := insertID(ctx, tx, `INSERT INTO members (account_id, user_id, role_id, status, channel, vehicle_access, created_at)
		SELECT ?, ?, r.id, ?, ?, ?, ? FROM roles r WHERE r.id = ? AND r.account_id = ?`,
		accountID, nm.UserID, nm.Status, nm.Channel, nm.VehicleAccess, now, nm.RoleID, accountID)
	if isUnique(err) {
		return 0, &Error{Code: EConflict, Field: "email", Message: "This person is already a member of the account."}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, FieldError("role_id", "Choose a role of this account.")
	}
	if err != nil {
		return 0, ruleViolation(err)
	}
	return id, nil
}
