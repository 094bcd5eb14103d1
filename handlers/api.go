package handlers

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
)

// The JSON API is the mobile channel and the door for integrations. It
// sits in the same route table and goes through the same policy as the
// pages; its writes call the same db methods as the console's forms
// (api_fleet.go, api_members.go, api_admin.go, api_trips.go, with what they
// share in api_write.go). It authenticates with bearer tokens instead of
// cookies, so CSRF does not apply to it, and it answers errors as
// problem+json.

//go:embed openapi.json
var openAPISpec []byte

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) apiSpec(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPISpec)
}

type tokenRequest struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
	TOTPCode  string `json:"totp_code"`
}

// validate checks the request by the field rules. The password is only
// compared with the stored one, so it needs no more than the text rule
// and a bound on its length.
func (r tokenRequest) validate() field.Errors {
	errs := field.Errors{}
	if r.Email == "" {
		errs.Add("email", "Enter an e-mail address.")
	}
	errs.Add("email", field.Line(r.Email, "e-mail address", field.EmailMax, true))
	if r.Password == "" {
		errs.Add("password", "Enter the password.")
	} else if len(r.Password) > field.PasswordBytes {
		errs.Add("password", fmt.Sprintf("Use at most %d characters.", field.PasswordBytes))
	}
	errs.Add("password", field.Text(r.Password, false))
	errs.Add("name", field.Line(r.Name, "name", field.TokenNameMax, false))
	return errs
}

// apiCreateToken logs in for the mobile channel and returns a bearer token.
// The checks and messages are those of the web login.
func (s *Server) apiCreateToken(c echo.Context) error {
	ctx := c.Request().Context()
	var req tokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return problem(c, http.StatusBadRequest, "Bad request", "The body must be a JSON object with email and password.")
	}
	req.Email, req.Name = strings.TrimSpace(req.Email), strings.TrimSpace(req.Name)
	if errs := req.validate(); len(errs) > 0 {
		_, m := errs.First("email", "password", "name")
		return problem(c, http.StatusUnprocessableEntity, "Invalid input", m, errs)
	}
	u, wait, ok, err := s.checkLogin(c, "login", req.Email, req.Password)
	switch {
	case err != nil:
		return err
	case wait > 0:
		return problem(c, http.StatusTooManyRequests, "Too many attempts", fmt.Sprintf("Too many failed attempts. Try again in %d s.", wait))
	case !ok:
		return problem(c, http.StatusUnauthorized, "Not logged in", badLogin)
	}
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	var chosen *db.Membership
	reason := "none"
	for i := range ms {
		m := ms[i]
		if req.AccountID != 0 && m.AccountID != req.AccountID {
			continue
		}
		if r := db.MobileRefusal(m.Status, m.Channel, m.Builtin); r != "" {
			if reason == "none" {
				reason = r
			}
			continue
		}
		chosen = &ms[i]
		break
	}
	if chosen == nil {
		msg := map[string]string{
			"none":          "This login has no account to use.",
			"deactivated":   "Your access has been deactivated. Ask the account's Owner or an Admin to reactivate you.",
			"inactive":      "Your invitation has not been accepted yet.",
			"notifications": "Your role (Notifications only) receives e-mails but cannot log in.",
			"web":           "Your access is for the web console only. Ask an Admin to enable the mobile app for you.",
		}[reason]
		s.recordSignIn(c, u.ID, 0, "refused")
		return problem(c, http.StatusForbidden, "Not allowed", msg)
	}
	// The second factor, for a login that has it; a role that requires it
	// cannot get a token before it is set up (in the console).
	has, err := s.db.HasTwoFactor(ctx, u.ID)
	if err != nil {
		return err
	}
	if has {
		if strings.TrimSpace(req.TOTPCode) == "" {
			return problemFields(c, http.StatusUnauthorized, "Two-factor code required",
				"This login uses two-factor sign-in: send totp_code, the code your authenticator app shows now (or a recovery code).",
				map[string]string{"totp_code": "Required: the current code from your authenticator app, or a recovery code."})
		}
		how, wait, err := s.checkSecondFactor(c, u.ID, clip(req.TOTPCode, 40))
		switch {
		case err != nil:
			return err
		case wait > 0:
			return problem(c, http.StatusTooManyRequests, "Too many attempts", fmt.Sprintf("Too many wrong codes. Try again in %d s.", wait))
		case how == "":
			return problemFields(c, http.StatusUnauthorized, "Wrong two-factor code", "The totp_code is not right, or was used already.",
				map[string]string{"totp_code": "Not right, or used already: send the code your app shows now."})
		}
	} else {
		a, err := s.db.ActorByMember(ctx, chosen.MemberID)
		if err != nil {
			return err
		}
		must, err := s.db.MustSetUpTwoFactor(ctx, a)
		if err != nil {
			return err
		}
		if must {
			s.recordSignIn(c, u.ID, 0, "refused")
			return problem(c, http.StatusForbidden, "Two-factor sign-in required",
				"Your role in "+chosen.AccountName+" requires two-factor sign-in. Set it up in the console (My profile), then ask for a token with totp_code.")
		}
	}
	name := req.Name
	if name == "" {
		name = "mobile app"
	}
	token, expires, err := s.db.CreateToken(ctx, chosen.MemberID, name)
	if err != nil {
		return err
	}
	s.recordSignIn(c, u.ID, chosen.MemberID, "ok")
	s.security(c, slog.LevelInfo, "API token created", "member_id", chosen.MemberID, "user_id", u.ID, "token_name", name)
	return c.JSON(http.StatusCreated, map[string]any{"token": token, "token_type": "Bearer", "expires_at": expires.Format(time.RFC3339),
		"account_id": chosen.AccountID, "account": chosen.AccountName})
}

func (s *Server) apiRevokeToken(c echo.Context) error {
	if err := s.db.RevokeToken(c.Request().Context(), bearer(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiMe is the member behind the token: who, where, and what they may do.
func (s *Server) apiMe(c echo.Context) error {
	a := actor(c)
	perms := []string{}
	for _, k := range a.Perms.Keys() {
		perms = append(perms, string(k))
	}
	return c.JSON(http.StatusOK, map[string]any{
		"member_id": a.MemberID, "name": a.Name(), "email": a.Email,
		"account_id": a.AccountID, "account": a.AccountName,
		"role": a.RoleName, "permissions": perms, "scopes": a.Perms, "vehicle_access": a.VehicleAccess,
	})
}

type apiMember struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Status    string `json:"status"`
	Channel   string `json:"channel"`
	Version   int    `json:"version"` // bumped by every change of the member
}

// apiUsers is the users list as JSON, with the page's filters, by name.
// A page is read through the members' name index from the cursor (the
// "next" of the previous answer); "total" is in the answer when the page
// holds every match or when asked for with total=1. The older page=N
// still reads numbered pages, counted.
func (s *Server) apiUsers(c echo.Context) error {
	after, err := apiCursor(c, db.ValidNameCursor)
	if answered(c) {
		return err
	}
	f := db.MemberFilter{
		Query:   clip(c.QueryParam("q"), 100),
		Status:  oneOf(c.QueryParam("status"), "active", "invited", "deactivated"),
		Channel: oneOf(c.QueryParam("channel"), "web", "mobile", "both"),
		After:   after,
		Count:   c.QueryParam("total") == "1",
		PerPage: perPage(c, 50),
	}
	f.RoleID, _ = strconv.ParseInt(c.QueryParam("role"), 10, 64)
	answer := map[string]any{"per_page": f.PerPage}
	if pg := queryInt(c, "page"); pg > 1 && after == "" {
		f.Page, f.Count = pg, true
		answer["page"] = pg
	}
	rows, ks, err := s.db.MembersPage(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := make([]apiMember, 0, len(rows))
	for _, m := range rows {
		out = append(out, apiMember{m.ID, m.FirstName, m.LastName, m.Email, m.RoleName, m.Status, m.Channel, m.Version})
	}
	answer["members"], answer["next"] = out, ks.Next
	if ks.Total >= 0 {
		answer["total"] = ks.Total
	}
	return c.JSON(http.StatusOK, answer)
}

// apiCursor reads the cursor of a keyset list of the API ("after" is its
// older name of the vehicle list); one that valid refuses answers 422.
func apiCursor(c echo.Context, valid func(string) bool) (string, error) {
	cur := c.QueryParam("cursor")
	if cur == "" {
		cur = c.QueryParam("after")
	}
	if cur != "" && (len(cur) > 400 || !valid(cur)) {
		return "", problemFields(c, http.StatusUnprocessableEntity, "Invalid input", "The cursor is not one this API gave.",
			map[string]string{"cursor": "Send the value of next from the previous page."})
	}
	return cur, nil
}

type apiVehicle struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Plate      string `json:"plate"`
	VIN        string `json:"vin"`
	GroupID    int64  `json:"group_id"`
	Group      string `json:"group"`
	OdometerKm int64  `json:"odometer_km"`
	Status     string `json:"status"`
	Access     string `json:"access"`  // "view" or "manage"
	Version    int    `json:"version"` // bumped by every change of the vehicle
}

func toAPIVehicle(v db.Vehicle) apiVehicle {
	return apiVehicle{v.ID, v.Name, v.Plate, v.VIN, v.GroupID, v.GroupName, v.OdometerKm, v.Status, v.Level.String(), v.Version}
}

// apiVehicles lists the vehicles in the member's scope: a driver sees
// their own vehicles, exactly as in the console. A page is read through
// an index from the cursor (the "next" of the previous answer);
// "total" is in the answer when the page holds every match or when asked
// for with total=1 (a count of all matches). The older page=N still reads
// numbered pages, counted.
func (s *Server) apiVehicles(c echo.Context) error {
	// The cursor is the keyset one of the vehicle list ("after" is its
	// older name); page=N still reads numbered pages, counted.
	after, err := apiCursor(c, db.ValidNameCursor)
	if answered(c) {
		return err
	}
	pg := max(1, queryInt(c, "page"))
	f := db.VehicleFilter{
		Query:   clip(c.QueryParam("q"), 100),
		Status:  oneOf(c.QueryParam("status"), "active", "archived", "all"),
		After:   clip(after, 200),
		Count:   c.QueryParam("total") == "1",
		PerPage: perPage(c, 50),
	}
	if n := queryInt(c, "limit"); n > 0 {
		f.PerPage = min(n, 200)
	}
	f.GroupID, _ = strconv.ParseInt(c.QueryParam("group"), 10, 64)
	ctx := c.Request().Context()
	out := []apiVehicle{}
	answer := map[string]any{"per_page": f.PerPage, "next": ""}
	if pg > 1 && c.QueryParam("cursor") == "" {
		f.Page = pg
		rows, total, err := s.db.ListVehicles(ctx, actor(c), f)
		if err != nil {
			return err
		}
		for _, v := range rows {
			out = append(out, toAPIVehicle(v))
		}
		answer["total"], answer["page"] = total, pg
		answer["next"] = nextCursor(pg, f.PerPage, total)
	} else {
		rows, ks, err := s.db.VehiclesPage(ctx, actor(c), f)
		if err != nil {
			return err
		}
		for _, v := range rows {
			out = append(out, toAPIVehicle(v))
		}
		answer["next"] = ks.Next
		if ks.Total >= 0 {
			answer["total"] = ks.Total
		}
	}
	answer["vehicles"] = out
	return c.JSON(http.StatusOK, answer)
}

// apiVehicle is one vehicle with the clients it may be used for (the client-usability rule);
// outside the member's scope it is 404, like in the console.
func (s *Server) apiVehicle(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.db.Vehicle(ctx, actor(c), id)
	if err != nil {
		return err
	}
	clients, _, err := s.db.ClientsForVehicle(ctx, actor(c), id, db.ClientFilter{PerPage: 200})
	if err != nil {
		return err
	}
	type apiClient struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	cs := make([]apiClient, 0, len(clients))
	for _, cl := range clients {
		cs = append(cs, apiClient{cl.ID, cl.Name})
	}
	// The version as an entity tag: it changes with every change of the vehicle.
	c.Response().Header().Set("ETag", `"`+strconv.Itoa(v.Version)+`"`)
	return c.JSON(http.StatusOK, map[string]any{"vehicle": toAPIVehicle(v), "clients": cs})
}
