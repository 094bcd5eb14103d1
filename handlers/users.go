package handlers

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const usersPerPage = 25

// usersList is the users page and, for htmx, its results fragment.
func (s *Server) usersList(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	f := views.UsersFilter{
		Q:       clip(c.QueryParam("q"), 100),
		Status:  oneOf(c.QueryParam("status"), "active", "invited", "deactivated"),
		Channel: oneOf(c.QueryParam("channel"), "web", "mobile", "both"),
	}
	if db.KnownMemberSort(c.QueryParam("sort")) {
		f.Sort = c.QueryParam("sort")
	}
	f.RoleID, _ = strconv.ParseInt(c.QueryParam("role"), 10, 64)
	// One page from a cursor (by name, read through the index); the count
	// of all matches only when asked for.
	rows, ks, err := s.db.MembersPage(ctx, a, db.MemberFilter{Query: f.Q, RoleID: f.RoleID, Status: f.Status, Channel: f.Channel, Sort: f.Sort,
		Page: queryInt(c, "page"), PerPage: usersPerPage,
		After: clip(c.QueryParam("after"), 400), Before: clip(c.QueryParam("before"), 400), Count: c.QueryParam("count") == "1"})
	if err != nil {
		return err
	}
	// The role filter offers the roles by name only: no member is counted.
	roles, err := s.db.RoleChoices(ctx, a)
	if err != nil {
		return err
	}
	params := url.Values{"q": {f.Q}, "status": {f.Status}, "channel": {f.Channel}, "sort": {f.Sort}}
	if f.RoleID != 0 {
		params.Set("role", strconv.FormatInt(f.RoleID, 10))
	}
	p := views.UsersPage{
		Filter: f,
		Roles:  roles,
		Rows:   rows,
		Pager: views.Pager{Keyset: true, Next: ks.Next, Prev: ks.Prev, Total: ks.Total, Shown: len(rows), PerPage: usersPerPage,
			Base: "/users", Params: params},
		CanManage: a.Can(perm.UsersManage),
		Back:      c.Request().URL.RequestURI(),
	}
	if p.CanManage {
		if p.Grantable, err = s.db.GrantableRoles(ctx, a); err != nil {
			return err
		}
	}
	p.CSRF = csrfToken(c)
	if hxTarget(c) == "users-results" {
		return render(c, http.StatusOK, views.UsersResults(p))
	}
	if p.CanManage {
		if p.Invitations, err = s.invitationsPanel(c); err != nil {
			return err
		}
	}
	p.Shell = s.shell(c, "Users", "/users")
	return render(c, http.StatusOK, views.Users(p))
}

// usersCSV exports the members matching the list's filter as CSV.
func (s *Server) usersCSV(c echo.Context) error {
	a := actor(c)
	f := db.MemberFilter{
		Query:   clip(c.QueryParam("q"), 100),
		Status:  oneOf(c.QueryParam("status"), "active", "invited", "deactivated"),
		Channel: oneOf(c.QueryParam("channel"), "web", "mobile", "both"),
		PerPage: 1000,
	}
	f.RoleID, _ = strconv.ParseInt(c.QueryParam("role"), 10, 64)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="members.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"first_name", "last_name", "email", "phone", "role", "status", "channel", "last_login"})
	for {
		rows, ks, err := s.db.MembersPage(c.Request().Context(), a, f)
		if err != nil {
			return err
		}
		for _, m := range rows {
			last := ""
			if m.LastLoginAt != nil {
				last = m.LastLoginAt.UTC().Format(time.RFC3339)
			}
			_ = w.Write(csvSafe(m.FirstName, m.LastName, m.Email, m.Phone, m.RoleName, m.Status, m.Channel, last))
		}
		w.Flush()
		if ks.Next == "" {
			return w.Error()
		}
		f.After = ks.Next
	}
}

// csvSafe keeps spreadsheet programs from running a cell as a formula.
func csvSafe(cells ...string) []string {
	for i, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}
