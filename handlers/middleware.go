package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const (
	sessionCookie = "fleetgate_session"
	csrfCookie    = "fleetgate_csrf"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "_csrf"
)

// securityHeaders sets the headers every answer carries. The policy allows
// no inline script and no framing; pages are never cached.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if s.cfg.HSTS {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
			h.Add("Vary", "HX-Request")
		}
		return next(c)
	}
}

// loadSession reads the session cookie and loads the actor from the
// session row: the database, not the cookie, says who is logged in.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isAPI(c) {
			// The API knows bearer tokens only; cookies mean nothing there.
			if token := bearer(c); token != "" {
				a, err := s.db.TokenActor(c.Request().Context(), token)
				switch {
				case err == nil:
					setActor(c, a)
				case db.ErrorCode(err) != db.ENotFound:
					return err
				}
			}
			return next(c)
		}
		sess, _ := s.cookies.Get(c.Request(), sessionCookie)
		token, _ := sess.Values["t"].(string)
		if token != "" {
			a, err := s.db.SessionActor(c.Request().Context(), token)
			switch {
			case err == nil:
				setActor(c, a)
				c.Set(ctxToken, token)
			case db.ErrorCode(err) == db.ENotFound:
				s.clearSessionCookie(c)
			default:
				return err
			}
		}
		return next(c)
	}
}

// setActor makes a the request's actor and puts the account's time zone
// and distance unit where every view formats dates and distances.
func setActor(c echo.Context, a *db.Actor) {
	c.Set(ctxActor, a)
	r := c.Request()
	c.SetRequest(r.WithContext(views.WithLocale(r.Context(), a.Location(), a.DistanceUnit)))
}

// csrf puts a token in each page (a hidden field and the header htmx
// sends) and refuses any state-changing request that does not send it
// back. With a session the token is derived from the session (an HMAC of
// its id under a server key): it changes with each login and cannot be
// planted by whoever sets a cookie. Before login it is a random token in
// a cookie of its own.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isAPI(c) {
			return next(c) // bearer tokens are not sent by browsers on their own
		}
		token := ""
		if st := sessionToken(c); st != "" {
			token = s.sessionCSRF(st)
		} else if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
			token = ck.Value
		} else {
			token = s.setCSRFCookie(c)
		}
		c.Set(ctxCSRF, token)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if csrfExempt(c) {
			return next(c)
		}
		// A body that cannot be read as a form is the sender's mistake
		// (400), whether or not the token came in the header.
		if _, err := c.FormParams(); err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
		}
		sent := c.Request().Header.Get(csrfHeader)
		if sent == "" {
			sent = c.FormValue(csrfField)
		}
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return &db.Error{Code: db.EForbidden, Message: "This form has expired or came from another site. Reload the page and try again."}
		}
		return next(c)
	}
}

// sessionCSRF is the CSRF token of a session.
func (s *Server) sessionCSRF(sessionToken string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setCSRFCookie gives the browser a new random token (before login and
// after logout).
func (s *Server) setCSRFCookie(c echo.Context) string {
	return s.setCSRFCookieTo(c, db.NewToken())
}

// setCSRFCookieTo stores token in the CSRF cookie; at login it is the new
// session's token, so that scripts and tests reading the cookie agree
// with the pages.
func (s *Server) setCSRFCookieTo(c echo.Context, token string) string {
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(c)})
	c.Set(ctxCSRF, token)
	return token
}

func (s *Server) secure(c echo.Context) bool { return s.cfg.SecureCookies || c.IsTLS() }

// authorize is the policy check of one route: the only place where a
// request is allowed or refused for want of a session or a permission.
func (s *Server) authorize(need Need) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if need.kind == needPublic {
				return next(c)
			}
			a := actor(c)
			if a == nil {
				return s.toLogin(c)
			}
			if a.PreviewBy != nil && !safeMethod(c) && !previewExempt[c.Path()] {
				return &db.Error{Code: db.EForbidden, Message: "You are previewing the console as " + a.Name() + ": nothing can be changed. Exit the preview first."}
			}
			if a.Token != nil && a.Token.ReadOnly && !safeMethod(c) {
				// A read-only token reads, whatever its member may do; it
				// is revoked on My profile.
				return &db.Error{Code: db.EForbidden, Message: "This API token is read-only: it may read (GET) but not change anything. Use a token without the read-only flag."}
			}
			if a.Token == nil {
				// A member whose role requires two-factor sign-in and who
				// has none sees only its setup until it is done.
				real := a
				if a.PreviewBy != nil {
					real = a.PreviewBy
				}
				if !twoFactorSetupPaths[c.Request().Method+" "+c.Path()] {
					// Read with the session's actor on this request.
					must, known := real.TwoFactorDueAtLoad()
					if !known {
						var err error
						if must, err = s.db.MustSetUpTwoFactor(c.Request().Context(), real); err != nil {
							return err
						}
					}
					if must {
						return s.toTwoFactorSetup(c)
					}
				}
			}
			if need.kind == needPerm && !a.Can(need.perm) {
				return deniedError(need.perm)
			}
			if need.kind == needEither && !a.Can(need.perm) && !a.Can(need.alt) {
				return deniedErr{text: fmt.Sprintf("You need '%s' or '%s' — ask your account Owner or an Admin.", perm.Label(need.perm), perm.Label(need.alt))}
			}
			if need.kind == needBoth {
				for _, k := range []perm.Key{need.perm, need.alt} {
					if !a.Can(k) {
						return deniedError(k)
					}
				}
			}
			if need.kind == needOwner && (!a.IsOwner() || a.PreviewBy != nil) {
				return deniedErr{text: "Only the account Owner can do this."}
			}
			if !safeMethod(c) && !readOnlyExempt[c.Request().Method+" "+c.Path()] && a.ReadOnly(s.db.Now()) {
				return s.readOnlyError(c, a)
			}
			s.recordUse(a, need)
			return next(c)
		}
	}
}

// recordUse notes, for the access review, the permissions a request
// passed the check with: in memory only (db.RecordUse), written in
// batches by the server. A preview is not the member's own use; an
// either-or need is used through the permission the member holds (the
// first, when both).
func (s *Server) recordUse(a *db.Actor, need Need) {
	if s.cfg.NoUseRecording || a.PreviewBy != nil {
		return
	}
	switch need.kind {
	case needPerm:
		s.db.RecordUse(a.MemberID, need.perm)
	case needEither:
		if a.Can(need.perm) {
			s.db.RecordUse(a.MemberID, need.perm)
		} else {
			s.db.RecordUse(a.MemberID, need.alt)
		}
	case needBoth:
		s.db.RecordUse(a.MemberID, need.perm)
		s.db.RecordUse(a.MemberID, need.alt)
	}
}

// previewExempt are the only changes allowed while previewing: they act on
// the real person's own session, not on the previewed member.
var previewExempt = map[string]bool{"/logout": true, "/preview/exit": true, "/account/switch": true}

// readOnlyExempt are the changes an account whose subscription ended may
// still make: logging in and out, one's own password and sessions,
// switching to another account, and renewing the subscription itself.
// Everything else that changes state is refused by authorize.
var readOnlyExempt = map[string]bool{
	"POST /logout":                   true,
	"POST /account/switch":           true,
	"POST /preview/exit":             true,
	"POST /profile/password":         true,
	"POST /profile/sessions/end":     true,
	"POST /profile/sessions/end-all": true,
	"POST /subscription":             true,
	"PUT /api/v1/subscription":       true,
	"DELETE /api/v1/tokens/current":  true,
	// One's own two-factor sign-in and API tokens.
	"POST /profile/two-factor/setup":   true,
	"POST /profile/two-factor/confirm": true,
	"POST /profile/two-factor/remove":  true,
	"POST /profile/tokens":             true,
	"POST /profile/tokens/:id/revoke":  true,
}

// readOnlyError refuses a change in an account whose subscription ended,
// naming who can renew it.
func (s *Server) readOnlyError(c echo.Context, a *db.Actor) error {
	return deniedErr{text: s.readOnlyMessage(c, a)}
}

func (s *Server) readOnlyMessage(c echo.Context, a *db.Actor) string {
	msg := fmt.Sprintf("The subscription of %s ended on %s, so the account is read-only: you can look, export and log in, but not change anything.",
		a.AccountName, a.SubscriptionEnds.Format(time.DateOnly))
	names, err := s.db.Renewers(c.Request().Context(), a)
	if err != nil || len(names) == 0 {
		return msg + " The account Owner can renew it."
	}
	return msg + " " + joinNames(names) + " can renew it (Subscription)."
}

// joinNames lists names as a sentence does: "A", "A or B", "A, B or C".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func safeMethod(c echo.Context) bool {
	m := c.Request().Method
	return m == http.MethodGet || m == http.MethodHead
}

// toLogin sends a visitor without a session to the login page, keeping
// where they wanted to go. htmx requests are redirected as a whole page.
func (s *Server) toLogin(c echo.Context) error {
	if isAPI(c) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="fleetgate"`)
		return problem(c, http.StatusUnauthorized, "Not logged in", "Send a valid bearer token (POST /api/v1/tokens gives one).")
	}
	next := c.Request().URL.RequestURI()
	if isHTMX(c) {
		if cur := c.Request().Header.Get("HX-Current-URL"); cur != "" {
			if u, err := url.Parse(cur); err == nil {
				next = u.RequestURI()
			}
		}
		c.Response().Header().Set("HX-Redirect", "/login?next="+url.QueryEscape(next))
		return c.NoContent(http.StatusUnauthorized)
	}
	if !safeMethod(c) {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
}

// Context keys.
const (
	ctxActor = "actor"
	ctxToken = "session-token"
	ctxCSRF  = "csrf"
)

func actor(c echo.Context) *db.Actor {
	a, _ := c.Get(ctxActor).(*db.Actor)
	return a
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}

func sessionToken(c echo.Context) string {
	t, _ := c.Get(ctxToken).(string)
	return t
}

func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-History-Restore-Request") != "true"
}

// hxTarget is the id htmx will swap into ("" for a whole page).
func hxTarget(c echo.Context) string {
	if !isHTMX(c) {
		return ""
	}
	return c.Request().Header.Get("HX-Target")
}
