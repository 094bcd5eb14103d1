package db

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Group is a vehicle group as the actor sees it. A group is visible when
// the actor's group grants cover it or it holds a vehicle the actor sees.
type Group struct {
	ID       int64
	ParentID int64 // 0 for a top-level group; the actor may not see the parent
	Name     string
	Path     string // "North › Chicago", through the groups the actor sees
	Depth    int    // 0 for a root of the actor's tree
	Level    Level  // what the actor's group grants give over it; NoAccess when merely visible
	Active   int    // visible active vehicles directly in it
	Total    int    // visible vehicles directly in it, archived included
	Children int    // visible sub-groups
	Version  int    // bumped by every change; edits name the one they started from
}

// GroupNameMax is the longest group name.
const GroupNameMax = 60

// Groups returns the groups the actor sees, depth-first, siblings by name.
func (d *DB) Groups(ctx context.Context, a *Actor) ([]Group, error) {
	// Every vehicle of a covered group is visible: those are counted off
	// the vehicles_group index. Other groups are visible only through
	// direct grants on some of their vehicles: those are counted one by one.
	sc := d.scopeOf(a)
	rows, err := d.r.QueryContext(ctx, sc.with(`loose(group_id, active, total) AS (
			SELECT v.group_id, COUNT(CASE WHEN v.status = 'active' THEN 1 END), COUNT(*) FROM scope_direct s JOIN vehicles v ON v.id = s.vehicle_id
			 WHERE v.group_id IS NOT NULL AND v.group_id NOT IN (SELECT group_id FROM scope_covered) GROUP BY v.group_id)`)+`
		SELECT g.id, COALESCE(g.parent_id, 0), g.name, g.version, COALESCE(c.lvl, 0),
		       CASE WHEN c.group_id IS NULL THEN n.active ELSE (SELECT COUNT(*) FROM vehicles x WHERE x.group_id = g.id AND x.status = 'active') END,
		       CASE WHEN c.group_id IS NULL THEN n.total ELSE (SELECT COUNT(*) FROM vehicles x WHERE x.group_id = g.id) END
		  FROM vehicle_groups g
		  LEFT JOIN scope_covered c ON c.group_id = g.id
		  LEFT JOIN loose n ON n.group_id = g.id
		 WHERE g.account_id = ? AND (c.group_id IS NOT NULL OR n.group_id IS NOT NULL)`, sc.argsWith(a.AccountID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var flat []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.ParentID, &g.Name, &g.Version, &g.Level, &g.Active, &g.Total); err != nil {
			return nil, err
		}
		flat = append(flat, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return tree(flat), nil
}

// GroupOptions are the groups the actor sees, as Groups gives them but
// without counting their vehicles (Active and Total are 0): what a filter
// or a picker offers, a handful of rows read without touching vehicles
// beyond the member's direct grants.
func (d *DB) GroupOptions(ctx context.Context, a *Actor) ([]Group, error) {
	sc := d.scopeOf(a)
	rows, err := d.readQuery(ctx, sc.with()+`
		SELECT g.id, COALESCE(g.parent_id, 0), g.name, g.version, COALESCE(c.lvl, 0)
		  FROM vehicle_groups g
		  LEFT JOIN scope_covered c ON c.group_id = g.id
		 WHERE g.account_id = ? AND (c.group_id IS NOT NULL
		       OR g.id IN (SELECT v.group_id FROM scope_direct s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.group_id IS NOT NULL))`,
		sc.argsWith(a.AccountID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var flat []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.ParentID, &g.Name, &g.Version, &g.Level); err != nil {
			return nil, err
		}
		flat = append(flat, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return tree(flat), nil
}

// tree orders groups depth-first and fills Path, Depth and Children. A
// group whose parent is not in the list becomes a root.
func tree(flat []Group) []Group {
	byID := map[int64]int{}
	for i, g := range flat {
		byID[g.ID] = i
	}
	kids := map[int64][]int{}
	var roots []int
	for i, g := range flat {
		if _, ok := byID[g.ParentID]; ok {
			kids[g.ParentID] = append(kids[g.ParentID], i)
		} else {
			roots = append(roots, i)
		}
	}
	lower := make([]string, len(flat)) // each name lowered once, not per comparison
	for i, g := range flat {
		lower[i] = strings.ToLower(g.Name)
	}
	byName := func(ix []int) {
		sort.Slice(ix, func(x, y int) bool {
			a, b := lower[ix[x]], lower[ix[y]]
			if a != b {
				return a < b
			}
			return flat[ix[x]].ID < flat[ix[y]].ID
		})
	}
	out := make([]Group, 0, len(flat))
	var walk func(ix []int, depth int, path string)
	walk = func(ix []int, depth int, path string) {
		byName(ix)
		for _, i := range ix {
			g := flat[i]
			g.Depth = depth
			g.Path = g.Name
			if path != "" {
				g.Path = path + " › " + g.Name
			}
			g.Children = len(kids[g.ID])
			out = append(out, g)
			walk(kids[g.ID], depth+1, g.Path)
		}
	}
	walk(roots, 0, "")
	return out
}

// ManagedGroups are the groups the actor may put vehicles into and create
// sub-groups under: those their group grants cover at manage level.
func (d *DB) ManagedGroups(ctx context.Context, a *Actor) ([]Group, error) {
	all, err := d.GroupOptions(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []Group
	for _, g := range all {
		if g.Level == Manage {
			out = append(out, g)
		}
	}
	return out, nil
}

// groupRow is a group's own columns, whoever looks.
type groupRow struct {
	ID, ParentID int64
	Name         string
	Version      int
}

func findGroup(ctx context.Context, q queryer, accountID, id int64) (groupRow, error) {
	var g groupRow
	err := q.QueryRowContext(ctx, `SELECT id, COALESCE(parent_id, 0), name, version FROM vehicle_groups WHERE id = ? AND account_id = ?`, id, accountID).
		Scan(&g.ID, &g.ParentID, &g.Name, &g.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return g, notFound("Group")
	}
	return g, err
}

// groupVisible reports whether the actor sees a group of their account.
func (d *DB) groupVisible(ctx context.Context, q queryer, a *Actor, id int64) (bool, error) {
	sc := d.scopeOf(a)
	var ok bool
	err := q.QueryRowContext(ctx, sc.with()+`SELECT EXISTS (SELECT 1 FROM scope_covered WHERE group_id = ?)
		OR EXISTS (SELECT 1 FROM visible s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.group_id = ?)`, sc.argsWith(id, id)...).Scan(&ok)
	return ok, err
}

// managedGroup loads a group the actor must manage: ENotFound when they
// do not see it, EForbidden when they see it without managing it.
func (d *DB) managedGroup(ctx context.Context, q queryer, a *Actor, id int64) (groupRow, error) {
	g, err := findGroup(ctx, q, a.AccountID, id)
	if err != nil {
		return g, err
	}
	lvl, err := groupLevel(ctx, q, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), id)
	if err != nil {
		return g, err
	}
	if lvl == Manage {
		return g, nil
	}
	if ok, err := d.groupVisible(ctx, q, a, id); err != nil {
		return g, err
	} else if !ok {
		return g, notFound("Group")
	}
	return g, Errorf(EForbidden, "You do not manage the group %s. Ask someone who manages it, or the account Owner.", g.Name)
}

// checkTargetGroup checks a group chosen in a form (field) as the place
// for a vehicle or a sub-group: 0 (no group, top level) needs access to
// all vehicles; any other group must be one the actor manages.
func (d *DB) checkTargetGroup(ctx context.Context, q queryer, a *Actor, field string, id int64, noneMsg string) error {
	if id == 0 {
		if a.VehicleAccess == "all" {
			return nil
		}
		return &Error{Code: EForbidden, Field: field, Message: noneMsg}
	}
	lvl, err := groupLevel(ctx, q, a.AccountID, a.MemberID, a.VehicleAccess == "all", d.nowKey(), id)
	if ErrorCode(err) == ENotFound || (err == nil && lvl != Manage) {
		return FieldError(field, "Choose one of the offered groups: only groups you manage are offered.")
	}
	return err
}

func cleanGroupName(name string) (string, error) {
	name = squeeze(name)
	switch {
	case name == "":
		return "", FieldError("name", "Enter a name for the group.")
	case len([]rune(name)) > GroupNameMax:
		return "", FieldError("name", "A group name has at most %d characters.", GroupNameMax)
	case textProblem(name) != "":
		return "", FieldError("name", "%s", textProblem(name))
	}
	return name, nil
}

// CreateGroup creates a group under parentID (0: at the top).
func (d *DB) CreateGroup(ctx context.Context, a *Actor, name string, parentID int64) (int64, error) {
	name, err := cleanGroupName(name)
	if err != nil {
		return 0, err
	}
	var id int64
	err = d.update(ctx, func(tx *sql.Tx) error {
		if err := d.checkTargetGroup(ctx, tx, a, "parent_id", parentID,
			"Only members with access to all vehicles can create top-level groups; choose a group you manage."); err != nil {
			return err
		}
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO vehicle_groups (account_id, parent_id, name, created_at) VALUES (?, ?, ?, ?)`,
			a.AccountID, nullID(parentID), name, d.stamp())
		if isUnique(err) {
			return FieldError("name", "A group named %q already exists there.", name)
		}
		if err != nil {
			return err
		}
		path, _ := groupPath(ctx, tx, id)
		return d.audit(ctx, tx, a, Event{Kind: "group.create", Target: path, Summary: "Group created", Group: id,
			After: map[string]any{"name": name, "parent_id": parentID}})
	})
	return id, err
}

// UpdateGroup renames a group and/or moves it under another parent, from
// the version the form started from (an older one is a StaleError).
// Moving a group changes at once who sees its vehicles.
func (d *DB) UpdateGroup(ctx context.Context, a *Actor, id int64, version int, name string, parentID int64) error {
	name, err := cleanGroupName(name)
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		g, err := d.managedGroup(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := d.checkVersion(ctx, tx, a, "vehicle_groups", id, g.Version, version); err != nil {
			return err
		}
		if parentID != g.ParentID {
			if err := d.checkTargetGroup(ctx, tx, a, "parent_id", parentID,
				"Only members with access to all vehicles can move a group to the top level."); err != nil {
				return err
			}
			// The new parent may not be the group itself or below it.
			var loop bool
			if err := tx.QueryRowContext(ctx, `WITH RECURSIVE up(id) AS (
					SELECT ? UNION SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL)
				SELECT EXISTS (SELECT 1 FROM up WHERE id = ?)`, parentID, id).Scan(&loop); err != nil {
				return err
			}
			if loop {
				return FieldError("parent_id", "A group cannot move under itself or one of its own sub-groups.")
			}
		}
		before, _ := groupPath(ctx, tx, id)
		if name == g.Name && parentID == g.ParentID {
			return nil // nothing changed
		}
		res, err := tx.ExecContext(ctx, `UPDATE vehicle_groups SET name = ?, parent_id = ?, `+setVersioned+` WHERE id = ? AND account_id = ? AND version = ?`,
			append(append([]any{name, nullID(parentID)}, d.versionArgs(a)...), id, a.AccountID, g.Version)...)
		if isUnique(err) {
			return FieldError("name", "A group named %q already exists there.", name)
		}
		if err != nil {
			return err
		}
		if err := d.updated(ctx, tx, a, res, "vehicle_groups", id); err != nil {
			return err
		}
		after, _ := groupPath(ctx, tx, id)
		kind, summary := "group.update", "Group renamed"
		if parentID != g.ParentID {
			summary = "Group moved"
		}
		return d.audit(ctx, tx, a, Event{Kind: kind, Target: after, Summary: summary, Group: id,
			Before: map[string]any{"name": g.Name, "parent_id": g.ParentID, "path": before},
			After:  map[string]any{"name": name, "parent_id": parentID, "path": after}})
	})
}

// DeleteGroup deletes an empty group (no vehicles, archived included, and
// no sub-groups). Grants on it go with it.
func (d *DB) DeleteGroup(ctx context.Context, a *Actor, id int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		g, err := d.managedGroup(ctx, tx, a, id)
		if err != nil {
			return err
		}
		var vehicles, subs, grants int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM vehicles WHERE group_id = ?),
			(SELECT COUNT(*) FROM vehicle_groups WHERE parent_id = ?),
			(SELECT COUNT(*) FROM member_group_grants WHERE group_id = ?)`, id, id, id).Scan(&vehicles, &subs, &grants); err != nil {
			return err
		}
		if vehicles > 0 || subs > 0 {
			return Errorf(EConflict, "The group %s still holds %s and %s; move or delete them first.", g.Name,
				plural(vehicles, "vehicle", "vehicles"), plural(subs, "sub-group", "sub-groups"))
		}
		path, _ := groupPath(ctx, tx, id)
		if _, err := tx.ExecContext(ctx, `DELETE FROM vehicle_groups WHERE id = ? AND account_id = ?`, id, a.AccountID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "group.delete", Target: path, Group: id,
			Summary: "Group deleted, with " + plural(grants, "member grant", "member grants") + " on it",
			Before:  map[string]any{"name": g.Name, "parent_id": g.ParentID}})
	})
}

// groupPath is the full path of a group, for audit entries.
func groupPath(ctx context.Context, q queryer, id int64) (string, error) {
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE up(id, name, parent_id, n) AS (
			SELECT id, name, parent_id, 0 FROM vehicle_groups WHERE id = ?
			UNION ALL
			SELECT g.id, g.name, g.parent_id, up.n + 1 FROM vehicle_groups g JOIN up ON g.id = up.parent_id WHERE up.n < 100)
		SELECT name FROM up ORDER BY n DESC`, id)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		parts = append(parts, n)
	}
	return strings.Join(parts, " › "), rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
