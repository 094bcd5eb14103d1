package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// E-mail notifications: one's own choices on My profile; the choices and
// watched vehicles of a Notifications-only member (who cannot log in) on
// their page, for those with users.manage who reach them; the Watch button
// of a vehicle; and the one-click unsubscribe link of every e-mail. Who
// receives what is decided in db (db/notify.go).

func init() {
	memberPanels = append(memberPanels, func(s *Server, c echo.Context, m db.MemberDetail) (templ.Component, error) {
		if m.Builtin != perm.Notifications {
			return nil, nil
		}
		ctx, a := c.Request().Context(), actor(c)
		p := views.MemberMailPanel{MemberID: m.ID, CSRF: csrfToken(c)}
		var err error
		if p.Prefs, err = s.db.MemberMailPreferences(ctx, a, m.ID); err != nil {
			return nil, err
		}
		if p.Watches, err = s.db.MemberWatches(ctx, a, m.ID); err != nil {
			return nil, err
		}
		p.CanEdit = a.Can(perm.UsersManage) && a.PreviewBy == nil && s.db.CheckReach(ctx, a, m.ID) == nil
		if p.CanEdit && a.Can(perm.VehiclesView) {
			if p.Vehicles, _, err = s.db.ListVehicles(ctx, a, db.VehicleFilter{PerPage: 200}); err != nil {
				return nil, err
			}
		}
		return views.MemberMail(p), nil
	})
}

// chosenKinds reads the checked kinds of a preferences form.
func chosenKinds(c echo.Context) (map[string]bool, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, err
	}
	on := map[string]bool{}
	for _, k := range form["kind"] {
		if _, ok := db.MailKindOf(k); !ok {
			return nil, &db.Error{Code: db.EInvalid, Field: "kind", Message: "Unknown kind of e-mail: reload the page and try again."}
		}
		on[k] = true
	}
	return on, nil
}

func (s *Server) profileNotifications(c echo.Context) error {
	on, err := chosenKinds(c)
	if err != nil {
		return err
	}
	if err := s.db.SetMailPreferences(c.Request().Context(), me(c), on); err != nil {
		return err
	}
	s.flash(c, "ok", "Your e-mail choices were saved.")
	return c.Redirect(http.StatusSeeOther, "/profile#notifications")
}

func (s *Server) memberNotifications(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	on, err := chosenKinds(c)
	if err != nil {
		return err
	}
	if err := s.db.SetMemberMailPreferences(c.Request().Context(), actor(c), id, on); err != nil {
		return err
	}
	s.flash(c, "ok", "Their e-mail choices were saved.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}

// watchOn reads the watch field: "on" or "off".
func watchOn(c echo.Context) (bool, error) {
	switch c.FormValue("watch") {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, &db.Error{Code: db.EInvalid, Field: "watch", Message: "Choose to watch or to stop watching."}
}

func (s *Server) memberWatch(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	on, err := watchOn(c)
	if err != nil {
		return err
	}
	var vehicleID int64
	if _, err := fmt.Sscan(c.FormValue("vehicle_id"), &vehicleID); err != nil || vehicleID <= 0 {
		return &db.Error{Code: db.EInvalid, Field: "vehicle_id", Message: "Choose a vehicle."}
	}
	if err := s.db.WatchFor(c.Request().Context(), actor(c), id, vehicleID, on); err != nil {
		return err
	}
	if on {
		s.flash(c, "ok", "They now receive an e-mail for each change of the vehicle.")
	} else {
		s.flash(c, "ok", "They no longer watch the vehicle.")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}

func (s *Server) vehicleWatch(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	on, err := watchOn(c)
	if err != nil {
		return err
	}
	if err := s.db.Watch(c.Request().Context(), actor(c), id, on); err != nil {
		return err
	}
	if on {
		s.flash(c, "ok", "You now receive an e-mail for each change of this vehicle.")
	} else {
		s.flash(c, "ok", "You no longer watch this vehicle.")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/vehicles/%d", id))
}

// The one-click unsubscribe link: the token in the address names the
// member and the kind, signed by the server. GET asks to confirm (mail
// scanners follow links); POST turns the kind off. The POST needs no CSRF
// token (see csrfExempt): the token in the address is what authenticates
// it, and all it can do is turn that one kind off.

func (s *Server) unsubscribePage(c echo.Context) error {
	token := c.Param("token")
	p := views.UnsubscribePage{CSRF: csrfToken(c), Token: token}
	info, err := s.db.UnsubscribeInfo(c.Request().Context(), token)
	var fe *db.Error
	switch {
	case errors.As(err, &fe):
		p.Problem = fe.Message
		return render(c, http.StatusNotFound, views.Unsubscribe(p))
	case err != nil:
		return err
	}
	p.Info = info
	return render(c, http.StatusOK, views.Unsubscribe(p))
}

func (s *Server) unsubscribe(c echo.Context) error {
	token := c.Param("token")
	p := views.UnsubscribePage{CSRF: csrfToken(c), Token: token}
	info, err := s.db.Unsubscribe(c.Request().Context(), token)
	var fe *db.Error
	switch {
	case errors.As(err, &fe):
		p.Problem = fe.Message
		return render(c, http.StatusNotFound, views.Unsubscribe(p))
	case err != nil:
		return err
	}
	p.Info, p.Done = info, true
	return render(c, http.StatusOK, views.Unsubscribe(p))
}

// csrfExempt tells the POSTs that carry their own authentication in the
// address (the unsubscribe token) instead of a session.
func csrfExempt(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/unsubscribe/")
}
