package handlers

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/views"
)

// API tokens for integrations, made and revoked on My profile by any
// member, whatever their channel. A read-only token is refused every
// change by authorize.

// profileTokenCreate makes a named token and shows it once on My profile.
func (s *Server) profileTokenCreate(c echo.Context) error {
	a := me(c)
	p, err := s.profileView(c)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(c.FormValue("days"))
	p.TokenForm = views.TokenForm{Name: clip(c.FormValue("name"), 200), Days: days, ReadOnly: c.FormValue("read_only") == "1", Errors: views.FieldMsgs{}}
	token, expires, err := s.db.CreateIntegrationToken(c.Request().Context(), a, p.TokenForm.Name, days, p.TokenForm.ReadOnly)
	if err != nil {
		if st, ok := formFieldFailure(err, p.TokenForm.Errors); ok {
			if p.TokenForm.Days == 0 {
				p.TokenForm.Days = db.DefaultTokenDays
			}
			return render(c, st, views.Profile(p))
		}
		return err
	}
	s.security(c, slog.LevelInfo, "API token created", "member_id", a.MemberID, "user_id", a.UserID, "token_name", p.TokenForm.Name,
		"kind", db.TokenIntegration, "read_only", p.TokenForm.ReadOnly)
	if p.Tokens, err = s.db.OwnTokens(c.Request().Context(), a); err != nil {
		return err
	}
	p.TokenForm = views.TokenForm{Days: db.DefaultTokenDays, Errors: views.FieldMsgs{}, New: token, NewName: p.TokenForm.Name,
		NewExpiry: expires.Format(time.DateOnly)}
	return render(c, http.StatusOK, views.Profile(p))
}

// profileTokenRevoke ends one of the login's tokens.
func (s *Server) profileTokenRevoke(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.RevokeOwnToken(c.Request().Context(), me(c), id); err != nil {
		return err
	}
	s.flash(c, "ok", "The token was revoked.")
	return c.Redirect(http.StatusSeeOther, "/profile#api-tokens")
}
