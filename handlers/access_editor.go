package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// The vehicle access editor of a member (/users/:id/access): the mode
// (all vehicles or selected), the grants on groups and vehicles with their
// level and last day, and "what can this person see?". The member's page
// links here. Viewing needs users.view; changing needs users.manage, and
// the db refuses what the actor may not give (the no-escalation rule).

const (
	endingSoonWithin = 7 * 24 * time.Hour
	explainPerPage   = 25
	grantFoundMax    = 10
)

func (s *Server) accessPageData(c echo.Context, memberID int64) (views.VehicleAccessPage, error) {
	ctx, a := c.Request().Context(), actor(c)
	m, err := s.db.MemberAccess(ctx, a, memberID)
	if err != nil {
		return views.VehicleAccessPage{}, err
	}
	base := "/users/" + strconv.FormatInt(memberID, 10) + "/access"
	p := views.VehicleAccessPage{M: m, CanGiveAll: a.VehicleAccess == "all", Today: s.db.Now().In(a.Location()).Format(time.DateOnly), Back: base}
	// Whether to offer the controls; every change asks the db again.
	if a.Can(perm.UsersManage) && !m.IsOwner {
		switch err := s.db.CheckReach(ctx, a, memberID); db.ErrorCode(err) {
		case "":
			if err != nil {
				return p, err
			}
			p.CanEdit = true
		case db.EForbidden:
			p.Refusal = db.SafeMessage(err)
		default:
			return p, err
		}
	}
	if p.CanEdit {
		// Grants widen; a member who already sees beyond the actor's own
		// access can lose grants but not gain them from this actor.
		switch err := s.db.AccessWithin(ctx, a, memberID, m.Name); db.ErrorCode(err) {
		case "":
			if err != nil {
				return p, err
			}
		case db.EForbidden:
			p.GrantRefusal = db.SafeMessage(err)
		default:
			return p, err
		}
	}
	if p.CanEdit && p.GrantRefusal == "" {
		groups, err := s.db.Groups(ctx, a)
		if err != nil {
			return p, err
		}
		for _, g := range groups {
			if g.Level >= db.View {
				p.Groups = append(p.Groups, g)
			}
		}
		p.VQ = clip(c.QueryParam("vq"), 100)
		if p.VQ != "" {
			if p.Found, p.FoundTotal, err = s.db.ListVehicles(ctx, a, db.VehicleFilter{Query: p.VQ, Status: "all", PerPage: grantFoundMax}); err != nil {
				return p, err
			}
		}
	}
	p.EndingSoon = s.db.EndingSoon(m, endingSoonWithin)
	pg := max(1, queryInt(c, "page"))
	var total int
	if p.Explain, total, err = s.db.MemberVehicles(ctx, a, memberID, db.VehicleFilter{Status: "all", Page: pg, PerPage: explainPerPage}); err != nil {
		return p, err
	}
	p.ExplainPager = views.Pager{Page: pg, Pages: pages(total, explainPerPage), Total: total, PerPage: explainPerPage, Base: base}
	return p, nil
}

func (s *Server) accessPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.accessPageData(c, id)
	if err != nil {
		return err
	}
	switch hxTarget(c) {
	case "grant-vehicles":
		p.Shell.CSRF = csrfToken(c)
		return render(c, http.StatusOK, views.GrantVehicles(p))
	case "access-visible":
		return render(c, http.StatusOK, views.AccessExplain(p))
	}
	p.Shell = s.shell(c, "Vehicle access of "+p.M.Name, "/users")
	return render(c, http.StatusOK, views.VehicleAccess(p))
}

// accessDone answers a change of access: back to the editor with a
// message, or the editor again with the refusal (404 stays a 404).
func (s *Server) accessDone(c echo.Context, memberID int64, err error, ok string, form views.AccessGrantForm) error {
	if err == nil {
		s.flash(c, "ok", ok)
		return c.Redirect(http.StatusSeeOther, "/users/"+strconv.FormatInt(memberID, 10)+"/access")
	}
	var e *db.Error
	if !errors.As(err, &e) || e.Code == db.ENotFound {
		return err
	}
	status, handled := formFailure(err, nil, &form.Error)
	if !handled {
		return err
	}
	form.Field = e.Field
	p, perr := s.accessPageData(c, memberID)
	if perr != nil {
		return perr
	}
	p.Form = form
	p.Shell = s.shell(c, "Vehicle access of "+p.M.Name, "/users")
	return render(c, status, views.VehicleAccess(p))
}

func (s *Server) accessMode(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	mode := c.FormValue("mode")
	err = s.db.SetAccessMode(c.Request().Context(), actor(c), id, mode)
	msg := "Access set to all vehicles."
	if mode == "selected" {
		msg = "Access set to selected groups and vehicles."
	}
	return s.accessDone(c, id, err, msg, views.AccessGrantForm{})
}

func (s *Server) accessGrant(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	form := views.AccessGrantForm{Kind: oneOf(c.FormValue("kind"), "vehicle", "group"), Level: c.FormValue("level"), EndsOn: clip(c.FormValue("ends_on"), 20)}
	form.TargetID, _ = strconv.ParseInt(c.FormValue("target_id"), 10, 64)
	in := db.GrantInput{Kind: form.Kind, TargetID: form.TargetID}
	var lvlOK bool
	if in.Level, lvlOK = db.ParseLevel(form.Level); !lvlOK {
		return s.accessDone(c, id, db.FieldError("level", "Choose view or manage."), "", form)
	}
	if form.EndsOn != "" {
		day, err := time.Parse(time.DateOnly, form.EndsOn)
		if err != nil {
			return s.accessDone(c, id, db.FieldError("ends_on", "Enter the last day as a date, e.g. 2026-03-06, or leave it empty."), "", form)
		}
		// The last day ends at midnight in the account's time zone.
		end := db.EndOfDayIn(day, actor(c).Location())
		in.EndsAt = &end
	}
	if in.Kind == "" || in.TargetID <= 0 {
		return s.accessDone(c, id, db.FieldError("target_id", "Choose one of the offered groups or vehicles."), "", form)
	}
	err = s.db.Grant(c.Request().Context(), actor(c), id, in)
	return s.accessDone(c, id, err, "Access saved.", form)
}

func (s *Server) accessRevoke(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	target, _ := strconv.ParseInt(c.FormValue("target_id"), 10, 64)
	err = s.db.Revoke(c.Request().Context(), actor(c), id, oneOf(c.FormValue("kind"), "vehicle", "group"), target)
	return s.accessDone(c, id, err, "Access taken away.", views.AccessGrantForm{})
}
