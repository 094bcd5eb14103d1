package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const usersPerPage = 25

// usersList is the users page and, for htmx, its results fragment.
func (s *Server) usersList(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	f := views.UsersFilter{
		Q:       clip(c.QueryParam("q"), 100),
		Status:  oneOf(c.QueryParam("status"), "active", "invited", "deactivated"),
		Channel: oneOf(c.QueryParam("channel"), "web", "mobile", "both"),
	}
	f.RoleID, _ = strconv.ParseInt(c.QueryParam("role"), 10, 64)
	pg := max(1, queryInt(c, "page"))
	rows, total, err := s.db.ListMembers(ctx, a, db.MemberFilter{Query: f.Q, RoleID: f.RoleID, Status: f.Status, Channel: f.Channel, Page: pg, PerPage: usersPerPage})
	if err != nil {
		return err
	}
	roles, err := s.db.RoleOptions(ctx, a)
	if err != nil {
		return err
	}
	params := url.Values{"q": {f.Q}, "status": {f.Status}, "channel": {f.Channel}}
	if f.RoleID != 0 {
		params.Set("role", strconv.FormatInt(f.RoleID, 10))
	}
	p := views.UsersPage{
		Filter:    f,
		Roles:     roles,
		Rows:      rows,
		Pager:     views.Pager{Page: pg, Pages: pages(total, usersPerPage), Total: total, PerPage: usersPerPage, Base: "/users", Params: params},
		CanManage: a.Can(perm.UsersManage),
	}
	if hxTarget(c) == "users-results" {
		return render(c, http.StatusOK, views.UsersResults(p))
	}
	if p.CanManage {
		if p.Invitations, err = s.invitationsPanel(c); err != nil {
			return err
		}
	}
	p.Shell = s.shell(c, "Users", "/users")
	return render(c, http.StatusOK, views.Users(p))
}
