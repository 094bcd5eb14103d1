package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"fleetgate/db/perm"
)

// Roles: each role's permission matrix, its history, and the rules for
// changing it. Whoever manages roles can only hand out permissions they
// hold, cannot change the role they hold or the Owner role, cannot touch a
// role wider than their own, and never overwrites a save they did not see
// (every save names the version it started from).

// RoleNameMax is the longest role name, in characters.
const RoleNameMax = 60

// Role is one role of an account with its current permissions.
type Role struct {
	ID        int64
	Name      string
	Builtin   perm.Builtin // "" for a custom role
	Version   int          // bumped by every save of the permissions
	Members   int          // members holding it, whatever their status
	Perms     perm.Set
	UpdatedAt time.Time
}

// IsBuiltin reports whether the role was created with the account.
func (r Role) IsBuiltin() bool { return r.Builtin != "" }

// Role reads one role of the actor's account; any other id is ENotFound.
func (d *DB) Role(ctx context.Context, a *Actor, id int64) (Role, error) {
	return findRole(ctx, d.r, a.AccountID, id)
}

func findRole(ctx context.Context, q queryer, accountID, id int64) (Role, error) {
	var r Role
	var b sql.NullString
	var updated string
	err := q.QueryRowContext(ctx, `
		SELECT r.id, r.name, r.builtin, r.version, r.updated_at,
		       (SELECT COUNT(*) FROM members m WHERE m.role_id = r.id)
		  FROM roles r WHERE r.id = ? AND r.account_id = ?`, id, accountID).
		Scan(&r.ID, &r.Name, &b, &r.Version, &updated, &r.Members)
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("Role")
	}
	if err != nil {
		return r, err
	}
	r.Builtin = perm.Builtin(b.String)
	r.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	if r.Builtin == perm.Owner {
		r.Perms = perm.Everything()
		return r, nil
	}
	r.Perms, err = rolePermissions(ctx, q, r.ID)
	return r, err
}

// CheckRoleEdit refuses a change of r by a: the Owner role, the role the
// actor holds, and a role with permissions the actor does not hold are out
// of reach. (Whether a may manage roles at all is the route's permission.)
// The message says why, so the matrix can show it as its read-only note.
func CheckRoleEdit(a *Actor, r Role) error {
	switch {
	case r.Builtin == perm.Owner:
		return Errorf(EForbidden, "The Owner role always holds every permission, so it cannot be changed.")
	case r.ID == a.RoleID:
		return Errorf(EForbidden, "This is your own role: nobody can change the role they hold. Ask another Admin or the Owner.")
	}
	if missing := a.Perms.Missing(r.Perms); len(missing) > 0 {
		return Errorf(EForbidden, "This role has permissions you do not hold (%s), so you cannot change it.", PermLabels(missing))
	}
	return nil
}

// checkRoleSet refuses a permission set a role may not be saved with: an
// empty one, or one giving what the actor does not hold.
func checkRoleSet(a *Actor, set perm.Set) error {
	if len(set) == 0 {
		return FieldError("p", "A role needs at least one permission. Turn one on before saving.")
	}
	if missing := a.Perms.Missing(set); len(missing) > 0 {
		return &Error{Code: EForbidden, Field: "p", Message: "You cannot give permissions you do not hold yourself: " + PermLabels(missing) + "."}
	}
	return nil
}

// PermLabels joins the labels of keys for messages, in catalog order.
func PermLabels(keys []perm.Key) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = perm.Label(k)
	}
	return strings.Join(out, ", ")
}

// Impact is what a change of a role's permissions does to the members
// who hold it.
type Impact struct {
	Members  int
	Gain     []perm.Key // permissions they get
	Lose     []perm.Key // permissions they no longer have
	Rescoped []perm.Key // permissions kept with other scope settings
}

// ImpactOf compares the saved and the new permissions of a role.
func ImpactOf(members int, old, new perm.Set) Impact {
	im := Impact{Members: members}
	gain, lose := perm.Diff(old, new)
	for _, k := range gain {
		if old.Has(k) {
			im.Rescoped = append(im.Rescoped, k)
		} else {
			im.Gain = append(im.Gain, k)
		}
	}
	for _, k := range lose {
		if !new.Has(k) {
			im.Lose = append(im.Lose, k)
		}
	}
	return im
}

// Changed reports whether the change does anything.
func (im Impact) Changed() bool {
	return len(im.Gain)+len(im.Lose)+len(im.Rescoped) > 0
}

// Summary reads like "14 members; gain Export reports; lose Edit trips".
func (im Impact) Summary() string {
	parts := []string{roleCount(im.Members, "member", "members")}
	if len(im.Gain) > 0 {
		parts = append(parts, "gain "+PermLabels(im.Gain))
	}
	if len(im.Lose) > 0 {
		parts = append(parts, "lose "+PermLabels(im.Lose))
	}
	if len(im.Rescoped) > 0 {
		parts = append(parts, "new limits on "+PermLabels(im.Rescoped))
	}
	if !im.Changed() {
		parts = append(parts, "no change")
	}
	return strings.Join(parts, "; ")
}

func roleCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// RoleImpact tells what saving set would do to role id, after the same
// completion the save applies. It refuses what the save would refuse,
// including a version other than the current one.
func (d *DB) RoleImpact(ctx context.Context, a *Actor, id int64, version int, set perm.Set) (Impact, error) {
	set = set.Clone()
	set.Normalize()
	set.WithRequirements()
	r, err := findRole(ctx, d.r, a.AccountID, id)
	if err != nil {
		return Impact{}, err
	}
	if err := CheckRoleEdit(a, r); err != nil {
		return Impact{}, err
	}
	if r.Version != version {
		return Impact{}, roleConflict(ctx, d.r, r)
	}
	if err := checkRoleSet(a, set); err != nil {
		return Impact{}, err
	}
	return ImpactOf(r.Members, r.Perms, set), nil
}

// RoleSave is a change of a role's permissions.
type RoleSave struct {
	RoleID  int64
	Version int      // the version the editor started from
	Perms   perm.Set // completed with its requirements before saving
	Kind    string   // audit kind; "role.update" when empty
	Note    string   // kept with the version, e.g. "Restored version 3"
}

// RoleSaveResult is the role after a save and what the save did.
type RoleSaveResult struct {
	Role      Role
	Impact    Impact
	Unchanged bool // the permissions were already these; nothing was written
}

// SaveRole replaces a role's permissions, keeps the new state as the next
// version and audits it. A version other than the current one is an
// EConflict that names who saved in between.
func (d *DB) SaveRole(ctx context.Context, a *Actor, s RoleSave) (RoleSaveResult, error) {
	set := s.Perms.Clone()
	set.Normalize()
	set.WithRequirements()
	kind := s.Kind
	if kind == "" {
		kind = "role.update"
	}
	var res RoleSaveResult
	err := d.update(ctx, func(tx *sql.Tx) error {
		r, err := findRole(ctx, tx, a.AccountID, s.RoleID)
		if err != nil {
			return err
		}
		if err := CheckRoleEdit(a, r); err != nil {
			return err
		}
		if r.Version != s.Version {
			return roleConflict(ctx, tx, r)
		}
		if err := checkRoleSet(a, set); err != nil {
			return err
		}
		res.Impact = ImpactOf(r.Members, r.Perms, set)
		if !res.Impact.Changed() {
			res.Role, res.Unchanged = r, true
			return nil
		}
		now := d.stamp()
		if err := ensureVersionRow(ctx, tx, r); err != nil {
			return err
		}
		// The WHERE on version makes the check and the bump one step.
		upd, err := tx.ExecContext(ctx, `UPDATE roles SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, now, r.ID, r.Version)
		if err != nil {
			return err
		}
		if n, _ := upd.RowsAffected(); n == 0 {
			return roleConflict(ctx, tx, r)
		}
		if err := writeRolePermissions(ctx, tx, r.ID, set); err != nil {
			return err
		}
		if err := insertVersion(ctx, tx, r.ID, r.Version+1, set, a, now, s.Note); err != nil {
			return err
		}
		before := map[string]any{"version": r.Version, "permissions": r.Perms}
		after := map[string]any{"version": r.Version + 1, "permissions": set}
		summary := r.Name + ": " + res.Impact.Summary()
		if s.Note != "" {
			summary = r.Name + " (" + s.Note + "): " + res.Impact.Summary()
		}
		if err := d.audit(ctx, tx, a, Event{Kind: kind, Target: r.Name, Summary: summary, Before: before, After: after}); err != nil {
			return err
		}
		if err := d.mailRoleSaved(ctx, tx, a, r, res.Impact); err != nil {
			return err
		}
		r.Version++
		r.Perms = set
		r.UpdatedAt, _ = time.Parse(time.RFC3339Nano, now)
		res.Role = r
		return nil
	})
	return res, err
}

// roleConflict is the answer to a save that started from an old version.
func roleConflict(ctx context.Context, q queryer, r Role) error {
	var by, at string
	err := q.QueryRowContext(ctx, `SELECT saved_by_name, saved_at FROM role_versions WHERE role_id = ? AND version = ?`, r.ID, r.Version).Scan(&by, &at)
	who := "someone else"
	if err == nil && by != "" {
		who = by
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
			who += " at " + t.UTC().Format("2006-01-02 15:04") + " UTC"
		}
	}
	return Errorf(EConflict, "%s was saved by %s while you were editing (it is now version %d). Your changes were not saved: the role is shown as it is now; make your changes again.", r.Name, who, r.Version)
}

func encodeSet(set perm.Set) string {
	if set == nil {
		return "{}"
	}
	b, _ := json.Marshal(set)
	return string(b)
}

func decodeSet(s string) perm.Set {
	set := perm.Set{}
	_ = json.Unmarshal([]byte(s), &set)
	for k, sc := range set {
		if sc == nil {
			set[k] = map[string]int{}
		}
	}
	return set
}

func insertVersion(ctx context.Context, tx *sql.Tx, roleID int64, version int, set perm.Set, a *Actor, now, note string) error {
	var by any
	name := "system"
	if a != nil {
		by, name = a.MemberID, a.Name()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO role_versions (role_id, version, permissions, saved_by_member_id, saved_by_name, saved_at, note)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, roleID, version, encodeSet(set), by, name, now, clipNote(note))
	return err
}

// ensureVersionRow keeps the state a role had before its first save when
// nobody recorded it (the built-in roles of accounts created after role
// history began are written without one).
func ensureVersionRow(ctx context.Context, tx *sql.Tx, r Role) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO role_versions (role_id, version, permissions, saved_by_name, saved_at, note)
		VALUES (?, ?, ?, 'system', ?, 'Initial permissions') ON CONFLICT (role_id, version) DO NOTHING`, r.ID, r.Version, encodeSet(r.Perms), r.UpdatedAt.Format(time.RFC3339Nano))
	return err
}

func clipNote(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200])
	}
	return s
}

// checkRoleName validates a custom role's name (already trimmed).
func checkRoleName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return FieldError("name", "Enter a name for the role.")
	case n > RoleNameMax:
		return FieldError("name", "Use at most %d characters (this has %d).", RoleNameMax, n)
	}
	if m := textProblem(name); m != "" {
		return FieldError("name", "%s", m)
	}
	return nil
}

// checkNameFree refuses a name another role of the account has, compared
// without regard to case (as the unique index compares).
func checkNameFree(ctx context.Context, q queryer, accountID, exceptID int64, name string) error {
	var taken string
	err := q.QueryRowContext(ctx, `SELECT name FROM roles WHERE account_id = ? AND name = ? AND id != ?`, accountID, name, exceptID).Scan(&taken)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &Error{Code: EConflict, Field: "name", Message: fmt.Sprintf("There is already a role named %q. Role names must differ in more than upper and lower case.", taken)}
}

// NewRole is a custom role to create, optionally copying another role.
type NewRole struct {
	Name     string
	CopyFrom int64 // 0 starts without permissions
}

// CreateRole creates a custom role in the actor's account. Copying a role
// with permissions the actor does not hold is refused.
func (d *DB) CreateRole(ctx context.Context, a *Actor, nr NewRole) (int64, error) {
	name := strings.TrimSpace(nr.Name)
	if err := checkRoleName(name); err != nil {
		return 0, err
	}
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		set := perm.Set{}
		note := "Created"
		if nr.CopyFrom != 0 {
			src, err := findRole(ctx, tx, a.AccountID, nr.CopyFrom)
			if ErrorCode(err) == ENotFound {
				return FieldError("copy_from", "Choose one of the offered roles.")
			}
			if err != nil {
				return err
			}
			if missing := a.Perms.Missing(src.Perms); len(missing) > 0 {
				return &Error{Code: EForbidden, Field: "copy_from", Message: fmt.Sprintf("You cannot copy %s: it has permissions you do not hold (%s).", src.Name, PermLabels(missing))}
			}
			set = src.Perms.Clone()
			note = "Created as a copy of " + src.Name
		}
		if err := checkNameFree(ctx, tx, a.AccountID, 0, name); err != nil {
			return err
		}
		now := d.stamp()
		var err error
		if id, err = insertRole(ctx, tx, a.AccountID, name, "", set, now); err != nil {
			return err
		}
		if err := insertVersion(ctx, tx, id, 1, set, a, now, note); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "role.create", Target: name, Summary: note + " with " + roleCount(len(set), "permission", "permissions"),
			After: map[string]any{"name": name, "version": 1, "permissions": set}})
	})
	return id, err
}

// RenameRole renames a custom role.
func (d *DB) RenameRole(ctx context.Context, a *Actor, id int64, name string) error {
	name = strings.TrimSpace(name)
	if err := checkRoleName(name); err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		r, err := findRole(ctx, tx, a.AccountID, id)
		if err != nil {
			return err
		}
		if r.IsBuiltin() {
			return Errorf(EForbidden, "Built-in roles cannot be renamed.")
		}
		if err := CheckRoleEdit(a, r); err != nil {
			return err
		}
		if name == r.Name {
			return nil
		}
		if err := checkNameFree(ctx, tx, a.AccountID, r.ID, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name = ?, updated_at = ? WHERE id = ?`, name, d.stamp(), r.ID); err != nil {
			return ruleViolation(err)
		}
		return d.audit(ctx, tx, a, Event{Kind: "role.rename", Target: name, Summary: "Renamed " + r.Name + " to " + name,
			Before: map[string]any{"name": r.Name}, After: map[string]any{"name": name}})
	})
}

// DeleteRole deletes a custom role nobody holds, with its history.
func (d *DB) DeleteRole(ctx context.Context, a *Actor, id int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		r, err := findRole(ctx, tx, a.AccountID, id)
		if err != nil {
			return err
		}
		if r.IsBuiltin() {
			return Errorf(EForbidden, "Built-in roles cannot be deleted.")
		}
		if err := CheckRoleEdit(a, r); err != nil {
			return err
		}
		if r.Members > 0 {
			hold := "members hold"
			if r.Members == 1 {
				hold = "member holds"
			}
			return Errorf(EConflict, "%s cannot be deleted: %d %s it. Give them another role first.", r.Name, r.Members, hold)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ? AND account_id = ?`, r.ID, a.AccountID); err != nil {
			return ruleViolation(err)
		}
		return d.audit(ctx, tx, a, Event{Kind: "role.delete", Target: r.Name, Summary: "Deleted the role " + r.Name,
			Before: map[string]any{"name": r.Name, "version": r.Version, "permissions": r.Perms}})
	})
}

// RoleVersion is one saved state of a role.
type RoleVersion struct {
	Version   int
	Perms     perm.Set
	SavedByID int64
	SavedBy   string
	SavedAt   time.Time
	Note      string
	// What this version changed against the one before it (nil for the first).
	Change *Impact
}

// RoleVersions returns a page of the role's history, newest first, and
// the number of versions.
func (d *DB) RoleVersions(ctx context.Context, a *Actor, roleID int64, page, per int) (Role, []RoleVersion, int, error) {
	r, err := findRole(ctx, d.r, a.AccountID, roleID)
	if err != nil {
		return r, nil, 0, err
	}
	var total int
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_versions WHERE role_id = ?`, r.ID).Scan(&total); err != nil {
		return r, nil, 0, err
	}
	if total == 0 {
		return r, []RoleVersion{initialVersion(r)}, 1, nil
	}
	page = max(page, 1)
	// One row more than the page, to tell what the page's last version changed.
	rows, err := d.r.QueryContext(ctx, `SELECT version, permissions, COALESCE(saved_by_member_id, 0), saved_by_name, saved_at, note
		FROM role_versions WHERE role_id = ? ORDER BY version DESC LIMIT ? OFFSET ?`, r.ID, per+1, (page-1)*per)
	if err != nil {
		return r, nil, 0, err
	}
	defer rows.Close()
	var out []RoleVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return r, nil, 0, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return r, nil, 0, err
	}
	for i := 0; i+1 < len(out); i++ {
		im := ImpactOf(r.Members, out[i+1].Perms, out[i].Perms)
		out[i].Change = &im
	}
	if len(out) > per {
		out = out[:per]
	}
	return r, out, total, nil
}

// RoleVersionAt returns the role and one of its versions.
func (d *DB) RoleVersionAt(ctx context.Context, a *Actor, roleID int64, version int) (Role, RoleVersion, error) {
	r, err := findRole(ctx, d.r, a.AccountID, roleID)
	if err != nil {
		return r, RoleVersion{}, err
	}
	row := d.r.QueryRowContext(ctx, `SELECT version, permissions, COALESCE(saved_by_member_id, 0), saved_by_name, saved_at, note
		FROM role_versions WHERE role_id = ? AND version = ?`, r.ID, version)
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		if version == r.Version {
			return r, initialVersion(r), nil
		}
		return r, v, notFound("Version")
	}
	return r, v, err
}

// RestoreRole saves the permissions of an earlier version as a new one,
// under every rule of an ordinary save.
func (d *DB) RestoreRole(ctx context.Context, a *Actor, roleID int64, version, current int) (RoleSaveResult, error) {
	_, v, err := d.RoleVersionAt(ctx, a, roleID, version)
	if err != nil {
		return RoleSaveResult{}, err
	}
	return d.SaveRole(ctx, a, RoleSave{RoleID: roleID, Version: current, Perms: v.Perms, Kind: "role.restore",
		Note: fmt.Sprintf("Restored version %d", version)})
}

// initialVersion stands for the unrecorded first state of a never-saved role.
func initialVersion(r Role) RoleVersion {
	return RoleVersion{Version: r.Version, Perms: r.Perms, SavedBy: "system", SavedAt: r.UpdatedAt, Note: "Initial permissions"}
}

type versionScanner interface{ Scan(dest ...any) error }

func scanVersion(s versionScanner) (RoleVersion, error) {
	var v RoleVersion
	var perms string
	if err := s.Scan(&v.Version, &perms, &v.SavedByID, &v.SavedBy, timeCol{&v.SavedAt}, &v.Note); err != nil {
		return v, err
	}
	v.Perms = decodeSet(perms)
	return v, nil
}
