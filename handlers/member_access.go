package handlers

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// The member's page shows their vehicle access: grants ending within 7
// days, and the way to the access editor and "what can this person see?".
func init() {
	memberPanels = append(memberPanels, func(s *Server, c echo.Context, m db.MemberDetail) (templ.Component, error) {
		if !actor(c).Can(perm.UsersView) {
			return nil, nil
		}
		ctx := c.Request().Context()
		access, err := s.db.MemberAccess(ctx, actor(c), m.ID)
		if err != nil {
			return nil, err
		}
		return views.MemberAccessPanel(m.ID, access, s.db.EndingSoon(access, endingSoonWithin)), nil
	})
}
