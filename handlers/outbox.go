package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// outboxPerPage is how many e-mails a page of Sent e-mails lists.
const outboxPerPage = 50

// outbox lists the account's recent e-mails with their delivery state
// (audit.view), a page at a time by id: ?before=<id> continues.
func (s *Server) outbox(c echo.Context) error {
	before := int64(queryInt(c, "before"))
	pg, err := s.db.Outbox(c.Request().Context(), actor(c), before, outboxPerPage)
	if err != nil {
		return err
	}
	p := views.OutboxPage{Shell: s.shell(c, "Sent e-mails", "/outbox"), Mails: pg.Mails, SMTP: s.cfg.SMTP.Enabled(), First: before == 0,
		Retry: actor(c).Can(perm.UsersManage)}
	if pg.Next != 0 {
		p.NextURL = fmt.Sprintf("/outbox?before=%d", pg.Next)
	}
	return render(c, http.StatusOK, views.Outbox(p))
}

// outboxRetry queues a failed e-mail again (audited); the sender is woken
// at once.
func (s *Server) outboxRetry(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.db.RetryMail(c.Request().Context(), actor(c), id)
	switch {
	case db.ErrorCode(err) == db.EConflict:
		s.flash(c, "error", db.SafeMessage(err))
	case err != nil:
		return err
	default:
		s.flash(c, "ok", "The e-mail \u201c"+m.Subject+"\u201d to "+m.To+" is queued again.")
	}
	return c.Redirect(http.StatusSeeOther, "/outbox")
}
