package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/password"
	"fleetgate/views"
)

// Adding a person directly, with an initial password, for teams that do
// not use e-mail.

func (s *Server) addMemberPage(c echo.Context) error {
	g, err := s.grantForm(c, 0, "web", "selected")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AddMember(views.AddMemberForm{Shell: s.shell(c, "Add a person", "/users"), Grant: g, Errors: views.FieldMsgs{}}))
}

func (s *Server) addMember(c echo.Context) error {
	ctx := c.Request().Context()
	errs := views.FieldMsgs{}
	f := views.AddMemberForm{
		FirstName: clip(c.FormValue("first_name"), 200),
		LastName:  clip(c.FormValue("last_name"), 200),
		Phone:     clip(c.FormValue("phone"), 100),
		Email:     clip(c.FormValue("email"), 300),
		Errors:    errs,
	}
	pw := c.FormValue("password")
	g := readGrant(c, errs)
	reject := func(status int) error {
		form, err := s.grantForm(c, g.RoleID, g.Channel, g.Access)
		if err != nil {
			return err
		}
		f.Grant, f.Shell = form, s.shell(c, "Add a person", "/users")
		return render(c, status, views.AddMember(f))
	}
	np := db.NewPerson{FirstName: f.FirstName, LastName: f.LastName, Phone: f.Phone,
		Email: f.Email, RoleID: g.RoleID, Channel: g.Channel, VehicleAccess: g.Access, Grants: readGroupGrants(c)}
	for k, m := range np.Validate() {
		errs.Add(k, m)
	}
	// The password matters only for a new login: an e-mail that already has
	// one joins with its own password.
	if errs["email"] == "" {
		_, found, err := s.db.UserForLogin(ctx, f.Email)
		if err != nil {
			return err
		}
		if !found {
			errs.Add("password", field.Password(pw, f.Email))
		}
		if !found && len(errs) == 0 {
			if np.PasswordHash, err = password.Hash(pw); err != nil {
				return err
			}
		}
	}
	if len(errs) > 0 {
		return reject(http.StatusUnprocessableEntity)
	}
	added, err := s.db.AddPerson(ctx, actor(c), np)
	if status, ok := formFieldFailure(err, errs); ok {
		return reject(status)
	}
	if err != nil {
		return err
	}
	if added.ExistingLogin {
		s.flash(c, "ok", f.Email+" already had a Fleetgate login: it was added to the account and keeps its own password and name. The password you typed was not used.")
	} else {
		s.flash(c, "ok", f.FirstName+" "+f.LastName+" was added. Tell them their initial password; they can change it under My profile.")
	}
	return c.Redirect(http.StatusSeeOther, "/users")
}
