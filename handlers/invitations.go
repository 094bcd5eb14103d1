package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/password"
	"fleetgate/views"
)

// Invitations: invite by e-mail with a role and vehicle access chosen up
// front, list, renew and revoke pending invitations, and accept a link.

// inviteTTL is how long the actor's account's invitation links are valid:
// the account's setting, else the server's --invite-ttl.
func (s *Server) inviteTTL(c echo.Context) time.Duration {
	return s.db.InviteTTLOf(c.Request().Context(), actor(c), s.defaultInviteTTL())
}

func (s *Server) defaultInviteTTL() time.Duration {
	if s.cfg.InviteTTL > 0 {
		return s.cfg.InviteTTL
	}
	return db.InviteTTL
}

// grantForm offers only what the actor may give: the roles within their
// own permissions and all vehicles only if they have them.
func (s *Server) grantForm(c echo.Context, roleID int64, channel, access string) (views.GrantForm, error) {
	a := actor(c)
	roles, err := s.db.GrantableRoles(c.Request().Context(), a)
	if err != nil {
		return views.GrantForm{}, err
	}
	f := views.GrantForm{Roles: roles, CanGiveAll: a.VehicleAccess == "all", RoleID: roleID, Channel: channel, VehicleAccess: access,
		Chosen: map[int64]string{}}
	groups, err := s.db.Groups(c.Request().Context(), a)
	if err != nil {
		return f, err
	}
	for _, g := range groups {
		if g.Level >= db.View {
			f.Groups = append(f.Groups, g)
		}
	}
	for _, g := range readGroupGrants(c) {
		f.Chosen[g.GroupID] = g.Level
	}
	return f, nil
}

// readGroupGrants reads the group selects ("group_<id>" = view | manage).
func readGroupGrants(c echo.Context) []db.GroupGrant {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	var out []db.GroupGrant
	for k, vs := range form {
		id, err := strconv.ParseInt(strings.TrimPrefix(k, "group_"), 10, 64)
		if !strings.HasPrefix(k, "group_") || err != nil || id <= 0 || len(vs) == 0 || len(out) >= 250 {
			continue
		}
		if lvl := oneOf(vs[0], "view", "manage"); lvl != "" {
			out = append(out, db.GroupGrant{GroupID: id, Level: lvl})
		}
	}
	return out
}

// grantInput is the role, channel and vehicle access of a form as typed.
type grantInput struct {
	RoleID  int64
	Channel string
	Access  string
}

func readGrant(c echo.Context, errs views.FieldMsgs) grantInput {
	g := grantInput{Channel: c.FormValue("channel"), Access: c.FormValue("vehicle_access")}
	g.RoleID, _ = strconv.ParseInt(c.FormValue("role_id"), 10, 64)
	if g.RoleID <= 0 {
		errs["role_id"] = "Choose a role."
	}
	if g.Channel == "" {
		g.Channel = "web"
	}
	if oneOf(g.Channel, "web", "mobile", "both") == "" {
		errs["channel"] = "Choose web, mobile or both."
		g.Channel = "web"
	}
	if oneOf(g.Access, "all", "selected") == "" {
		errs["vehicle_access"] = "Choose all vehicles or selected vehicles."
		g.Access = "selected"
	}
	return g
}

func (s *Server) invitePage(c echo.Context) error {
	g, err := s.grantForm(c, 0, "web", "selected")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Invite(views.InviteForm{Shell: s.shell(c, "Invite a person", "/users"), Grant: g, Errors: views.FieldMsgs{}}))
}

func (s *Server) inviteCreate(c echo.Context) error {
	ctx := c.Request().Context()
	errs := views.FieldMsgs{}
	email := clip(c.FormValue("email"), 300)
	g := readGrant(c, errs)
	ni := db.NewInvitation{Email: email, RoleID: g.RoleID, Channel: g.Channel, VehicleAccess: g.Access, Grants: readGroupGrants(c), TTL: s.inviteTTL(c),
		Mail: s.invitationMail(c)}
	for k, m := range ni.Validate() {
		errs.Add(k, m)
	}
	reject := func(status int) error {
		form, err := s.grantForm(c, g.RoleID, g.Channel, g.Access)
		if err != nil {
			return err
		}
		return render(c, status, views.Invite(views.InviteForm{Shell: s.shell(c, "Invite a person", "/users"), Email: email, Grant: form, Errors: errs}))
	}
	if len(errs) > 0 {
		return reject(http.StatusUnprocessableEntity)
	}
	inv, token, err := s.db.CreateInvitation(ctx, actor(c), ni)
	if status, ok := formFieldFailure(err, errs); ok {
		return reject(status)
	}
	if err != nil {
		return err
	}
	link := s.queuedInviteLink(c, inv, token)
	return render(c, http.StatusOK, views.InviteLinkShown(views.InviteLinkPage{Shell: s.shell(c, "Invitation created", "/users"), Link: link}))
}

// queuedInviteLink is the link of an invitation just e-mailed (queued in the
// outbox with it; without a mail server the sender writes it to the server
// log), which the console shows once as well.
func (s *Server) queuedInviteLink(c echo.Context, inv db.Invitation, token string) views.InviteLink {
	return views.InviteLink{Email: inv.Email, RoleName: inv.RoleName, Link: s.inviteURL(c, token), ExpiresAt: inv.ExpiresAt,
		Sent: s.cfg.SMTP.Enabled()}
}

// invitationsPanel builds the pending invitations section for the actor.
func (s *Server) invitationsPanel(c echo.Context) (*views.InvitationsPanel, error) {
	ctx := c.Request().Context()
	a := actor(c)
	invs, err := s.db.PendingInvitations(ctx, a)
	if err != nil {
		return nil, err
	}
	p := &views.InvitationsPanel{CSRF: csrfToken(c), Mail: s.cfg.SMTP.Enabled()}
	now := s.db.Now()
	givable := map[int64]bool{}
	for _, inv := range invs {
		ok, seen := givable[inv.RoleID]
		if !seen {
			ok = s.db.CheckGrantRole(ctx, a, inv.RoleID) == nil
			givable[inv.RoleID] = ok
		}
		canAct := ok && db.CheckGrantAccess(a, inv.VehicleAccess) == nil
		p.Rows = append(p.Rows, views.InvitationRow{Inv: inv, State: inv.State(now), CanAct: canAct})
	}
	return p, nil
}

func (s *Server) invitationLink(c echo.Context) error { return s.renewInvitation(c, "invitation.link") }
func (s *Server) invitationResend(c echo.Context) error {
	return s.renewInvitation(c, "invitation.resend")
}

// renewInvitation issues a fresh link (the old one stops working) and
// shows it with a copy button; "resend" also delivers it again.
func (s *Server) renewInvitation(c echo.Context, kind string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var mail db.InvitationMail
	if kind == "invitation.resend" {
		mail = s.invitationMail(c)
	}
	inv, token, err := s.db.RenewInvitation(c.Request().Context(), actor(c), id, s.inviteTTL(c), kind, mail)
	if err != nil {
		return s.panelFailure(c, err)
	}
	var link views.InviteLink
	if kind == "invitation.resend" {
		link = s.queuedInviteLink(c, inv, token)
	} else {
		link = views.InviteLink{Email: inv.Email, RoleName: inv.RoleName, Link: s.inviteURL(c, token), ExpiresAt: inv.ExpiresAt, CopyOnly: true}
	}
	link.Renewed = true
	if !isHTMX(c) {
		return render(c, http.StatusOK, views.InviteLinkShown(views.InviteLinkPage{Shell: s.shell(c, "New invitation link", "/users"), Link: link}))
	}
	p, err := s.invitationsPanel(c)
	if err != nil {
		return err
	}
	p.NewLink = &link
	return render(c, http.StatusOK, views.Invitations(*p))
}

func (s *Server) invitationRevoke(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.db.RevokeInvitation(c.Request().Context(), actor(c), id)
	if err != nil {
		return s.panelFailure(c, err)
	}
	msg := "The invitation to " + inv.Email + " was revoked; its link no longer works."
	if !isHTMX(c) {
		s.flash(c, "ok", msg)
		return c.Redirect(http.StatusSeeOther, "/users")
	}
	p, err := s.invitationsPanel(c)
	if err != nil {
		return err
	}
	p.Notice = msg
	return render(c, http.StatusOK, views.Invitations(*p))
}

// panelFailure answers a refused action on a pending invitation. For htmx
// a refusal (403) or a clash (409) re-renders the panel with the message,
// so the list stays on the page; everything else goes to the error handler.
func (s *Server) panelFailure(c echo.Context, err error) error {
	code := db.ErrorCode(err)
	if !isHTMX(c) || (code != db.EForbidden && code != db.EConflict) {
		return err
	}
	p, perr := s.invitationsPanel(c)
	if perr != nil {
		return perr
	}
	p.Error = db.SafeMessage(err)
	return render(c, Status(code), views.Invitations(*p))
}

// acceptTitles name the page of a link that can no longer be used.
var acceptTitles = map[db.InviteState]string{
	db.InviteExpired:  "Invitation expired",
	db.InviteAccepted: "Invitation already used",
	db.InviteRevoked:  "Invitation withdrawn",
}

// openLink finds the invitation of a link and renders the page of an
// unusable one; ok is false when that page was written.
func (s *Server) openLink(c echo.Context) (inv db.Invitation, ok bool, err error) {
	token := c.Param("token")
	if len(token) > 100 {
		token = ""
	}
	inv, err = s.db.InvitationByToken(c.Request().Context(), token)
	if db.ErrorCode(err) == db.ENotFound {
		return inv, false, render(c, http.StatusNotFound, views.AcceptGone(csrfToken(c), "Invitation not valid", db.SafeMessage(err)))
	}
	if err != nil {
		return inv, false, err
	}
	now := s.db.Now()
	if msg := inv.StateMessage(now); msg != "" {
		return inv, false, render(c, http.StatusGone, views.AcceptGone(csrfToken(c), acceptTitles[inv.State(now)], msg))
	}
	return inv, true, nil
}

func (s *Server) acceptPage(c echo.Context) error {
	inv, ok, err := s.openLink(c)
	if !ok {
		return err
	}
	// The page is the same whether or not the address already has a login:
	// the invitee says which, so opening a link tells nobody (an inviter
	// who was shown the link, say) whether the address uses Fleetgate.
	return render(c, http.StatusOK, views.Accept(views.AcceptForm{CSRF: csrfToken(c), Token: c.Param("token"), Inv: inv, Errors: views.FieldMsgs{}}))
}

// accept makes the invited person a member and logs them in: with a new
// login (names and a password), or with the e-mail's existing login after
// checking its current password. The invitee chooses which; a wrong choice
// for an existing login gets the same answer as a wrong password for an
// address without one, so the answers tell whether the address has a login
// only to someone who creates it (and so holds the address's mailbox, the
// link having been sent there).
func (s *Server) accept(c echo.Context) error {
	ctx := c.Request().Context()
	inv, ok, err := s.openLink(c)
	if !ok {
		return err
	}
	token := c.Param("token")
	f := views.AcceptForm{CSRF: csrfToken(c), Token: token, Inv: inv, Existing: c.FormValue("existing") == "1", Errors: views.FieldMsgs{},
		FirstName: clip(c.FormValue("first_name"), 200), LastName: clip(c.FormValue("last_name"), 200)}
	pw := c.FormValue("password")
	var acc db.Acceptance
	if f.Existing {
		// The one password check, throttled and timed alike for an address
		// with or without a login.
		_, wait, ok, err := s.checkLogin(c, "invitation acceptance: password check", inv.Email, pw)
		switch {
		case err != nil:
			return err
		case wait > 0:
			f.Error = fmt.Sprintf("Too many wrong passwords. Try again in %d s.", wait)
			return render(c, http.StatusTooManyRequests, views.Accept(f))
		case !ok:
			f.Errors["password"] = "This is not the password of a Fleetgate login for " + inv.Email + "."
			return render(c, http.StatusUnprocessableEntity, views.Accept(f))
		}
		acc = db.Acceptance{Existing: true}
	} else {
		acc = db.Acceptance{FirstName: f.FirstName, LastName: f.LastName}
		for k, m := range acc.Validate() {
			f.Errors.Add(k, m)
		}
		f.Errors.Add("password", field.Password(pw, inv.Email))
		if f.Errors["password"] == "" {
			f.Errors.Add("password_again", field.PasswordAgain(pw, c.FormValue("password_again")))
		}
		if len(f.Errors) > 0 {
			return render(c, http.StatusUnprocessableEntity, views.Accept(f))
		}
		hash, err := password.Hash(pw)
		if err != nil {
			return err
		}
		acc.PasswordHash = hash
	}
	done, err := s.db.AcceptInvitation(ctx, token, acc)
	if err != nil {
		var fe *db.Error
		if !errors.As(err, &fe) {
			return err
		}
		if fe.Field != "" { // a new login for an address that has one, or the reverse
			f.Error = fe.Message
			return render(c, http.StatusConflict, views.Accept(f))
		}
		return render(c, http.StatusConflict, views.AcceptGone(csrfToken(c), "Invitation not accepted", fe.Message))
	}
	member, err := s.db.ActorByMember(ctx, done.MemberID)
	if err != nil {
		return err
	}
	switch db.WebRefusal(member.Status, member.Channel, member.Builtin) {
	case "mobile":
		return render(c, http.StatusOK, views.AcceptGone(csrfToken(c), "Welcome to "+done.AccountName,
			"You joined "+done.AccountName+". Your access is for the mobile app: sign in there with "+inv.Email+"."))
	case "":
	default:
		return render(c, http.StatusOK, views.AcceptGone(csrfToken(c), "Welcome to "+done.AccountName,
			"You joined "+done.AccountName+". Your role receives e-mails only and does not open the console."))
	}
	// Log in as the new member, like the login form does; a session the
	// browser had before (someone else's, perhaps) ends.
	if old := sessionToken(c); old != "" {
		_ = s.db.EndSession(ctx, old)
	}
	// An existing login with two-factor sign-in gives its code first.
	has, err := s.db.HasTwoFactor(ctx, done.UserID)
	if err != nil {
		return err
	}
	if has {
		pending, err := s.db.CreatePendingLogin(ctx, done.UserID, done.MemberID, homeOf(member))
		if err != nil {
			return err
		}
		s.clearSessionCookie(c)
		s.setPendingCookie(c, pending)
		return c.Redirect(http.StatusSeeOther, "/login/two-factor")
	}
	session, err := s.db.CreateSession(ctx, done.UserID, done.MemberID, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, session)
	s.flash(c, "ok", "Welcome to "+done.AccountName+". You joined as "+member.RoleName+".")
	// Straight to the member's home: going through "/" would spend the welcome message on a redirect.
	return c.Redirect(http.StatusSeeOther, homeOf(member))
}
