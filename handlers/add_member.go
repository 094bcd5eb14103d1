package handlers

import (
	"errors"
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
	// The password is checked whatever the e-mail: whether it already has
	// a login is not for the adder to learn.
	errs.Add("password", field.Password(pw, f.Email))
	if len(errs) > 0 {
		return reject(http.StatusUnprocessableEntity)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	np.PasswordHash = hash
	_, err = s.db.AddPerson(ctx, actor(c), np)
	if errors.Is(err, db.ErrLoginExists) {
		// An existing login joins only with its holder's consent: it gets
		// an invitation (e-mailed, or written to the server log), and the
		// adder reads the same message as for a new login.
		_, _, err = s.db.CreateInvitation(ctx, actor(c), db.NewInvitation{Email: f.Email, RoleID: g.RoleID,
			Channel: g.Channel, VehicleAccess: g.Access, Grants: np.Grants, TTL: s.inviteTTL(c), Mail: s.invitationMail(c)})
	}
	if status, ok := formFieldFailure(err, errs); ok {
		return reject(status)
	}
	if err != nil {
		return err
	}
	s.flash(c, "ok", addedMessage(f.FirstName+" "+f.LastName, f.Email))
	return c.Redirect(http.StatusSeeOther, "/users")
}

// addedMessage is the one answer to adding a person, whether or not their
// e-mail already had a login (which it must not reveal).
func addedMessage(name, email string) string {
	return name + " was added. Tell them their initial password. If " + email +
		" already has a Fleetgate login, that login keeps its own password and joins once its holder accepts the invitation sent to that address."
}
