package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// Sign-in history: one's own on My profile (handlers/profile.go), and a
// member's sign-ins to the account for those who manage users.

func init() {
	memberPanels = append(memberPanels, func(s *Server, c echo.Context, m db.MemberDetail) (templ.Component, error) {
		if !actor(c).Can(perm.UsersManage) {
			return nil, nil // the link only; the page itself is guarded by its route
		}
		return views.MemberSignInsLink(m.ID), nil
	})
}

func (s *Server) memberSignIns(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := s.db.Member(ctx, actor(c), id)
	if err != nil {
		return err
	}
	list, err := s.db.MemberSignIns(ctx, actor(c), id, 100)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MemberSignIns(views.MemberSignInsPage{Shell: s.shell(c, "Sign-ins of "+m.Name(), "/users"),
		MemberID: id, Name: m.Name(), List: list}))
}
