package handlers

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/password"
	"fleetgate/views"
)

// Password recovery: "Forgot password?" e-mails a single-use link; a member
// with users.manage can have one sent to a member from the member's page.
// The link goes only to the login's own e-mail (or, without SMTP, to the
// server log): nobody else sees or sets another person's password.

// absURL is the absolute address of a path, for links in e-mails.
func (s *Server) absURL(c echo.Context, path string) string {
	base := s.cfg.BaseURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return strings.TrimRight(base, "/") + path
}

func (s *Server) forgotPage(c echo.Context) error {
	if s.needsSetup(c) {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return render(c, http.StatusOK, views.Forgot(views.ForgotForm{CSRF: csrfToken(c), Errors: views.FieldMsgs{}}))
}

// forgot answers the same whether or not the e-mail has a login; the
// e-mail is queued in the outbox (the sender delivers it in the
// background), so the time taken does not tell either.
// Requests are throttled per e-mail and per client address, counted alike
// for known and unknown e-mails.
func (s *Server) forgot(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(clip(c.FormValue("email"), 300))
	f := views.ForgotForm{CSRF: csrfToken(c), Email: email, Errors: views.FieldMsgs{}}
	if m := field.Email(email); m != "" {
		f.Errors["email"] = m
		return render(c, http.StatusUnprocessableEntity, views.Forgot(f))
	}
	// Every request counts, before anything is looked up, in one write with
	// the locks: known and unknown e-mails alike.
	att, err := s.db.Attempt(ctx, db.ThrottleKey{Key: "reset:" + strings.ToLower(email), Rule: db.ResetEmailThrottle},
		db.ThrottleKey{Key: "reset-ip:" + c.RealIP(), Rule: db.ResetIPThrottle})
	if err != nil {
		return err
	}
	if att.Wait > 0 {
		wait := int(math.Ceil(att.Wait.Seconds()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
		f.Error = fmt.Sprintf("Too many requests for a new password. Try again in %s.", waitText(wait))
		return render(c, http.StatusTooManyRequests, views.Forgot(f))
	}
	_, found, err := s.db.RequestPasswordReset(ctx, email, c.RealIP(), s.resetMail(c, ""))
	if err != nil {
		return err
	}
	s.security(c, slog.LevelInfo, "password reset requested", "email", email, "known", found)
	f.Sent = true
	return render(c, http.StatusOK, views.Forgot(f))
}

func waitText(sec int) string {
	if sec < 120 {
		return fmt.Sprintf("%d s", sec)
	}
	return fmt.Sprintf("%d minutes", (sec+59)/60)
}

// openReset finds the reset of a link, or renders the page of one that
// cannot be used (ok false).
func (s *Server) openReset(c echo.Context) (p db.PasswordReset, ok bool, err error) {
	token := c.Param("token")
	if len(token) > 100 {
		token = ""
	}
	p, err = s.db.PasswordResetByToken(c.Request().Context(), token)
	if db.ErrorCode(err) == db.ENotFound {
		return p, false, render(c, http.StatusNotFound, views.Gone(csrfToken(c), "Link not valid", db.SafeMessage(err)))
	}
	if err != nil {
		return p, false, err
	}
	if msg := p.Problem(s.db.Now()); msg != "" {
		return p, false, render(c, http.StatusGone, views.Gone(csrfToken(c), "Link no longer valid", msg))
	}
	return p, true, nil
}

func (s *Server) resetPage(c echo.Context) error {
	p, ok, err := s.openReset(c)
	if !ok {
		return err
	}
	return render(c, http.StatusOK, views.Reset(views.ResetForm{CSRF: csrfToken(c), Token: c.Param("token"), Reset: p, Errors: views.FieldMsgs{}}))
}

// reset sets the new password; every session and API token of the login
// ends, this browser's too, and the person logs in with the new password.
func (s *Server) reset(c echo.Context) error {
	ctx := c.Request().Context()
	p, ok, err := s.openReset(c)
	if !ok {
		return err
	}
	f := views.ResetForm{CSRF: csrfToken(c), Token: c.Param("token"), Reset: p, Errors: views.FieldMsgs{}}
	pw := c.FormValue("password")
	if fld, msg := newPasswordProblem(pw, c.FormValue("password_again"), p.Email); msg != "" {
		f.Errors[fld] = msg
		return render(c, http.StatusUnprocessableEntity, views.Reset(f))
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	userID, sessions, tokens, err := s.db.UsePasswordReset(ctx, c.Param("token"), hash)
	if err != nil {
		if db.ErrorCode(err) == db.EConflict {
			return render(c, http.StatusGone, views.Gone(csrfToken(c), "Link no longer valid", db.SafeMessage(err)))
		}
		return err
	}
	s.security(c, slog.LevelInfo, "password set with a reset link", "user_id", userID, "purpose", p.Purpose,
		"sessions_ended", sessions, "api_tokens_ended", tokens)
	// The owner of the e-mail is back: earlier wrong passwords are forgiven.
	_ = s.db.Succeeded(ctx, db.ThrottleKey{Key: loginKey(p.Email), Rule: db.EmailThrottle})
	s.clearSessionCookie(c)
	s.setCSRFCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?password=set")
}

// memberReset sends a member a password reset e-mail (users.manage, within
// reach). The link goes to the member only; the page says where it went.
func (s *Server) memberReset(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	link, err := s.db.SendMemberReset(c.Request().Context(), a, id, s.resetMail(c, a.Name()+" of "+a.AccountName))
	if err != nil {
		return err
	}
	if s.cfg.SMTP.Enabled() {
		s.flash(c, "ok", "A password reset link is on its way to "+link.Email+" (see Sent e-mails). It works once, for one hour.")
	} else {
		s.flash(c, "ok", "E-mail is not set up: the password reset link for "+link.Email+" is written to the server log.")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/users/%d", id))
}
