package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
)

// Members and their vehicle access through the API: invitations, edits,
// deactivation, deletion and grants go through the console's db methods,
// whose reach and no-escalation checks run in the write's transaction.

type apiMemberDetail struct {
	ID            int64  `json:"id"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	RoleID        int64  `json:"role_id"`
	Role          string `json:"role"`
	Status        string `json:"status"`
	Channel       string `json:"channel"`
	VehicleAccess string `json:"vehicle_access"`
	IsOwner       bool   `json:"is_owner"`
	Version       int    `json:"version"`
}

func toAPIMemberDetail(m db.MemberDetail) apiMemberDetail {
	return apiMemberDetail{m.ID, m.FirstName, m.LastName, m.Email, m.Phone, m.RoleID, m.RoleName, m.Status, m.Channel,
		m.VehicleAccess, m.IsOwner, m.Version}
}

func (s *Server) answerMember(c echo.Context, status int, id int64) error {
	m, err := s.db.Member(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	setETag(c, m.Version)
	return c.JSON(status, toAPIMemberDetail(m))
}

func (s *Server) apiMember(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.answerMember(c, http.StatusOK, id)
}

type inviteBody struct {
	Email         string          `json:"email"`
	RoleID        int64           `json:"role_id"`
	Channel       string          `json:"channel"`
	VehicleAccess string          `json:"vehicle_access"`
	Groups        []db.GroupGrant `json:"groups"`
}

// apiInvite invites a person, as "Invite a person" does: the same checks
// (role and access within the inviter's own), the same e-mail or link.
func (s *Server) apiInvite(c echo.Context) error {
	var b inviteBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	if b.Channel == "" {
		b.Channel = "web"
	}
	if b.VehicleAccess == "" {
		b.VehicleAccess = "selected"
	}
	if len(b.Groups) > 250 {
		return invalidFields(c, map[string]string{"groups": "At most 250 groups."})
	}
	for _, g := range b.Groups {
		if oneOf(g.Level, "view", "manage") == "" || g.GroupID <= 0 {
			return invalidFields(c, map[string]string{"groups": "Each group needs a group_id and a level, view or manage."})
		}
	}
	ni := db.NewInvitation{Email: clip(b.Email, 300), RoleID: b.RoleID, Channel: b.Channel, VehicleAccess: b.VehicleAccess, Grants: b.Groups, TTL: s.inviteTTL(c)}
	if errs := ni.Validate(); len(errs) > 0 {
		return invalidFields(c, errs, "email", "role_id", "channel", "vehicle_access")
	}
	inv, token, err := s.db.CreateInvitation(c.Request().Context(), actor(c), ni)
	if err != nil {
		return err
	}
	l := s.deliverInvitation(c, inv, token)
	return c.JSON(http.StatusCreated, map[string]any{"id": inv.ID, "email": inv.Email, "role_id": inv.RoleID, "role": inv.RoleName,
		"channel": inv.Channel, "vehicle_access": inv.VehicleAccess, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339),
		"link": l.Link, "sent": l.Sent})
}

// withoutLink is an invitation's answer as kept for replays: the link
// holds the invitation's token, which is stored nowhere but as a hash.
func withoutLink(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	m["link"] = ""
	out, _ := json.Marshal(m)
	return append(out, '\n')
}

// memberBody changes a member; a field left out stays as it is.
type memberBody struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Phone     *string `json:"phone"`
	RoleID    *int64  `json:"role_id"`
	Channel   *string `json:"channel"`
}

func (s *Server) apiMemberUpdate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	version, ok, err := ifMatch(c)
	if !ok {
		return err
	}
	var b memberBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	ctx, a := c.Request().Context(), actor(c)
	m, err := s.db.Member(ctx, a, id)
	if err != nil {
		return err
	}
	e := db.MemberEdit{FirstName: m.FirstName, LastName: m.LastName, Phone: m.Phone, RoleID: m.RoleID, Channel: m.Channel}
	set := func(p *string, to *string) {
		if p != nil {
			*to = *p
		}
	}
	set(b.FirstName, &e.FirstName)
	set(b.LastName, &e.LastName)
	set(b.Phone, &e.Phone)
	set(b.Channel, &e.Channel)
	if b.RoleID != nil {
		e.RoleID = *b.RoleID
	}
	e.Clean()
	errs := e.Validate()
	if e.FirstName == m.FirstName && e.LastName == m.LastName && e.Phone == m.Phone {
		delete(errs, "first_name") // unchanged: stored as it was (the db says the same)
		delete(errs, "last_name")
		delete(errs, "phone")
	}
	if len(errs) > 0 {
		return invalidFields(c, errs, "first_name", "last_name", "phone", "role_id", "channel")
	}
	if err := s.db.UpdateMember(ctx, a, id, version, e); err != nil {
		return refused(c, err, version, func() (int, any, error) {
			m, err := s.db.Member(ctx, a, id)
			return m.Version, toAPIMemberDetail(m), err
		})
	}
	return s.answerMember(c, http.StatusOK, id)
}

type deactivateBody struct {
	HandoverTo int64 `json:"handover_to"`
}

// apiDeactivate deactivates a member: their sessions and tokens end at
// once; what they leave behind is revoked, or handed to handover_to.
func (s *Server) apiDeactivate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var b deactivateBody
	if c.Request().ContentLength != 0 {
		if err := readJSON(c, &b); err != nil || answered(c) {
			return err
		}
	}
	if b.HandoverTo < 0 {
		return invalidFields(c, map[string]string{"handover_to": "Choose an active member to hand over to."})
	}
	var done []string
	if err := s.db.SetStatus(c.Request().Context(), actor(c), id, "deactivated", db.Handover{ToMemberID: b.HandoverTo, Report: &done}); err != nil {
		return err
	}
	return s.answerMember(c, http.StatusOK, id)
}

func (s *Server) apiReactivate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.SetStatus(c.Request().Context(), actor(c), id, "active", db.Handover{}); err != nil {
		return err
	}
	return s.answerMember(c, http.StatusOK, id)
}

// apiMemberDelete deletes a member for good (users.delete); their trips
// stay, attributed to "former member <name>".
func (s *Server) apiMemberDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.DeleteMember(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type apiGrant struct {
	Kind     string `json:"kind"`
	TargetID int64  `json:"target_id"`
	Name     string `json:"name"`
	Level    string `json:"level"`
	LastDay  string `json:"last_day"` // "" without an end
	Active   bool   `json:"active"`
}

// answerAccess answers a member's vehicle access as the member may see it.
func (s *Server) answerAccess(c echo.Context, status int, id int64) error {
	m, err := s.db.MemberAccess(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	gs := make([]apiGrant, 0, len(m.Grants))
	loc := actor(c).Location()
	for _, g := range m.Grants {
		last := ""
		if g.EndsAt != nil { // the last day in the account's time zone, as the console shows it
			last = g.EndsAt.Add(-time.Second).In(loc).Format(time.DateOnly)
		}
		gs = append(gs, apiGrant{g.Kind, g.TargetID, g.Name, g.Level.String(), last, g.Active})
	}
	return c.JSON(status, map[string]any{"member_id": m.MemberID, "mode": m.Mode, "grants": gs, "hidden": m.Hidden})
}

func (s *Server) apiAccess(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.answerAccess(c, http.StatusOK, id)
}

type modeBody struct {
	Mode string `json:"mode"`
}

func (s *Server) apiAccessMode(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var b modeBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	if oneOf(b.Mode, "all", "selected") == "" {
		return invalidFields(c, map[string]string{"mode": "Choose all or selected."})
	}
	if err := s.db.SetAccessMode(c.Request().Context(), actor(c), id, b.Mode); err != nil {
		return err
	}
	return s.answerAccess(c, http.StatusOK, id)
}

type grantBody struct {
	Kind     string `json:"kind"`
	TargetID int64  `json:"target_id"`
	Level    string `json:"level"`
	LastDay  string `json:"last_day"`
}

// apiGrantCreate gives a member access to a vehicle or a group (or
// changes the level or end of the grant they have), optionally until a
// last day in the account's time zone.
func (s *Server) apiGrantCreate(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var b grantBody
	if err := readJSON(c, &b); err != nil || answered(c) {
		return err
	}
	errs := map[string]string{}
	in := db.GrantInput{Kind: oneOf(b.Kind, "vehicle", "group"), TargetID: b.TargetID}
	if in.Kind == "" {
		errs["kind"] = "Choose vehicle or group."
	}
	if b.TargetID <= 0 {
		errs["target_id"] = "Choose one of the offered groups or vehicles."
	}
	var lvlOK bool
	if in.Level, lvlOK = db.ParseLevel(b.Level); !lvlOK || in.Level == db.NoAccess {
		errs["level"] = "Choose view or manage."
	}
	if b.LastDay != "" {
		day, err := time.Parse(time.DateOnly, b.LastDay)
		if err != nil {
			errs["last_day"] = "Give the last day as a date, e.g. 2026-03-06, or leave it out."
		} else {
			end := db.EndOfDayIn(day, actor(c).Location())
			in.EndsAt = &end
		}
	}
	if len(errs) > 0 {
		return invalidFields(c, errs, "kind", "target_id", "level", "last_day")
	}
	if err := s.db.Grant(c.Request().Context(), actor(c), id, in); err != nil {
		var e *db.Error
		if errors.As(err, &e) && e.Field == "ends_on" {
			e2 := *e
			e2.Field = "last_day" // the console's field is ends_on
			return &e2
		}
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/users/"+strconv.FormatInt(id, 10)+"/access")
	return s.answerAccess(c, http.StatusCreated, id)
}

func (s *Server) apiGrantDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	target, err := pathID(c, "target")
	if err != nil {
		return err
	}
	kind := oneOf(c.Param("kind"), "vehicle", "group")
	if kind == "" {
		return echo.ErrNotFound
	}
	if err := s.db.Revoke(c.Request().Context(), actor(c), id, kind, target); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
