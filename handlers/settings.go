package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/views"
)

// Account settings (account.settings): name, time zone, distance unit,
// invitation lifetime, session lifetime and idle timeout. A save names the
// version it started from; a stale one is refused and the page shows the
// stored values beside what was typed.

func settingsForm(st db.Settings, inviteDefault time.Duration) views.SettingsForm {
	inv := st.InviteTTL
	if inv <= 0 {
		inv = inviteDefault
	}
	return views.SettingsForm{Name: st.AccountName, TimeZone: st.TimeZone, DistanceUnit: st.DistanceUnit,
		InviteDays: strconv.Itoa(max(1, int(inv/(24*time.Hour)))), SessionHours: strconv.Itoa(max(1, int(st.SessionMax/time.Hour))),
		IdleMinutes: strconv.Itoa(int(st.SessionIdle / time.Minute)), Version: st.Version}
}

func (s *Server) settingsPage(c echo.Context) error {
	st, err := s.db.AccountSettings(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	p := views.SettingsPage{Shell: s.shell(c, "Account settings", "/settings"), Form: settingsForm(st, s.defaultInviteTTL()),
		Current: st, Saved: c.QueryParam("saved") == "1", Errors: views.FieldMsgs{}}
	return render(c, http.StatusOK, views.Settings(p))
}

// number reads a whole number a form field holds; ok is false for anything else.
func number(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= 0 && n <= 1_000_000
}

func (s *Server) settingsSave(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.SettingsForm{Name: strings.TrimSpace(clip(c.FormValue("name"), 200)), TimeZone: strings.TrimSpace(clip(c.FormValue("time_zone"), 100)),
		DistanceUnit: c.FormValue("distance_unit"), InviteDays: clip(c.FormValue("invite_days"), 20),
		SessionHours: clip(c.FormValue("session_hours"), 20), IdleMinutes: clip(c.FormValue("idle_minutes"), 20)}
	f.Version, _ = strconv.Atoi(c.FormValue("version"))
	errs := views.FieldMsgs{}
	in := db.Settings{AccountName: f.Name, TimeZone: f.TimeZone, DistanceUnit: f.DistanceUnit, Version: f.Version}
	if n, ok := number(f.InviteDays); ok {
		in.InviteTTL = time.Duration(n) * 24 * time.Hour
	} else {
		errs["invite_ttl"] = "Enter a whole number of days."
	}
	if n, ok := number(f.SessionHours); ok {
		in.SessionMax = time.Duration(n) * time.Hour
	} else {
		errs["session_max"] = "Enter a whole number of hours."
	}
	if n, ok := number(f.IdleMinutes); ok {
		in.SessionIdle = time.Duration(n) * time.Minute
	} else {
		errs["session_idle"] = "Enter a whole number of minutes."
	}
	for k, m := range in.Validate() {
		if errs[k] == "" {
			errs[k] = m
		}
	}
	if errs["invite_ttl"] == "" && (in.InviteTTL < 24*time.Hour) {
		errs["invite_ttl"] = "Choose between 1 and 30 days."
	}
	p := views.SettingsPage{Form: f, Errors: errs}
	if len(errs) > 0 {
		p.Shell = s.shell(c, "Account settings", "/settings")
		return render(c, http.StatusUnprocessableEntity, views.Settings(p))
	}
	cur, err := s.db.SaveSettings(ctx, actor(c), in)
	if db.ErrorCode(err) == db.EConflict {
		// Keep what was typed; show what is stored; the next save starts from it.
		p.Shell = s.shell(c, "Account settings", "/settings")
		p.Current, p.Stale = cur, db.SafeMessage(err)
		p.Form.Version = cur.Version
		return render(c, http.StatusConflict, views.Settings(p))
	}
	if status, ok := formFieldFailure(err, errs); ok {
		p.Shell = s.shell(c, "Account settings", "/settings")
		return render(c, status, views.Settings(p))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings?saved=1")
}
