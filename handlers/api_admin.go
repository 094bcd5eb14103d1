package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// Roles, the audit log and the subscription through the API, with the
// console's rules: no escalation and versions for roles, the audit log
// within the reader's vehicle scope, the subscription's paid vehicles.

type apiRole struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Builtin     string   `json:"builtin"` // "" for a custom role
	Members     int      `json:"members"`
	Version     int      `json:"version"`
	Permissions perm.Set `json:"permissions"` // key -> its scope values ({} without any)
}

func toAPIRole(r db.Role) apiRole {
	set := r.Perms
	if set == nil {
		set = perm.Set{}
	}
	return apiRole{r.ID, r.Name, string(r.Builtin), r.Members, r.Version, set}
}

// apiRoles lists the account's roles, built-in ones first, each with its
// permissions.
func (s *Server) apiRoles(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	opts, err := s.db.RoleOptions(ctx, a)
	if err != nil {
		return err
	}
	out := make([]apiRole, 0, len(opts))
	for _, o := range opts {
		r, err := s.db.Role(ctx, a, o.ID)
		if err != nil {
			return err
		}
		out = append(out, toAPIRole(r))
	}
	return c.JSON(http.StatusOK, map[string]any{"roles": out, "next": ""})
}

func (s *Server) answerRole(c echo.Context, status int, id int64) error {
	r, err := s.db.Role(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/roles/"+strconv.FormatInt(id, 10))
	}
	return c.JSON(status, toAPIRole(r))
}

func (s *Server) apiRole(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.answerRole(c, http.StatusOK, id)
}

type roleBody struct {
	Name     string `json:"name"`
	CopyFrom int64  `json:"copy_from"`
}

// apiRoleCreate creates a custom role, empty or as a copy of a role whose
// permissions the member holds.
func (s *Server) apiRoleCreate(c echo.Context) error {
	var b roleBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	if b.CopyFrom < 0 {
		return invalidFields(c, map[string]string{"copy_from": "Choose one of the offered roles."})
	}
	id, err := s.db.CreateRole(c.Request().Context(), actor(c), db.NewRole{Name: b.Name, CopyFrom: b.CopyFrom})
	if err != nil {
		return err
	}
	return s.answerRole(c, http.StatusCreated, id)
}

type roleSaveBody struct {
	Permissions map[string]map[string]int `json:"permissions"`
	Note        string                    `json:"note"`
}

// set reads the permissions as the matrix does: known keys, each scope
// within its range; what a permission requires is added when saving.
func (b roleSaveBody) set() (perm.Set, map[string]string) {
	set := perm.Set{}
	errs := map[string]string{}
	for k, scopes := range b.Permissions {
		p, ok := perm.Lookup(perm.Key(k))
		if !ok {
			errs["permissions."+k] = "Not a permission of the catalog."
			continue
		}
		out := map[string]int{}
		for name, v := range scopes {
			var sc *perm.Scope
			for i := range p.Scopes {
				if p.Scopes[i].Key == name {
					sc = &p.Scopes[i]
				}
			}
			switch {
			case sc == nil:
				errs["permissions."+k+"."+name] = "Not a scope of " + k + "."
			case sc.Kind == perm.ScopeBool && v != 0 && v != 1:
				errs["permissions."+k+"."+name] = "0 (off) or 1 (on)."
			case sc.Kind == perm.ScopeDays && (v < 0 || v > sc.Max):
				errs["permissions."+k+"."+name] = fmt.Sprintf("A whole number of days from 0 to %d (0 means no limit).", sc.Max)
			case v != 0:
				out[name] = v
			}
		}
		set[p.Key] = out
	}
	return set, errs
}

// apiRoleSave replaces a role's permissions from the version in If-Match:
// the same checks as the matrix (not one's own role, not the Owner's, only
// permissions one holds, at least one).
func (s *Server) apiRoleSave(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b roleSaveBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	set, errs := b.set()
	if len(errs) > 0 {
		return invalidFields(c, errs)
	}
	if len([]rune(b.Note)) > 200 {
		return invalidFields(c, map[string]string{"note": "At most 200 characters."})
	}
	ctx, a := c.Request().Context(), actor(c)
	if _, err := s.db.SaveRole(ctx, a, db.RoleSave{RoleID: id, Version: version, Perms: set, Note: strings.TrimSpace(b.Note)}); err != nil {
		return refused(c, err, version, func() (int, any, error) {
			r, err := s.db.Role(ctx, a, id)
			return r.Version, toAPIRole(r), err
		})
	}
	return s.answerRole(c, http.StatusOK, id)
}

type apiAuditEntry struct {
	ID      int64           `json:"id"`
	ActorID int64           `json:"actor_id"`
	Actor   string          `json:"actor"`
	Kind    string          `json:"kind"`
	Target  string          `json:"target"`
	Summary string          `json:"summary"`
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	At      string          `json:"at"`
}

func rawOrNull(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// apiAudit reads the audit log, newest first, as the log page shows it to
// the member (events about vehicles, groups and clients within their
// scope). A page is read through the index from the cursor (the "next" of
// the previous answer); "total" is in the answer when the page holds every
// event that matches or when asked for with total=1.
func (s *Server) apiAudit(c echo.Context) error {
	after, err := apiCursor(c, func(s string) bool {
		id, err := strconv.ParseInt(s, 10, 64)
		return err == nil && id > 0
	})
	if answered(c) {
		return err
	}
	per := perPage(c, 50)
	f := db.AuditFilter{Kind: clip(c.QueryParam("kind"), 60), After: after, PerPage: per, Count: c.QueryParam("total") == "1"}
	if pg := queryInt(c, "page"); pg > 1 && after == "" {
		f.Page, f.Count = pg, true // numbered pages of older clients, counted
	}
	errs := map[string]string{}
	if v := c.QueryParam("actor"); v != "" {
		if f.ActorID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ActorID <= 0 {
			errs["actor"] = "A member's id."
		}
	}
	for name, to := range map[string]*string{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				errs[name] = "A date, e.g. 2026-03-06."
			}
			*to = v
		}
	}
	if len(errs) > 0 {
		return invalidFields(c, errs, "actor", "from", "to")
	}
	rows, ks, err := s.db.AuditPage(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := make([]apiAuditEntry, 0, len(rows))
	for _, e := range rows {
		out = append(out, apiAuditEntry{e.ID, e.ActorID, e.ActorName, e.Kind, e.Target, e.Summary, rawOrNull(e.Before), rawOrNull(e.After),
			e.At.UTC().Format(time.RFC3339)})
	}
	answer := map[string]any{"events": out, "next": ks.Next}
	if ks.Total >= 0 {
		answer["total"] = ks.Total
	}
	return c.JSON(http.StatusOK, answer)
}

type apiSubscriptionAccount struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Active   int    `json:"active_vehicles"`
	Archived int    `json:"archived_vehicles"`
	Current  bool   `json:"current"`
}

func (s *Server) subscriptionJSON(c echo.Context) (int, any, error) {
	sub, err := s.db.Subscription(c.Request().Context(), actor(c))
	if err != nil {
		return 0, nil, err
	}
	accts := make([]apiSubscriptionAccount, 0, len(sub.Accounts))
	for _, sa := range sub.Accounts {
		accts = append(accts, apiSubscriptionAccount{sa.ID, sa.Name, sa.Active, sa.Archived, sa.Current})
	}
	return sub.Version, map[string]any{"starts_on": sub.StartsOn.Format(time.DateOnly), "ends_on": sub.EndsOn.Format(time.DateOnly),
		"paid_vehicles": sub.PaidVehicles, "in_use": sub.InUse, "archived": sub.Archived, "free": sub.Free(),
		"expired": sub.Expired(s.db.Now()), "version": sub.Version, "accounts": accts}, nil
}

func (s *Server) answerSubscription(c echo.Context) error {
	v, body, err := s.subscriptionJSON(c)
	if err != nil {
		return err
	}
	setETag(c, v)
	return c.JSON(http.StatusOK, body)
}

func (s *Server) apiSubscription(c echo.Context) error { return s.answerSubscription(c) }

type subscriptionBody struct {
	PaidVehicles *int   `json:"paid_vehicles"`
	EndsOn       string `json:"ends_on"`
}

// apiSubscriptionSave changes the paid vehicles and the end date
// (billing.manage); it works in a read-only account too, which is how
// the account is renewed.
func (s *Server) apiSubscriptionSave(c echo.Context) error {
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b subscriptionBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	errs := map[string]string{}
	if b.PaidVehicles == nil || *b.PaidVehicles < 0 || *b.PaidVehicles > 1_000_000 {
		errs["paid_vehicles"] = "Enter a number from 0 to 1,000,000."
	}
	ends, perr := time.Parse(time.DateOnly, b.EndsOn)
	if perr != nil {
		errs["ends_on"] = "Give the last day as a date, e.g. 2027-12-31."
	}
	if len(errs) > 0 {
		return invalidFields(c, errs, "paid_vehicles", "ends_on")
	}
	if err := s.db.UpdateSubscription(c.Request().Context(), actor(c), db.SubscriptionChange{PaidVehicles: *b.PaidVehicles, EndsOn: ends, Version: version}); err != nil {
		return refused(c, err, version, func() (int, any, error) { return s.subscriptionJSON(c) })
	}
	return s.answerSubscription(c)
}
