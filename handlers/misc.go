package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/static"
	"fleetgate/views"
)

var staticFiles = http.StripPrefix("/static/", http.FileServer(http.FS(static.FS)))

// static serves the embedded files. Under a content-hashed name (the
// addresses pages use, see static.Path) a file never changes, so browsers
// may keep it for a year without asking again; the plain names keep
// working with a short lifetime.
func (s *Server) static(c echo.Context) error {
	p := c.Request().URL.Path
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".go") {
		return echo.ErrNotFound
	}
	if name, ok := static.Original(strings.TrimPrefix(p, "/static/")); ok {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeFileFS(c.Response(), c.Request(), static.FS, name)
		return nil
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	staticFiles.ServeHTTP(c.Response(), c.Request())
	return nil
}

// favicon answers the address browsers ask for the site's icon with the
// console's hand-written SVG icon.
func (s *Server) favicon(c echo.Context) error {
	b, err := static.FS.ReadFile("favicon.svg")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}

// home sends a member to the first section they may open.
func (s *Server) home(c echo.Context) error {
	// The flash, if any, is left for the page we redirect to.
	items := navFor(actor(c))
	if len(items) == 0 {
		sh := s.shell(c, "Fleetgate", "")
		return render(c, http.StatusOK, wrap(views.Page(sh), views.ErrorBox("Nothing to show yet", "Your role gives you no section of the console. Ask your account Owner or an Admin.", "")))
	}
	return c.Redirect(http.StatusSeeOther, items[0].Href)
}

// flash keeps a one-time message for the next page in a signed cookie.
func (s *Server) flash(c echo.Context, kind, text string) {
	sess, _ := s.cookies.Get(c.Request(), "fleetgate_flash")
	sess.Options.MaxAge = 300
	sess.Options.Secure = s.secure(c)
	sess.AddFlash(kind + "|" + text)
	_ = sess.Save(c.Request(), c.Response())
}

func (s *Server) takeFlash(c echo.Context) []views.Flash {
	sess, err := s.cookies.Get(c.Request(), "fleetgate_flash")
	if err != nil || sess.IsNew {
		return nil
	}
	var out []views.Flash
	for _, f := range sess.Flashes() {
		if str, ok := f.(string); ok {
			kind, text, _ := strings.Cut(str, "|")
			out = append(out, views.Flash{Kind: kind, Text: text})
		}
	}
	sess.Options.MaxAge = -1
	_ = sess.Save(c.Request(), c.Response())
	return out
}

// formID reads a positive integer id from a form field.
func formID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.FormValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, db.FieldError(name, "Choose one of the offered values.")
	}
	return id, nil
}

// pathID reads a positive integer id from the path; anything else is "not found".
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// queryInt reads a non-negative integer query parameter (0 when absent or
// bad), at most a million so that page arithmetic cannot overflow.
func queryInt(c echo.Context, name string) int {
	n, err := strconv.Atoi(c.QueryParam(name))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, 1_000_000)
}

// clip trims s and cuts it to at most n runes.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func pages(total, per int) int {
	if total == 0 {
		return 1
	}
	return (total + per - 1) / per
}

func oneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return ""
}
