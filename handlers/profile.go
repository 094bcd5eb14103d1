package handlers

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/password"
	"fleetgate/views"
)

// "My profile": one's own name, phone, password and sessions. Every route
// here acts on the login of the session, so they need only a session.
// While previewing, the middleware refuses the changes; the page then
// shows the real person's own profile, never the previewed member's.

func me(c echo.Context) *db.Actor {
	a := actor(c)
	if a.PreviewBy != nil {
		return a.PreviewBy
	}
	return a
}

func (s *Server) profileView(c echo.Context) (views.ProfilePage, error) {
	ctx := c.Request().Context()
	a := me(c)
	p, err := s.db.Profile(ctx, a)
	if err != nil {
		return views.ProfilePage{}, err
	}
	sessions, err := s.db.Sessions(ctx, a.UserID, sessionToken(c))
	if err != nil {
		return views.ProfilePage{}, err
	}
	signIns, err := s.db.OwnSignIns(ctx, a, 20)
	if err != nil {
		return views.ProfilePage{}, err
	}
	tf, err := s.db.TwoFactorOf(ctx, a.UserID)
	if err != nil {
		return views.ProfilePage{}, err
	}
	tokens, err := s.db.OwnTokens(ctx, a)
	if err != nil {
		return views.ProfilePage{}, err
	}
	prefs, err := s.db.MailPreferences(ctx, a)
	if err != nil {
		return views.ProfilePage{}, err
	}
	return views.ProfilePage{Shell: s.shell(c, "My profile", "/profile"), MailPrefs: prefs, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName,
		Phone: p.Phone, Errors: views.FieldMsgs{}, PwErrors: views.FieldMsgs{}, Sessions: sessions, SignIns: signIns,
		TwoFactor: tf, Tokens: tokens, TokenForm: views.TokenForm{Days: db.DefaultTokenDays, Errors: views.FieldMsgs{}},
		Previewing: actor(c).PreviewBy != nil}, nil
}

func (s *Server) profilePage(c echo.Context) error {
	p, err := s.profileView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Profile(p))
}

func (s *Server) profileSave(c echo.Context) error {
	p, err := s.profileView(c)
	if err != nil {
		return err
	}
	p.FirstName, p.LastName, p.Phone = clip(c.FormValue("first_name"), 200), clip(c.FormValue("last_name"), 200), clip(c.FormValue("phone"), 100)
	for k, m := range (db.ProfileEdit{FirstName: p.FirstName, LastName: p.LastName, Phone: p.Phone}).Validate() {
		p.Errors.Add(k, m)
	}
	if len(p.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.Profile(p))
	}
	if err := s.db.UpdateProfile(c.Request().Context(), me(c), p.FirstName, p.LastName, p.Phone); err != nil {
		return err
	}
	s.flash(c, "ok", "Your name and phone were saved.")
	return c.Redirect(http.StatusSeeOther, "/profile")
}

// profilePassword changes one's password after checking the current one
// (throttled like the login form). Other sessions end; this one stays.
func (s *Server) profilePassword(c echo.Context) error {
	ctx := c.Request().Context()
	a := me(c)
	p, err := s.profileView(c)
	if err != nil {
		return err
	}
	current, next, again := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("new_password_again")
	if current == "" {
		p.PwErrors["current_password"] = "Enter your current password."
	} else {
		_, wait, ok, err := s.checkLogin(c, "password change: current password check", a.Email, current)
		switch {
		case err != nil:
			return err
		case wait > 0:
			p.PwErrors["current_password"] = fmt.Sprintf("Too many wrong passwords. Try again in %d s.", wait)
			return render(c, http.StatusTooManyRequests, views.Profile(p))
		case !ok:
			p.PwErrors["current_password"] = "This is not your current password."
		}
	}
	if m := field.Password(next, a.Email); m != "" {
		p.PwErrors["new_password"] = m
	} else if m := field.PasswordAgain(next, again); m != "" {
		p.PwErrors["new_password_again"] = m
	} else if next == current {
		p.PwErrors["new_password"] = "Choose a password different from the current one."
	}
	if len(p.PwErrors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.Profile(p))
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	ended, err := s.db.ChangePassword(ctx, a, hash, sessionToken(c))
	if err != nil {
		return err
	}
	s.security(c, slog.LevelInfo, "password changed", "member_id", a.MemberID, "user_id", a.UserID, "other_sessions_ended", ended)
	msg := "Your password was changed."
	switch ended {
	case 0:
	case 1:
		msg += " Your one other session was ended."
	default:
		msg += fmt.Sprintf(" Your %d other sessions were ended.", ended)
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, "/profile")
}

func (s *Server) profileEndSession(c echo.Context) error {
	ref := c.FormValue("ref")
	if len(ref) > 20 {
		ref = ""
	}
	if err := s.db.EndOwnSession(c.Request().Context(), me(c), ref); err != nil {
		return err
	}
	s.flash(c, "ok", "The session was ended.")
	return c.Redirect(http.StatusSeeOther, "/profile")
}

// profileEndAll is "log out everywhere": every session of the login ends,
// this one included.
func (s *Server) profileEndAll(c echo.Context) error {
	if _, err := s.db.EndAllOwnSessions(c.Request().Context(), me(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	s.setCSRFCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?bye=1")
}
