package handlers

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/views"
)

// Two-factor sign-in (TOTP). A login with it gives, after its password, a
// code from its authenticator app (or a recovery code) on a second page;
// the pending step is a row on the server, named by a random token in a
// short-lived cookie, and the session exists only after the code. Codes
// are throttled per login like passwords. The setting "require two-factor
// sign-in" of an account leads members of the chosen roles through setup
// before anything else (see authorize).

const pendingCookie = "fleetgate_2fa"

func (s *Server) setPendingCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: pendingCookie, Value: token, Path: "/login", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure(c), MaxAge: int(db.PendingLoginTTL / time.Second)})
}

func (s *Server) clearPendingCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: pendingCookie, Value: "", Path: "/login", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(c)})
}

// pendingLogin is the visitor's pending second step, if any.
func (s *Server) pendingLogin(c echo.Context) (db.PendingLogin, string, bool, error) {
	ck, err := c.Cookie(pendingCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return db.PendingLogin{}, "", false, nil
	}
	p, err := s.db.PendingLoginOf(c.Request().Context(), ck.Value)
	if db.ErrorCode(err) == db.ENotFound {
		return p, "", false, nil
	}
	return p, ck.Value, err == nil, err
}

// checkSecondFactor checks a code (from the app, or a recovery code) of a
// login, throttled like a password: the attempt is counted per login and
// per client address before the code is checked, and a right code takes
// it back. how is "totp" or "recovery" when right.
func (s *Server) checkSecondFactor(c echo.Context, userID int64, code string) (how string, wait int, err error) {
	ctx := c.Request().Context()
	key := db.ThrottleKey{Key: "totp:" + strconv.FormatInt(userID, 10), Rule: db.EmailThrottle}
	ipKey := db.ThrottleKey{Key: "ip:" + c.RealIP(), Rule: db.IPThrottle}
	att, err := s.db.Attempt(ctx, key, ipKey)
	if err != nil {
		return "", 0, err
	}
	if left := att.Wait; left > 0 {
		wait = int(math.Ceil(left.Seconds()))
		c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
		s.security(c, slog.LevelWarn, "two-factor code refused: locked", "user_id", userID, "key", att.LockedKey, "retry_after_s", wait)
		s.recordSignIn(c, userID, 0, "code_locked")
		return "", wait, nil
	}
	how, err = s.db.SecondFactor(ctx, userID, code)
	if err != nil {
		return "", 0, err
	}
	if how == "" {
		s.security(c, slog.LevelWarn, "two-factor code wrong", "user_id", userID)
		for _, k := range att.Locks {
			s.security(c, slog.LevelWarn, "two-factor locked after repeated failures", "key", k.Key, "for", k.For.Round(time.Second))
		}
		s.recordSignIn(c, userID, 0, "wrong_code")
		return "", 0, nil
	}
	if err := s.db.Succeeded(ctx, key, ipKey); err != nil {
		return "", 0, err
	}
	return how, 0, nil
}

func (s *Server) loginCodePage(c echo.Context) error {
	if actor(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	_, _, ok, err := s.pendingLogin(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return render(c, http.StatusOK, views.LoginCode(views.LoginCodeForm{CSRF: csrfToken(c)}))
}

func (s *Server) loginCode(c echo.Context) error {
	p, token, ok, err := s.pendingLogin(c)
	if err != nil {
		return err
	}
	if !ok {
		s.clearPendingCookie(c)
		return render(c, http.StatusUnauthorized, views.Login(views.LoginForm{CSRF: csrfToken(c),
			Error: "Your sign-in took too long. Enter your e-mail and password again."}))
	}
	f := views.LoginCodeForm{CSRF: csrfToken(c)}
	code := c.FormValue("code")
	if code == "" {
		f.Error = "Enter the code from your app, or a recovery code."
		return render(c, http.StatusUnprocessableEntity, views.LoginCode(f))
	}
	how, wait, err := s.checkSecondFactor(c, p.UserID, code)
	switch {
	case err != nil:
		return err
	case wait > 0:
		f.Error = fmt.Sprintf("Too many wrong codes. Try again in %d s.", wait)
		return render(c, http.StatusTooManyRequests, views.LoginCode(f))
	case how == "":
		f.Error = "This code is not right, or was used already. Enter the code your app shows now, or a recovery code."
		return render(c, http.StatusUnauthorized, views.LoginCode(f))
	}
	if err := s.db.EndPendingLogin(c.Request().Context(), token); err != nil {
		return err
	}
	s.clearPendingCookie(c)
	if how == "recovery" {
		tf, err := s.db.TwoFactorOf(c.Request().Context(), p.UserID)
		if err != nil {
			return err
		}
		s.flash(c, "ok", fmt.Sprintf("You signed in with a recovery code; it no longer works. %d recovery codes are left.", tf.RecoveryLeft))
	}
	return s.startSession(c, p.UserID, p.MemberID, p.Next)
}

// The two-factor page of My profile.

func (s *Server) twoFactorView(c echo.Context) (views.TwoFactorPage, error) {
	ctx := c.Request().Context()
	a := me(c)
	tf, err := s.db.TwoFactorOf(ctx, a.UserID)
	if err != nil {
		return views.TwoFactorPage{}, err
	}
	must, err := s.db.MustSetUpTwoFactor(ctx, a)
	if err != nil {
		return views.TwoFactorPage{}, err
	}
	return views.TwoFactorPage{Shell: s.shell(c, "Two-factor sign-in", "/profile"), Email: a.Email, State: tf,
		Errors: views.FieldMsgs{}, Required: must, Previewing: actor(c).PreviewBy != nil}, nil
}

func (s *Server) twoFactorPage(c echo.Context) error {
	p, err := s.twoFactorView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.TwoFactor(p))
}

// checkCurrentPassword checks the actor's password for a change of their
// own login, with the login form's throttling; it puts a message in errs
// and answers the status to render with (0: right).
func (s *Server) checkCurrentPassword(c echo.Context, what, pw string, errs views.FieldMsgs) (int, error) {
	if pw == "" {
		errs["current_password"] = "Enter your current password."
		return http.StatusUnprocessableEntity, nil
	}
	_, wait, ok, err := s.checkLogin(c, what, me(c).Email, pw)
	switch {
	case err != nil:
		return 0, err
	case wait > 0:
		errs["current_password"] = fmt.Sprintf("Too many wrong passwords. Try again in %d s.", wait)
		return http.StatusTooManyRequests, nil
	case !ok:
		errs["current_password"] = "This is not your current password."
		return http.StatusUnprocessableEntity, nil
	}
	return 0, nil
}

// twoFactorSetup checks the password and makes a new secret, shown with
// the form for its first code.
func (s *Server) twoFactorSetup(c echo.Context) error {
	p, err := s.twoFactorView(c)
	if err != nil {
		return err
	}
	if p.State.Enabled {
		return c.Redirect(http.StatusSeeOther, "/profile/two-factor")
	}
	if status, err := s.checkCurrentPassword(c, "two-factor setup: current password check", c.FormValue("current_password"), p.Errors); err != nil || status != 0 {
		if err != nil {
			return err
		}
		return render(c, status, views.TwoFactor(p))
	}
	setup, err := s.db.BeginTwoFactor(c.Request().Context(), me(c))
	if err != nil {
		return err
	}
	p.Setup = &setup
	return render(c, http.StatusOK, views.TwoFactor(p))
}

// twoFactorConfirm turns two-factor sign-in on with the first code and
// shows the recovery codes, once.
func (s *Server) twoFactorConfirm(c echo.Context) error {
	ctx := c.Request().Context()
	a := me(c)
	p, err := s.twoFactorView(c)
	if err != nil {
		return err
	}
	codes, err := s.db.ConfirmTwoFactor(ctx, a, clip(c.FormValue("code"), 20))
	if err != nil {
		if db.ErrorCode(err) != db.EInvalid {
			return err
		}
		status, _ := formFieldFailure(err, p.Errors)
		setup, serr := s.db.PendingTwoFactor(ctx, a)
		if serr != nil {
			return serr
		}
		p.Setup = &setup
		return render(c, status, views.TwoFactor(p))
	}
	s.security(c, slog.LevelInfo, "two-factor sign-in turned on", "member_id", a.MemberID, "user_id", a.UserID)
	p.Codes, p.Required = codes, false
	if p.State, err = s.db.TwoFactorOf(ctx, a.UserID); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.TwoFactor(p))
}

// twoFactorRemove turns two-factor sign-in off with the password and a
// current code (or a recovery code).
func (s *Server) twoFactorRemove(c echo.Context) error {
	a := me(c)
	p, err := s.twoFactorView(c)
	if err != nil {
		return err
	}
	if !p.State.Enabled {
		return c.Redirect(http.StatusSeeOther, "/profile/two-factor")
	}
	status, err := s.checkCurrentPassword(c, "two-factor removal: current password check", c.FormValue("current_password"), p.Errors)
	if err != nil {
		return err
	}
	code := clip(c.FormValue("code"), 40)
	if code == "" {
		p.Errors["code"] = "Enter a code from your app, or a recovery code."
		status = http.StatusUnprocessableEntity
	}
	if status != 0 {
		return render(c, status, views.TwoFactor(p))
	}
	if err := s.db.DisableTwoFactor(c.Request().Context(), a, code); err != nil {
		if st, ok := formFieldFailure(err, p.Errors); ok {
			return render(c, st, views.TwoFactor(p))
		}
		return err
	}
	s.security(c, slog.LevelInfo, "two-factor sign-in turned off", "member_id", a.MemberID, "user_id", a.UserID)
	s.flash(c, "ok", "Two-factor sign-in is off. Your recovery codes no longer work.")
	return c.Redirect(http.StatusSeeOther, "/profile")
}

// twoFactorSetupPaths are all a member who must set up two-factor sign-in
// may reach until it is done (besides public pages).
var twoFactorSetupPaths = map[string]bool{
	"GET /profile/two-factor":          true,
	"POST /profile/two-factor/setup":   true,
	"POST /profile/two-factor/confirm": true,
	"POST /logout":                     true,
}

// toTwoFactorSetup sends a member who must set up two-factor sign-in to
// its page, whatever they asked for.
func (s *Server) toTwoFactorSetup(c echo.Context) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", "/profile/two-factor")
		return c.NoContent(http.StatusForbidden)
	}
	return c.Redirect(http.StatusSeeOther, "/profile/two-factor")
}

// The account setting (account.settings): roles that require it.

func (s *Server) twoFactorPolicyForm(c echo.Context) (views.TwoFactorPolicyForm, error) {
	roles, version, err := s.db.TwoFactorPolicy(c.Request().Context(), actor(c))
	return views.TwoFactorPolicyForm{CSRF: csrfToken(c), Roles: roles, Version: version}, err
}

func (s *Server) twoFactorSettingsPage(c echo.Context) error {
	f, err := s.twoFactorPolicyForm(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.TwoFactorSettings(s.shell(c, "Two-factor sign-in for the account", "/settings"), f))
}

func (s *Server) twoFactorSettingsSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range form["role"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || len(ids) > 200 {
			return &db.Error{Code: db.EInvalid, Field: "roles", Message: "Choose among the roles listed."}
		}
		ids = append(ids, id)
	}
	version, _ := strconv.Atoi(c.FormValue("version"))
	err = s.db.SaveTwoFactorPolicy(c.Request().Context(), actor(c), ids, version)
	if err != nil {
		f, ferr := s.twoFactorPolicyForm(c)
		if ferr != nil {
			return ferr
		}
		var whole string
		status, ok := formFailure(err, nil, &whole)
		if !ok {
			return err
		}
		f.Error = whole
		if status == http.StatusConflict {
			// The current setting is shown; what was chosen is kept where it differs.
			chosen := map[int64]bool{}
			for _, id := range ids {
				chosen[id] = true
			}
			for i := range f.Roles {
				f.Roles[i].Required = chosen[f.Roles[i].ID]
			}
		}
		return render(c, status, views.TwoFactorSettings(s.shell(c, "Two-factor sign-in for the account", "/settings"), f))
	}
	s.flash(c, "ok", "Saved which roles must use two-factor sign-in.")
	return c.Redirect(http.StatusSeeOther, "/settings#two-factor-policy")
}
