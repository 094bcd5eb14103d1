package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
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

// readGroupForm reads a posted group form.
func readGroupForm(c echo.Context) views.GroupForm {
	f := views.GroupForm{Name: clip(c.FormValue("name"), 200), Errors: map[string]string{}}
	f.ParentID, _ = strconv.ParseInt(c.FormValue("parent_id"), 10, 64)
	return f
}

func (s *Server) groupCreate(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	f := readGroupForm(c)
	_, err := s.db.CreateGroup(ctx, a, f.Name, f.ParentID)
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
	f := readGroupForm(c)
	f.ID = id
	if err := s.db.UpdateGroup(ctx, a, id, f.Name, f.ParentID); err != nil {
		var status int
		var ok bool
		// A refusal naming a field belongs next to it; any other (not
		// found, not managed) is answered by the error handler.
		if e, isDB := err.(*db.Error); isDB && e.Field != "" {
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

func (s *Server) groupDelete(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = s.db.DeleteGroup(ctx, a, id)
	switch {
	case db.ErrorCode(err) == db.EConflict:
		s.flash(c, "error", err.(*db.Error).Message)
	case err != nil:
		return err
	default:
		s.flash(c, "ok", "Group deleted.")
	}
	return c.Redirect(http.StatusSeeOther, "/groups")
}
