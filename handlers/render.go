package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// render writes a templ component with a status.
func render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// page renders either the fragment an htmx request targets or the whole
// page around it.
func page(c echo.Context, status int, target string, fragment, whole templ.Component) error {
	if hxTarget(c) == target {
		return render(c, status, fragment)
	}
	return render(c, status, whole)
}

// nav lists the sidebar's sections; each shows only to those who may open
// it (an empty need: to everyone signed in).
var nav = []struct {
	href, label string
	need        perm.Key
}{
	{"/users", "Users", perm.UsersView},
	{"/roles", "Roles", perm.RolesView},
	{"/vehicles", "Vehicles", perm.VehiclesView},
	{"/trips", "Trips", perm.TripsView},
	{"/groups", "Groups", perm.VehiclesView},
	{"/clients", "Clients", perm.ClientsView},
	{"/pairing", "Pairing", perm.PairingManage},
	{"/subscription", "Subscription", perm.BillingView},
	{"/settings", "Settings", perm.AccountSettings},
	{"/exports", "Exports", perm.ReportsExport},
	{"/audit", "Audit log", perm.AuditView},
	{"/profile", "My profile", ""},
}

// navFor lists the sections the actor may open.
func navFor(a *db.Actor) []views.NavItem {
	var out []views.NavItem
	for _, n := range nav {
		if n.need == "" || a.Can(n.need) {
			out = append(out, views.NavItem{Href: n.href, Label: n.label})
		}
	}
	return out
}

// shell builds the frame of a console page for the actor.
func (s *Server) shell(c echo.Context, title, section string) views.Shell {
	a := actor(c)
	sh := views.Shell{Title: title, Section: section, CSRF: csrfToken(c), Flash: s.takeFlash(c)}
	if a == nil {
		return sh
	}
	real := a
	if a.PreviewBy != nil {
		real = a.PreviewBy
		sh.PreviewOf = a.Name()
	}
	sh.UserName, sh.UserEmail = real.Name(), real.Email
	sh.AccountName, sh.RoleName = a.AccountName, a.RoleName
	sh.Nav = navFor(a)
	now := s.db.Now()
	if a.ReadOnly(now) {
		sh.ReadOnly = s.readOnlyMessage(c, a)
	}
	if a.Can(perm.BillingView) {
		sh.Warnings = s.subscriptionWarnings(c, a)
	}
	if ms, err := s.db.Memberships(c.Request().Context(), real.UserID); err == nil {
		for _, m := range ms {
			if m.WebUsable() {
				sh.Accounts = append(sh.Accounts, views.AccountChoice{MemberID: m.MemberID, Name: m.AccountName, Role: m.RoleName, Current: m.MemberID == real.MemberID})
			}
		}
	}
	return sh
}

// Status is the one mapping from a db error code to the HTTP status of
// the answer, for pages, htmx fragments and problem+json alike; an
// internal error (no code) is 500.
func Status(code db.Code) int {
	switch code {
	case db.ENotFound:
		return http.StatusNotFound
	case db.EConflict:
		return http.StatusConflict
	case db.EInvalid:
		return http.StatusUnprocessableEntity
	case db.EForbidden:
		return http.StatusForbidden
	case db.EThrottled:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// statusOf is the status of err (see Status).
func statusOf(err error) int { return Status(db.ErrorCode(err)) }

// deniedErr is a refusal by the route policy (a missing permission, or an
// Owner-only action); it renders as the inline "not allowed" notice.
type deniedErr struct {
	perm perm.Key
	text string
}

func (e deniedErr) Error() string { return "denied: " + e.message() }

func (e deniedErr) message() string {
	if e.text != "" {
		return e.text
	}
	return fmt.Sprintf("You need '%s' — ask your account Owner or an Admin.", perm.Label(e.perm))
}

func deniedError(k perm.Key) error { return deniedErr{perm: k} }

// errorHandler is the one place errors become answers: a page, an htmx
// fragment or problem+json. Internal errors are logged, never shown.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "The server could not answer. Try again in a moment."
	var de deniedErr
	var he *echo.HTTPError
	var fe *db.Error
	switch {
	case errors.As(err, &de):
		status, title, msg = http.StatusForbidden, "Not allowed", de.message()
	case errors.As(err, &fe):
		status, title, msg = Status(fe.Code), "Not possible", fe.Message
		switch fe.Code {
		case db.ENotFound:
			title = "Not found"
		case db.EForbidden:
			title = "Not allowed"
		case db.EThrottled:
			c.Response().Header().Set("Retry-After", fmt.Sprint(fe.RetryAfter))
		}
	case errors.As(err, &he):
		status = he.Code
		switch he.Code {
		case http.StatusBadRequest:
			title, msg = "Bad request", "The request could not be read."
			if m, ok := he.Message.(string); ok && m != "" && m != http.StatusText(he.Code) {
				msg = m
			}
		case http.StatusNotFound:
			title, msg = "Not found", "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			title, msg = "Not possible", "This address does not accept that kind of request."
		case http.StatusRequestEntityTooLarge:
			title, msg = "Too large", "The request is larger than the console accepts (1 MB)."
		default:
			title, msg = http.StatusText(he.Code), http.StatusText(he.Code)
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", requestIDOf(c), "err", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		var errs map[string]string
		if fe != nil && fe.Field != "" {
			errs = map[string]string{fe.Field: fe.Message}
		}
		if de.perm != "" { // the missing permission, by key, for programs
			c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
			_ = c.JSON(status, map[string]any{"type": "about:blank", "title": title, "status": status, "detail": msg, "missing_permission": string(de.perm)})
			return
		}
		_ = problem(c, status, title, msg, errs)
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	var box templ.Component
	if errors.As(err, &de) {
		if de.text == "" {
			box = views.Denied(perm.Label(de.perm))
		} else {
			box = views.DeniedText(de.text)
		}
	} else {
		box = views.ErrorBox(title, msg, requestIDOf(c))
	}
	if isHTMX(c) {
		_ = render(c, status, box)
		return
	}
	if actor(c) == nil {
		_ = render(c, status, wrap(views.Bare(title, csrfToken(c)), box))
		return
	}
	_ = render(c, status, wrap(views.Page(s.shell(c, title, "")), box))
}

// wrap renders outer with inner as its children.
func wrap(outer, inner templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return outer.Render(templ.WithChildren(ctx, inner), w)
	})
}

// problem answers an API error as RFC 9457 problem+json; errs, when
// given, are the messages per input field ("errors": {"email": "…"}).
func problem(c echo.Context, status int, title, detail string, errs ...map[string]string) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	body := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	if len(errs) > 0 && len(errs[0]) > 0 {
		body["errors"] = errs[0]
	}
	return c.JSON(status, body)
}

// problemFields is problem with a message per request field ("errors").
func problemFields(c echo.Context, status int, title, detail string, fields map[string]string) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(status, map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": fields})
}

// formFailure puts a db error about the form into it and tells the status
// to answer with; ok is false for errors the error handler should answer.
func formFailure(err error, errs map[string]string, whole *string) (status int, ok bool) {
	var e *db.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	switch e.Code {
	case db.EInvalid, db.EConflict, db.EForbidden:
		status = Status(e.Code)
	default:
		return 0, false
	}
	if e.Field != "" && errs != nil {
		errs[e.Field] = e.Message
	} else {
		*whole = e.Message
	}
	return status, true
}

// formFieldFailure is formFailure for forms whose every refusal names a
// field: an error without one is not a form error.
func formFieldFailure(err error, errs map[string]string) (status int, ok bool) {
	var whole string
	status, ok = formFailure(err, errs, &whole)
	return status, ok && whole == ""
}
