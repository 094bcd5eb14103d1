package handlers

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/password"
	"fleetgate/views"
)

// The one message for a wrong e-mail or a wrong password: which of the two
// was wrong is never said, so the login form cannot tell who has a login.
const badLogin = "The e-mail or password is not correct."

func (s *Server) loginPage(c echo.Context) error {
	if actor(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if s.needsSetup(c) {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	f := views.LoginForm{CSRF: csrfToken(c), Next: safeNext(c.QueryParam("next"))}
	switch {
	case c.QueryParam("bye") == "1":
		f.Notice = "You are logged out."
	case c.QueryParam("password") == "set":
		f.Notice = "Your password is saved. Log in with it."
	}
	return render(c, http.StatusOK, views.Login(f))
}

// checkLogin is the one password check of the console and the API: the
// login form, API token creation, joining by invitation with an existing
// login and the password change all go through it. The attempt is counted
// (per e-mail and per client address) before the password is checked, in
// one transaction with the lock check, so parallel guesses are throttled
// like sequential ones. While a key is locked it answers how many seconds
// are left (and sets Retry-After). An unknown e-mail costs the same work
// as a wrong password; a right password takes its attempt back.
func (s *Server) checkLogin(c echo.Context, what, email, pw string) (u db.LoginUser, wait int, ok bool, err error) {
	ctx := c.Request().Context()
	emailKey := db.ThrottleKey{Key: loginKey(email), Rule: db.EmailThrottle}
	ipKey := db.ThrottleKey{Key: "ip:" + c.RealIP(), Rule: db.IPThrottle}
	att, err := s.db.Attempt(ctx, emailKey, ipKey)
	if err != nil {
		return u, 0, false, err
	}
	if left := att.Wait; left > 0 {
		wait = int(math.Ceil(left.Seconds()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
		s.security(c, slog.LevelWarn, what+" refused: locked", "email", email, "key", att.LockedKey, "retry_after_s", wait)
		if u, found, err := s.db.UserForLogin(ctx, email); err == nil && found {
			s.recordSignIn(c, u.ID, 0, "locked")
		}
		return u, wait, false, nil
	}
	u, found, err := s.db.UserForLogin(ctx, email)
	if err != nil {
		return u, 0, false, err
	}
	if found && len(pw) <= password.MaxLength {
		ok = password.Check(pw, u.PasswordHash)
	} else {
		password.CheckNobody(pw)
	}
	if ok {
		if err := s.db.Succeeded(ctx, emailKey, ipKey); err != nil {
			return u, 0, false, err
		}
	} else {
		s.security(c, slog.LevelWarn, what+" failed", "email", email)
		for _, k := range att.Locks {
			s.security(c, slog.LevelWarn, "login locked after repeated failures", "key", k.Key, "for", k.For.Round(time.Second))
		}
		if found {
			s.recordSignIn(c, u.ID, 0, "wrong_password")
		}
	}
	return u, 0, ok, nil
}

// recordSignIn keeps an attempt in the login's sign-in history (and a
// success in the account's audit log). A failure to record is logged, not
// shown: it must not lock people out.
func (s *Server) recordSignIn(c echo.Context, userID, memberID int64, outcome string) {
	channel := "web"
	if isAPI(c) {
		channel = "api"
	}
	if err := s.db.RecordSignIn(c.Request().Context(), db.SignInAttempt{UserID: userID, MemberID: memberID,
		IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Channel: channel, Outcome: outcome}); err != nil {
		s.log.Error("record sign-in", "err", err)
	}
}

// loginKey is the throttling key of an e-mail.
func loginKey(email string) string { return "email:" + strings.ToLower(email) }

func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(c.FormValue("email"))
	pw := c.FormValue("password")
	f := views.LoginForm{CSRF: csrfToken(c), Email: email, Next: safeNext(c.FormValue("next"))}
	if len(email) > 254 || len(pw) > 200 || email == "" || pw == "" {
		f.Error = badLogin
		if email == "" || pw == "" {
			f.Error = "Enter your e-mail and password."
		}
		if len(email) > 254 {
			f.Email = ""
		}
		return render(c, http.StatusUnprocessableEntity, views.Login(f))
	}
	u, wait, ok, err := s.checkLogin(c, "login", email, pw)
	switch {
	case err != nil:
		return err
	case wait > 0:
		f.Error = fmt.Sprintf("Too many failed attempts. Try again in %d s.", wait)
		return render(c, http.StatusTooManyRequests, views.Login(f))
	case !ok:
		f.Error = badLogin
		return render(c, http.StatusUnauthorized, views.Login(f))
	}
	// The password is right: from here on, messages may be specific.
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	var chosen *db.Membership
	for i := range ms {
		if ms[i].WebUsable() {
			chosen = &ms[i]
			break
		}
	}
	if chosen == nil {
		s.recordSignIn(c, u.ID, 0, "refused")
		f.Error = refusalMessage(ms)
		return render(c, http.StatusForbidden, views.Login(f))
	}
	token, err := s.db.CreateSession(ctx, u.ID, chosen.MemberID, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	s.recordSignIn(c, u.ID, chosen.MemberID, "ok")
	s.security(c, slog.LevelInfo, "login", "member_id", chosen.MemberID, "user_id", u.ID)
	dest := f.Next
	if dest == "" {
		dest = "/"
	}
	return c.Redirect(http.StatusSeeOther, dest)
}

// refusalMessage explains why a correct password still does not open the
// web console.
func refusalMessage(ms []db.Membership) string {
	if len(ms) == 0 {
		return "Your login no longer belongs to any account. Ask the account's Owner to add you again."
	}
	m := ms[0]
	switch db.WebRefusal(m.Status, m.Channel, m.Builtin) {
	case "deactivated":
		return fmt.Sprintf("Your access to %s has been deactivated. Ask its Owner or an Admin to reactivate you.", m.AccountName)
	case "notifications":
		return fmt.Sprintf("Your role in %s (Notifications only) receives e-mails but cannot log in.", m.AccountName)
	case "mobile":
		return fmt.Sprintf("Your access to %s is for the mobile app only. Ask an Admin for web access.", m.AccountName)
	default:
		return fmt.Sprintf("Your invitation to %s has not been accepted yet. Use the link in the invitation e-mail.", m.AccountName)
	}
}

func (s *Server) logout(c echo.Context) error {
	if err := s.db.EndSession(c.Request().Context(), sessionToken(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	s.setCSRFCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?bye=1")
}

func (s *Server) setSessionCookie(c echo.Context, token string) {
	sess, _ := s.cookies.New(c.Request(), sessionCookie)
	sess.Values["t"] = token
	sess.Options.Secure = s.secure(c)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.log.Error("save session cookie", "err", err)
	}
	s.setCSRFCookieTo(c, s.sessionCSRF(token)) // the new session's token
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c)})
}

// safeNext keeps only same-site paths as a place to go after login.
// Control characters are refused: browsers drop tabs and line breaks from
// a Location, which would turn "/\t/evil.example" into "//evil.example".
func safeNext(next string) string {
	if len(next) > 500 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") || strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return ""
	}
	return next
}

func (s *Server) switchAccount(c echo.Context) error {
	a := actor(c)
	real := a
	if a.PreviewBy != nil {
		real = a.PreviewBy
	}
	id, err := formID(c, "member_id")
	if err != nil {
		return err
	}
	ms, err := s.db.Memberships(c.Request().Context(), real.UserID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.MemberID == id && m.WebUsable() {
			if err := s.db.SwitchAccount(c.Request().Context(), sessionToken(c), real.UserID, id); err != nil {
				return err
			}
			s.flash(c, "ok", "You are now working in "+m.AccountName+".")
			return c.Redirect(http.StatusSeeOther, "/")
		}
	}
	return &db.Error{Code: db.ENotFound, Message: "Account not found."}
}
