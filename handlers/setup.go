package handlers

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/password"
	"fleetgate/views"
)

// First start: while no account exists, the login page and home lead to
// /setup, which creates the first account and its Owner with the one-time
// code the server printed at start. Once an account exists /setup is not
// found.

// prepareSetup makes the setup code when the database has no account and
// writes it to the log; the command line prints it too (SetupCode).
func (s *Server) prepareSetup(ctx context.Context) error {
	has, err := s.db.HasAccount(ctx)
	if err != nil {
		return err
	}
	if has {
		s.setupDone.Store(true)
		return nil
	}
	if s.setupCode, err = s.db.NewSetupCode(ctx); err != nil {
		return err
	}
	s.log.Warn("first start: no account yet; open /setup and enter the setup code", "code", s.setupCode)
	return nil
}

// SetupCode is the one-time setup code made at start ("" when the database
// already had an account).
func (s *Server) SetupCode() string { return s.setupCode }

// needsSetup reports whether no account exists yet.
func (s *Server) needsSetup(c echo.Context) bool {
	if s.setupDone.Load() {
		return false
	}
	has, err := s.db.HasAccount(c.Request().Context())
	if err != nil || has {
		s.setupDone.Store(has)
		return false
	}
	return true
}

func (s *Server) setupPage(c echo.Context) error {
	if !s.needsSetup(c) {
		return db.ErrSetupDone
	}
	return render(c, http.StatusOK, views.Setup(views.SetupForm{CSRF: csrfToken(c), Errors: views.FieldMsgs{}}))
}

const setupKey = "setup"

func (s *Server) setup(c echo.Context) error {
	ctx := c.Request().Context()
	if !s.needsSetup(c) {
		return db.ErrSetupDone
	}
	f := views.SetupForm{CSRF: csrfToken(c), Errors: views.FieldMsgs{},
		AccountName: strings.TrimSpace(clip(c.FormValue("account_name"), 200)),
		FirstName:   strings.TrimSpace(clip(c.FormValue("first_name"), 200)),
		LastName:    strings.TrimSpace(clip(c.FormValue("last_name"), 200)),
		Email:       strings.TrimSpace(clip(c.FormValue("email"), 300))}
	code, pw := clip(c.FormValue("code"), 100), c.FormValue("password")
	if strings.TrimSpace(code) == "" {
		f.Errors["code"] = "Enter the setup code from the server's log."
	}
	switch {
	case f.AccountName == "":
		f.Errors["account_name"] = "Enter the account's name, e.g. your company."
	case len([]rune(f.AccountName)) > 100:
		f.Errors["account_name"] = "Use at most 100 characters."
	case !field.Clean(f.AccountName):
		f.Errors["account_name"] = "Use letters, digits, spaces and punctuation only."
	}
	if m := field.Name(f.FirstName, "first name"); m != "" {
		f.Errors["first_name"] = m
	}
	if m := field.Name(f.LastName, "last name"); m != "" {
		f.Errors["last_name"] = m
	}
	if m := field.Email(f.Email); m != "" {
		f.Errors["email"] = m
	}
	if fld, msg := newPasswordProblem(pw, c.FormValue("password_again"), f.Email); msg != "" {
		f.Errors[fld] = msg
	}
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.Setup(f))
	}
	// Tries of the code are throttled for everyone (the code is the only
	// lock), each counted before it is checked.
	key := db.ThrottleKey{Key: setupKey, Rule: db.SetupThrottle}
	att, err := s.db.Attempt(ctx, key)
	if err != nil {
		return err
	}
	if att.Wait > 0 {
		wait := int(math.Ceil(att.Wait.Seconds()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
		f.Errors["code"] = fmt.Sprintf("Too many wrong setup codes. Try again in %d s.", wait)
		return render(c, http.StatusTooManyRequests, views.Setup(f))
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	done, err := s.db.SetupFirstAccount(ctx, db.FirstAccount{Code: code, AccountName: f.AccountName, FirstName: f.FirstName,
		LastName: f.LastName, Email: f.Email, PasswordHash: hash})
	if status, ok := formFieldFailure(err, f.Errors); ok {
		return render(c, status, views.Setup(f))
	}
	if err != nil {
		return err
	}
	s.setupDone.Store(true)
	_ = s.db.Succeeded(ctx, key)
	s.log.Info("first account created", "account", done.AccountName, "owner", f.Email)
	if old := sessionToken(c); old != "" {
		_ = s.db.EndSession(ctx, old)
	}
	session, err := s.db.CreateSession(ctx, done.UserID, done.MemberID, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, session)
	s.recordSignIn(c, done.UserID, done.MemberID, "ok")
	s.flash(c, "ok", "Welcome to "+done.AccountName+". You are its Owner: invite the people who work with you from Users.")
	owner, err := s.db.ActorByMember(ctx, done.MemberID)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, homeOf(owner))
}
