package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// The roles screen: the role list, one role's permission matrix, its
// history. Whether a request may come here at all is the route table's
// business (roles.view to look, roles.manage to change); which roles a
// member may change, and to what, is decided in db (roles.go).

const versionsPerPage = 25

// rolesIndex opens the first role of the list.
func (s *Server) rolesIndex(c echo.Context) error {
	roles, err := s.db.RoleOptions(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return echo.ErrNotFound
	}
	return c.Redirect(http.StatusSeeOther, "/roles/"+strconv.FormatInt(roles[0].ID, 10))
}

// roleShow is the roles page with one role's matrix; the role list asks
// for the matrix alone.
func (s *Server) roleShow(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.db.Role(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return s.renderRole(c, http.StatusOK, s.rolePanel(c, r))
}

// rolePanel builds the matrix of a saved role for the actor: read-only,
// with the reason, when they may not change it.
func (s *Server) rolePanel(c echo.Context, r db.Role) views.RolePanel {
	a := actor(c)
	p := views.RolePanel{CSRF: csrfToken(c), Role: r, Shown: r.Perms, Held: a.Perms,
		CanManage: a.Can(perm.RolesManage), Rename: views.RoleForm{Name: r.Name}}
	var fe *db.Error
	switch err := db.CheckRoleEdit(a, r); {
	case r.Builtin == perm.Owner && errors.As(err, &fe):
		p.ReadOnly = fe.Message
	case a.PreviewBy != nil:
		p.ReadOnly = "You are previewing the console: nothing can be changed."
	case !p.CanManage:
		p.ReadOnly = "You can look at roles but not change them: that needs '" + perm.Label(perm.RolesManage) + "'."
	case errors.As(err, &fe):
		p.ReadOnly = fe.Message
	}
	return p
}

// renderRole answers the matrix alone to the role list's htmx request,
// and the whole page otherwise.
func (s *Server) renderRole(c echo.Context, status int, p views.RolePanel) error {
	if hxTarget(c) == "role-panel" {
		return render(c, status, views.RolePanelView(p))
	}
	page, err := s.rolesPage(c, p)
	if err != nil {
		return err
	}
	return render(c, status, views.Roles(page))
}

func (s *Server) rolesPage(c echo.Context, p views.RolePanel) (views.RolesPage, error) {
	ctx := c.Request().Context()
	a := actor(c)
	roles, err := s.db.RoleOptions(ctx, a)
	if err != nil {
		return views.RolesPage{}, err
	}
	page := views.RolesPage{Shell: s.shell(c, p.Role.Name+" · Roles", "/roles"), Roles: roles, Panel: p, CanManage: p.CanManage}
	if page.CanManage {
		if page.Copyable, err = s.db.GrantableRoles(ctx, a); err != nil {
			return page, err
		}
	}
	return page, nil
}

// matrixPost is the matrix as posted.
type roleMatrixPost struct {
	set     perm.Set
	errs    map[string]string // scope inputs refused, by name
	typed   map[string]string // what was typed into them
	version int               // the version the page showed
}

// matrixForm reads the matrix as posted: the keys of the toggles that are
// on, each with its scope inputs. Unknown keys are dropped; scope values
// out of range are messages next to their input.
func roleMatrixForm(c echo.Context) roleMatrixPost {
	form, _ := c.FormParams()
	set := perm.Set{}
	errs := map[string]string{}
	typed := map[string]string{}
	for _, v := range form["p"] {
		p, ok := perm.Lookup(perm.Key(v))
		if !ok {
			continue
		}
		scopes := map[string]int{}
		for _, sc := range p.Scopes {
			name := "scope." + string(p.Key) + "." + sc.Key
			raw := strings.TrimSpace(form.Get(name))
			switch sc.Kind {
			case perm.ScopeBool:
				if raw == "1" || raw == "on" {
					scopes[sc.Key] = 1
				}
			case perm.ScopeDays:
				if raw == "" {
					continue
				}
				n, err := strconv.Atoi(raw)
				if err != nil || n < 0 || n > sc.Max {
					errs[name] = fmt.Sprintf("Enter a whole number of days from 0 to %d (0 means no limit).", sc.Max)
					typed[name] = clip(raw, 20)
					continue
				}
				if n > 0 {
					scopes[sc.Key] = n
				}
			}
		}
		set[p.Key] = scopes
	}
	version, _ := strconv.Atoi(form.Get("version"))
	return roleMatrixPost{set: set, errs: errs, typed: typed, version: version}
}

// closed is the set as a save would store it, and what completing it added.
func roleSetClosed(set perm.Set) (perm.Set, []perm.Key) {
	out := set.Clone()
	out.Normalize()
	return out, out.WithRequirements()
}

// postedMatrix reads the role of the address and the matrix posted for it.
// answered is true when it has already answered: a scope setting was bad, and
// the review is shown again with the messages.
func (s *Server) postedMatrix(c echo.Context) (id int64, m roleMatrixPost, p views.RolePanel, answered bool, err error) {
	if id, err = pathID(c, "id"); err != nil {
		return
	}
	r, err := s.db.Role(c.Request().Context(), actor(c), id)
	if err != nil {
		return
	}
	m = roleMatrixForm(c)
	p = s.rolePanel(c, r)
	p.Shown, p.FieldErrors, p.Typed = m.set, m.errs, m.typed
	if len(m.errs) > 0 {
		p.Error = "Correct the marked scope settings."
		return id, m, p, true, s.renderReview(c, http.StatusUnprocessableEntity, p)
	}
	return id, m, p, false, nil
}

// roleImpact is the step before a save: it shows what saving the posted
// toggles would do to the members holding the role, and the button that
// saves them. It refuses what the save would refuse.
func (s *Server) roleImpact(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	id, m, p, answered, err := s.postedMatrix(c)
	if answered || err != nil {
		return err
	}
	posted := m.set
	set, added := roleSetClosed(posted)
	im, err := s.db.RoleImpact(ctx, a, id, m.version, posted)
	if err != nil {
		return s.matrixRefused(c, p, err)
	}
	names, err := s.db.RoleMemberNames(ctx, a, id, 5)
	if err != nil {
		return err
	}
	p.Shown = set
	p.Review = &views.RoleReview{Impact: im, Added: added, Names: names}
	return s.renderReview(c, http.StatusOK, p)
}

// renderReview answers the review box alone to the matrix's htmx request,
// and the whole page (the matrix showing what was posted) otherwise.
func (s *Server) renderReview(c echo.Context, status int, p views.RolePanel) error {
	if hxTarget(c) == "role-review" && len(p.FieldErrors) == 0 {
		return render(c, status, views.RoleReviewBox(p))
	}
	if isHTMX(c) {
		roleRetarget(c, "#role-panel")
		return render(c, status, views.RolePanelView(p))
	}
	return s.renderRole(c, status, p)
}

// retarget makes htmx swap the answer into another element than asked.
func roleRetarget(c echo.Context, target string) {
	h := c.Response().Header()
	h.Set("HX-Retarget", target)
	h.Set("HX-Reswap", "outerHTML")
}

// matrixRefused shows why the posted toggles cannot be saved: beside the
// Save button for a refusal of the toggles themselves; for a conflict,
// the role as it is now with who saved it meanwhile.
func (s *Server) matrixRefused(c echo.Context, p views.RolePanel, err error) error {
	var fe *db.Error
	if !errors.As(err, &fe) {
		return err
	}
	switch {
	case fe.Code == db.EConflict:
		r, rerr := s.db.Role(c.Request().Context(), actor(c), p.Role.ID)
		if rerr != nil {
			return rerr
		}
		fresh := s.rolePanel(c, r)
		fresh.Message = &views.Flash{Kind: "error", Text: fe.Message}
		if isHTMX(c) {
			fresh.MessageAtSave = true
			roleRetarget(c, "#role-panel")
			return render(c, http.StatusConflict, views.RolePanelView(fresh))
		}
		return s.renderRole(c, http.StatusConflict, fresh)
	case fe.Field == "p":
		p.Error = fe.Message
		p.Shown, _ = roleSetClosed(p.Shown)
		return s.renderReview(c, Status(fe.Code), p)
	}
	return err
}

// roleSave saves the matrix. The server completes the set with its
// requirements whatever the page did, and refuses an empty set,
// permissions the actor lacks, the actor's own role, the Owner role and a
// save that started from an older version.
func (s *Server) roleSave(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	id, m, p, answered, err := s.postedMatrix(c)
	if answered || err != nil {
		return err
	}
	posted := m.set
	res, err := s.db.SaveRole(ctx, a, db.RoleSave{RoleID: id, Version: m.version, Perms: posted})
	if err != nil {
		return s.matrixRefused(c, p, err)
	}
	msg := fmt.Sprintf("Saved %s as version %d: %s.", res.Role.Name, res.Role.Version, res.Impact.Summary())
	if res.Unchanged {
		msg = "Nothing to save: " + res.Role.Name + " already has these permissions."
	}
	if !isHTMX(c) {
		s.flash(c, "ok", msg)
		return c.Redirect(http.StatusSeeOther, "/roles/"+strconv.FormatInt(id, 10))
	}
	done := s.rolePanel(c, res.Role)
	done.Message = &views.Flash{Kind: "ok", Text: msg}
	done.MessageAtSave = true
	return render(c, http.StatusOK, views.RolePanelView(done))
}

// redirect sends the browser to path: htmx follows HX-Redirect as a whole
// page load, a plain form a 303.
func roleRedirect(c echo.Context, path string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// fieldErrors turns a refusal about a form field into the form's messages;
// ok is false for any other error.
func roleFieldErrors(err error, fields ...string) (map[string]string, int, bool) {
	var fe *db.Error
	if !errors.As(err, &fe) {
		return nil, 0, false
	}
	for _, f := range fields {
		if fe.Field == f {
			return map[string]string{f: fe.Message}, Status(fe.Code), true
		}
	}
	return nil, 0, false
}

// roleCreate creates a custom role from the New role dialog.
func (s *Server) roleCreate(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	f := views.RoleForm{Name: c.FormValue("name")}
	var id int64
	var err error
	if v := c.FormValue("copy_from"); v != "" {
		f.CopyFrom, err = formID(c, "copy_from")
	}
	if err == nil {
		id, err = s.db.CreateRole(ctx, a, db.NewRole{Name: f.Name, CopyFrom: f.CopyFrom})
	}
	if err != nil {
		errs, status, ok := roleFieldErrors(err, "name", "copy_from")
		if !ok {
			return err
		}
		f.Errors = errs
		if hxTarget(c) == "new-role-form" {
			copyable, err := s.db.GrantableRoles(ctx, a)
			if err != nil {
				return err
			}
			return render(c, status, views.NewRoleForm(csrfToken(c), f, copyable))
		}
		roles, err := s.db.RoleOptions(ctx, a)
		if err != nil || len(roles) == 0 {
			return err
		}
		r, err := s.db.Role(ctx, a, roles[0].ID)
		if err != nil {
			return err
		}
		page, err := s.rolesPage(c, s.rolePanel(c, r))
		if err != nil {
			return err
		}
		page.NewRole, page.NewOpen = f, true
		return render(c, status, views.Roles(page))
	}
	msg := "Created the role " + strings.TrimSpace(f.Name) + ". Turn on its permissions and save."
	if f.CopyFrom != 0 {
		msg = "Created the role " + strings.TrimSpace(f.Name) + " as a copy, with the same permissions turned on. Change what should differ and save."
	}
	s.flash(c, "ok", msg)
	return roleRedirect(c, "/roles/"+strconv.FormatInt(id, 10))
}

// roleRename renames a custom role from its Rename dialog.
func (s *Server) roleRename(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	f := views.RoleForm{Name: c.FormValue("name")}
	if err := s.db.RenameRole(ctx, a, id, f.Name); err != nil {
		errs, status, ok := roleFieldErrors(err, "name")
		if !ok {
			return err
		}
		f.Errors = errs
		if hxTarget(c) == "rename-form" {
			return render(c, status, views.RenameRoleForm(csrfToken(c), id, f))
		}
		r, err := s.db.Role(ctx, a, id)
		if err != nil {
			return err
		}
		p := s.rolePanel(c, r)
		p.Rename, p.RenameOpen = f, true
		return s.renderRole(c, status, p)
	}
	s.flash(c, "ok", "Renamed the role to "+strings.TrimSpace(f.Name)+".")
	return roleRedirect(c, "/roles/"+strconv.FormatInt(id, 10))
}

// roleDelete deletes a custom role nobody holds.
func (s *Server) roleDelete(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.db.Role(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.db.DeleteRole(ctx, a, id); err != nil {
		if db.ErrorCode(err) != db.EConflict {
			return err
		}
		p := s.rolePanel(c, r)
		p.Message = &views.Flash{Kind: "error", Text: db.SafeMessage(err)}
		if isHTMX(c) {
			roleRetarget(c, "#role-panel")
			return render(c, http.StatusConflict, views.RolePanelView(p))
		}
		return s.renderRole(c, http.StatusConflict, p)
	}
	s.flash(c, "ok", "Deleted the role "+r.Name+".")
	return roleRedirect(c, "/roles")
}

// roleHistory lists a role's saved versions.
func (s *Server) roleHistory(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	pg := max(1, queryInt(c, "page"))
	r, versions, total, err := s.db.RoleVersions(c.Request().Context(), actor(c), id, pg, versionsPerPage)
	if err != nil {
		return err
	}
	p := views.RoleHistoryPage{Role: r, Versions: versions,
		Pager: views.Pager{Page: pg, Pages: pages(total, versionsPerPage), Total: total, PerPage: versionsPerPage, Base: "/roles/" + strconv.FormatInt(id, 10) + "/history"}}
	if hxTarget(c) == "history-results" {
		return render(c, http.StatusOK, views.RoleHistoryResults(p))
	}
	p.Shell = s.shell(c, "History of "+r.Name, "/roles")
	return render(c, http.StatusOK, views.RoleHistory(p))
}

// roleVersion shows one version beside the current permissions, with what
// restoring it would do.
func (s *Server) roleVersion(c echo.Context) error {
	return s.renderVersion(c, http.StatusOK, nil)
}

func (s *Server) renderVersion(c echo.Context, status int, msg *views.Flash) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := pathID(c, "v")
	if err != nil || v > 1<<31 {
		return echo.ErrNotFound
	}
	r, ver, err := s.db.RoleVersionAt(c.Request().Context(), actor(c), id, int(v))
	if err != nil {
		return err
	}
	panel := s.rolePanel(c, r)
	restored, _ := roleSetClosed(ver.Perms)
	p := views.RoleVersionPage{
		Shell: s.shell(c, r.Name+": version "+strconv.Itoa(ver.Version), "/roles"), CSRF: csrfToken(c),
		Role: r, Version: ver, Restored: restored, Impact: db.ImpactOf(r.Members, r.Perms, restored),
		ReadOnly: panel.ReadOnly, CanRestore: panel.ReadOnly == "" && ver.Version != r.Version, Message: msg,
	}
	return render(c, status, views.RoleVersionView(p))
}

// roleRestore saves an earlier version as the newest one.
func (s *Server) roleRestore(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := pathID(c, "v")
	if err != nil || v > 1<<31 {
		return echo.ErrNotFound
	}
	current, _ := strconv.Atoi(c.FormValue("version"))
	res, err := s.db.RestoreRole(c.Request().Context(), actor(c), id, int(v), current)
	if err != nil {
		var fe *db.Error
		if !errors.As(err, &fe) || fe.Code == db.ENotFound {
			return err
		}
		if fe.Code != db.EConflict && fe.Code != db.EInvalid {
			return err
		}
		return s.renderVersion(c, Status(fe.Code), &views.Flash{Kind: "error", Text: fe.Message})
	}
	msg := fmt.Sprintf("Restored version %d of %s as version %d: %s.", v, res.Role.Name, res.Role.Version, res.Impact.Summary())
	if res.Unchanged {
		msg = fmt.Sprintf("Nothing to restore: version %d has the same permissions as the current one.", v)
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, "/roles/"+strconv.FormatInt(id, 10))
}
