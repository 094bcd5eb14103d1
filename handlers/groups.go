package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// groupsPage builds the group tree page of the actor: the groups they see,
// and where they may create or move groups (those they manage).
func (s *Server) groupsPage(c echo.Context) (views.GroupsPage, error) {
	ctx, a := c.Request().Context(), actor(c)
	groups, err := s.db.Groups(ctx, a)
	if err != nil {
		return views.GroupsPage{}, err
	}
	p := views.GroupsPage{Shell: s.shell(c, "Groups", "/groups"), Groups: groups, CanEdit: a.Can(perm.VehiclesEdit), AllowTop: a.VehicleAccess == "all"}
	for _, g := range groups {
		if g.Level == db.Manage {
			p.Managed = append(p.Managed, g)
		}
	}
	if !p.AllowTop && len(p.Managed) > 0 {
		p.New.ParentID = p.Managed[0].ID
	}
	if !p.CanEdit { // shown: what the grants and the role allow together
		for i := range p.Groups {
			p.Groups[i].Level = a.EffectiveLevel(p.Groups[i].Level)
		}
	}
	return p, nil
}

func (s *Server) groupsList(c echo.Context) error {
	p, err := s.groupsPage(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Groups(p))
}

// readGroupForm reads a posted group form; a parent that is not one of
// the offered ids is refused next to its field (never taken as "top level").
func readGroupForm(c echo.Context) (views.GroupForm, error) {
	f := views.GroupForm{Name: clip(c.FormValue("name"), 200), Errors: map[string]string{}}
	var msg string
	if f.ParentID, msg = field.ID(c.FormValue("parent_id")); msg != "" {
		return f, db.FieldError("parent_id", "Choose one of the offered groups.")
	}
	return f, nil
}

func (s *Server) groupCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	f, err := readGroupForm(c)
	if err == nil {
		_, err = s.db.CreateGroup(ctx, a, f.Name, f.ParentID)
	}
	if err != nil {
		status, ok := formFailure(err, f.Errors, &f.Error)
		if !ok {
			return err
		}
		p, perr := s.groupsPage(c)
		if perr != nil {
			return perr
		}
		p.New = f
		return render(c, status, views.Groups(p))
	}
	s.flash(c, "ok", "Group "+f.Name+" created.")
	return c.Redirect(http.StatusSeeOther, "/groups")
}

// groupUpdate renames and/or moves a group.
func (s *Server) groupUpdate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	f, err := readGroupForm(c)
	f.ID = id
	f.Version = formVersion(c.FormValue("version"))
	if err == nil {
		err = s.db.UpdateGroup(ctx, a, id, f.Version, f.Name, f.ParentID)
	}
	if err != nil {
		if db.IsStale(err) {
			return s.groupConflict(c, f, err)
		}
		var status int
		var ok bool
		// A refusal naming a field belongs next to it; any other (not
		// found, not managed) is answered by the error handler.
		if e := (*db.Error)(nil); errors.As(err, &e) && e.Field != "" {
			status, ok = formFailure(err, f.Errors, &f.Error)
		}
		if !ok {
			return err
		}
		p, perr := s.groupsPage(c)
		if perr != nil {
			return perr
		}
		p.Edit = f
		return render(c, status, views.Groups(p))
	}
	s.flash(c, "ok", "Group saved.")
	return c.Redirect(http.StatusSeeOther, "/groups")
}

// groupConflict answers a save from an old version: the group's form open
// as typed, its current name and place beside it, and its current version.
func (s *Server) groupConflict(c echo.Context, f views.GroupForm, err error) error {
	p, perr := s.groupsPage(c)
	if perr != nil {
		return perr
	}
	var g *db.Group
	for i := range p.Groups {
		if p.Groups[i].ID == f.ID {
			g = &p.Groups[i]
		}
	}
	if g == nil {
		return err // no longer seen: the refusal stands alone
	}
	cf := conflictOf(err)
	differs(&cf, "name", f.Name, g.Name, g.Name)
	where := "(top level)"
	for _, x := range p.Groups {
		if x.ID == g.ParentID {
			where = x.Path
		}
	}
	differs(&cf, "parent_id", strconv.FormatInt(f.ParentID, 10), strconv.FormatInt(g.ParentID, 10), where)
	f.Version, f.Conflict = g.Version, cf
	p.Edit = f
	return render(c, http.StatusConflict, views.Groups(p))
}

func (s *Server) groupDelete(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = s.db.DeleteGroup(ctx, a, id)
	switch {
	case db.ErrorCode(err) == db.EConflict:
		s.flash(c, "error", db.SafeMessage(err))
	case err != nil:
		return err
	default:
		s.flash(c, "ok", "Group deleted.")
	}
	return c.Redirect(http.StatusSeeOther, "/groups")
}
