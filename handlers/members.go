package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// memberPanels are panels other features add to a member's page (vehicle
// access, …), each given the viewer and the member.
var memberPanels []func(s *Server, c echo.Context, m db.MemberDetail) (templ.Component, error)

// memberPage builds a member's page for the viewer: what they may change
// follows from their permissions and reach (the no-escalation rule), and the server checks
// the same again on every change.
func (s *Server) memberPage(c echo.Context, id int64) (views.MemberPage, error) {
	ctx := c.Request().Context()
	a := actor(c)
	m, err := s.db.Member(ctx, a, id)
	if err != nil {
		return views.MemberPage{}, err
	}
	p := views.MemberPage{Shell: s.shell(c, m.Name(), "/users"), M: m,
		Form: views.MemberForm{FirstName: m.FirstName, LastName: m.LastName, Phone: m.Phone, RoleID: m.RoleID, Channel: m.Channel, Version: m.Version}}
	if a.Can(perm.UsersManage) {
		reach := s.db.CheckReach(ctx, a, id)
		var fe *db.Error
		switch {
		case reach == nil:
			p.CanEdit = true
			p.CanPreview = true
			p.CanDelete = a.Can(perm.UsersDelete)
		case errors.As(reach, &fe):
			p.Reason = fe.Message
		default:
			return p, reach
		}
		if p.CanEdit {
			if p.Roles, err = s.db.GrantableRoles(ctx, a); err != nil {
				return p, err
			}
		}
	}
	p.CanTransfer = a.IsOwner() && a.PreviewBy == nil && !m.IsOwner && m.Status == "active"
	if a.IsOwner() && m.IsOwner {
		p.Reason = ""
	}
	for _, panel := range memberPanels {
		comp, err := panel(s, c, m)
		if err != nil {
			return p, err
		}
		if comp != nil {
			p.Extra = append(p.Extra, comp)
		}
	}
	return p, nil
}

func (s *Server) memberShow(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.memberPage(c, id)
	if err != nil {
		return err
	}
	p.Saved = c.QueryParam("saved") == "1"
	return render(c, http.StatusOK, views.Member(p))
}

// memberSave applies the edit form; bad input re-renders it with the
// values typed and a message beside each field.
func (s *Server) memberSave(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.memberPage(c, id)
	if err != nil {
		return err
	}
	f, e := bindMember(c)
	if p.M.Accounts > 1 { // the form does not offer them: they stay as they are
		f.FirstName, f.LastName, f.Phone = p.M.FirstName, p.M.LastName, p.M.Phone
		e.FirstName, e.LastName, e.Phone = p.M.FirstName, p.M.LastName, p.M.Phone
	}
	for k, m := range e.Validate() {
		if p.M.Accounts > 1 && (k == "first_name" || k == "last_name" || k == "phone") {
			continue // not offered, not changed: the db keeps them as stored
		}
		f.Errors.Add(k, m)
	}
	p.Form = f
	if len(f.Errors) == 0 {
		err := s.db.UpdateMember(c.Request().Context(), actor(c), id, f.Version, e)
		if err == nil {
			s.flash(c, "ok", "Saved. The change applies on their next request.")
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
		}
		if db.IsStale(err) {
			return s.memberConflict(c, id, f, err)
		}
		var fe *db.Error
		if !errors.As(err, &fe) || fe.Field == "" {
			return err
		}
		f.Errors[fe.Field] = fe.Message
	}
	p.Form = f
	if !p.CanEdit {
		return &db.Error{Code: db.EForbidden, Message: p.Reason}
	}
	return render(c, http.StatusUnprocessableEntity, views.Member(p))
}

// memberConflict answers a save from an old version: the page as it is
// now, the form as typed, the current values beside it.
func (s *Server) memberConflict(c echo.Context, id int64, typed views.MemberForm, err error) error {
	p, perr := s.memberPage(c, id)
	if perr != nil {
		return perr
	}
	if !p.CanEdit {
		return &db.Error{Code: db.EForbidden, Message: p.Reason}
	}
	m := p.M
	cf := conflictOf(err)
	differs(&cf, "first_name", typed.FirstName, m.FirstName, m.FirstName)
	differs(&cf, "last_name", typed.LastName, m.LastName, m.LastName)
	differs(&cf, "phone", typed.Phone, m.Phone, m.Phone)
	differs(&cf, "role_id", strconv.FormatInt(typed.RoleID, 10), strconv.FormatInt(m.RoleID, 10), m.RoleName)
	differs(&cf, "channel", typed.Channel, m.Channel, channelLabel(m.Channel))
	typed.Version, typed.Conflict = m.Version, cf
	p.Form = typed
	return render(c, http.StatusConflict, views.Member(p))
}

func channelLabel(ch string) string {
	switch ch {
	case "web":
		return "Web console"
	case "mobile":
		return "Mobile app only"
	}
	return "Both"
}

func (s *Server) deactivatePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.deactivateData(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Deactivate(p))
}

func (s *Server) deactivateData(c echo.Context, id int64) (views.DeactivatePage, error) {
	ctx := c.Request().Context()
	a := actor(c)
	m, err := s.db.Member(ctx, a, id)
	if err != nil {
		return views.DeactivatePage{}, err
	}
	if err := s.db.CheckReach(ctx, a, id); err != nil {
		return views.DeactivatePage{}, err
	}
	left, err := s.db.Leftovers(ctx, a, id)
	if err != nil {
		return views.DeactivatePage{}, err
	}
	var kinds []string
	for _, l := range left {
		kinds = append(kinds, l.Kind)
	}
	ok, out, err := s.db.HandoverCandidates(ctx, a, id, kinds)
	if err != nil {
		return views.DeactivatePage{}, err
	}
	return views.DeactivatePage{Shell: s.shell(c, "Deactivate "+m.Name(), "/users"), M: m, Leftovers: left, Members: ok, LeftOut: out}, nil
}

func (s *Server) deactivate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var h db.Handover
	if c.FormValue("handover") == "member" {
		to, err := strconv.ParseInt(c.FormValue("handover_to"), 10, 64)
		if err != nil || to <= 0 {
			p, err := s.deactivateData(c, id)
			if err != nil {
				return err
			}
			p.Error = "Choose the member to hand over to, or choose to revoke."
			return render(c, http.StatusUnprocessableEntity, views.Deactivate(p))
		}
		h.ToMemberID = to
	}
	var done []string
	h.Report = &done
	if err := s.db.SetStatus(c.Request().Context(), actor(c), id, "deactivated", h); err != nil {
		var fe *db.Error
		if errors.As(err, &fe) && fe.Code == db.EInvalid {
			p, perr := s.deactivateData(c, id)
			if perr != nil {
				return perr
			}
			p.Error = fe.Message
			p.Handover, p.HandoverTo = c.FormValue("handover"), h.ToMemberID
			return render(c, http.StatusUnprocessableEntity, views.Deactivate(p))
		}
		return err
	}
	msg := "Deactivated. They were logged out everywhere."
	if len(done) > 0 {
		msg += " " + strings.Join(done, ". ") + "."
	}
	if utf8.RuneCountInString(msg) > 600 { // the message travels in a cookie
		msg = string([]rune(msg)[:560]) + "… (the audit log has it all)."
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}

func (s *Server) reactivate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.SetStatus(c.Request().Context(), actor(c), id, "active", db.Handover{}); err != nil {
		return err
	}
	s.flash(c, "ok", "Reactivated. They can log in again.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}

func (s *Server) deletePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	m, err := s.db.Member(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	if err := s.db.CheckReach(c.Request().Context(), a, id); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Delete(views.DeletePage{Shell: s.shell(c, "Delete "+m.Name(), "/users"), M: m}))
}

func (s *Server) deleteMember(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	m, err := s.db.Member(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	if err := s.db.DeleteMember(c.Request().Context(), a, id); err != nil {
		return err
	}
	s.flash(c, "ok", m.Name()+" was deleted. Their trips stay, attributed to “former member "+m.Name()+"”.")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *Server) transferOwnership(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	pw := c.FormValue("password")
	if len(pw) > 200 {
		pw = ""
	}
	err = s.db.TransferOwnership(c.Request().Context(), actor(c), id, pw)
	var fe *db.Error
	if errors.As(err, &fe) && fe.Field != "" {
		p, perr := s.memberPage(c, id)
		if perr != nil {
			return perr
		}
		p.Form.Errors = map[string]string{fe.Field: fe.Message}
		if fe.Field != "password" {
			p.Form.Errors["password"] = fe.Message
		}
		return render(c, http.StatusUnprocessableEntity, views.Member(p))
	}
	if err != nil {
		return err
	}
	s.flash(c, "ok", "Ownership handed over. You are now an Admin of this account.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}

func (s *Server) previewStart(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.StartPreview(c.Request().Context(), actor(c), sessionToken(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) previewExit(c echo.Context) error {
	a := actor(c)
	if err := s.db.EndPreview(c.Request().Context(), sessionToken(c)); err != nil {
		return err
	}
	if a.PreviewBy != nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", a.MemberID))
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// usersBulk applies one action to the selected rows of the users list.
func (s *Server) usersBulk(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range form["ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 && len(ids) < 1000 {
			ids = append(ids, id)
		}
	}
	action := oneOf(c.FormValue("action"), "deactivate", "reactivate", "role")
	back := safeNext(c.FormValue("back"))
	if back == "" || !strings.HasPrefix(back, "/users") {
		back = "/users"
	}
	if len(ids) == 0 || action == "" {
		s.flash(c, "error", "Select members and an action first.")
		return c.Redirect(http.StatusSeeOther, back)
	}
	roleID, _ := strconv.ParseInt(c.FormValue("bulk_role"), 10, 64)
	if action == "role" && roleID == 0 {
		s.flash(c, "error", "Choose the new role first.")
		return c.Redirect(http.StatusSeeOther, back)
	}
	var fe *db.Error
	if c.FormValue("confirm") != "1" {
		// First a summary to confirm; nothing changes yet.
		a := actor(c)
		plan, err := s.db.PlanBulk(c.Request().Context(), a, action, roleID, ids)
		if errors.As(err, &fe) {
			s.flash(c, "error", fe.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		if err != nil {
			return err
		}
		p := views.BulkConfirmPage{Shell: s.shell(c, "Confirm", "/users"), Action: action, RoleID: roleID, Plan: plan, Back: back}
		if action == "role" {
			roles, err := s.db.GrantableRoles(c.Request().Context(), a)
			if err != nil {
				return err
			}
			for _, r := range roles {
				if r.ID == roleID {
					p.RoleName = r.Name
				}
			}
		}
		p.Shell.Title = p.Title()
		return render(c, http.StatusOK, views.BulkConfirm(p))
	}
	res, err := s.db.Bulk(c.Request().Context(), actor(c), action, roleID, ids)
	if errors.As(err, &fe) {
		s.flash(c, "error", fe.Message)
		return c.Redirect(http.StatusSeeOther, back)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Changed %d member(s).", res.Changed)
	if n := len(res.Skipped); n > 0 {
		// The message travels in a cookie: name a few, count the rest.
		shown := res.Skipped[:min(n, 5)]
		msg += fmt.Sprintf(" Skipped %d: %s", n, strings.Join(shown, "; "))
		if n > len(shown) {
			msg += fmt.Sprintf("; and %d more.", n-len(shown))
		}
	}
	kind := "ok"
	if res.Changed == 0 {
		kind = "error"
	}
	s.flash(c, kind, msg)
	return c.Redirect(http.StatusSeeOther, back)
}

// bindMember reads the member form as typed: the form to re-render and
// the edit the db takes (checked by the same MemberEdit.Validate).
func bindMember(c echo.Context) (views.MemberForm, db.MemberEdit) {
	f := views.MemberForm{
		FirstName: strings.TrimSpace(c.FormValue("first_name")),
		LastName:  strings.TrimSpace(c.FormValue("last_name")),
		Phone:     strings.TrimSpace(c.FormValue("phone")),
		Channel:   c.FormValue("channel"),
		Errors:    field.Errors{},
		Version:   formVersion(c.FormValue("version")),
	}
	var msg string
	if f.RoleID, msg = field.ID(c.FormValue("role_id")); msg != "" {
		f.Errors.Add("role_id", "Choose one of the offered roles.")
	}
	return f, db.MemberEdit{FirstName: f.FirstName, LastName: f.LastName, Phone: f.Phone, RoleID: f.RoleID, Channel: f.Channel}
}
