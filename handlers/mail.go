package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/mailer"
)

// E-mail: handlers compose the messages their changes cause and the db
// method making the change writes them to the outbox in its transaction;
// the background sender (db/mailer, started by serve) delivers them, or
// writes them to the server log when no mail server is set up.

// SMTPConfig says how to reach the mail server (see mailer.Config).
type SMTPConfig = mailer.Config

// mailTime is how e-mails state a link's end.
func mailTime(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// inviteURL is the absolute address of an invitation link.
func (s *Server) inviteURL(c echo.Context, token string) string {
	return s.absURL(c, "/invite/"+token)
}

// invitationMail composes the invitation e-mail with the link of its token.
func (s *Server) invitationMail(c echo.Context) db.InvitationMail {
	return func(inv db.Invitation, token string) db.Mail {
		return db.Mail{Kind: "invitation",
			Subject: fmt.Sprintf("You are invited to %s on Fleetgate", inv.AccountName),
			Body: fmt.Sprintf("Hello,\n\n%s invites you to join %s on Fleetgate as %s.\n\n"+
				"Open this link to accept. It works once, until %s:\n\n%s\n\n"+
				"If you did not expect this invitation, you can ignore this e-mail.\n",
				inv.InvitedBy, inv.AccountName, inv.RoleName, mailTime(inv.ExpiresAt), s.inviteURL(c, token))}
	}
}

// resetMail composes the e-mail of a password reset link; by names who
// sent it ("" for the login page's "Forgot password?").
func (s *Server) resetMail(c echo.Context, by string) db.ResetMail {
	return func(l db.ResetLink) db.Mail {
		intro := "someone asked for a new password for your Fleetgate login"
		if by != "" {
			intro = by + " sent you a link to choose a new password for your Fleetgate login"
		}
		return db.Mail{Kind: "password.reset", Subject: "Choose a new Fleetgate password",
			Body: fmt.Sprintf("Hello %s,\n\n%s.\n\nOpen this link to choose it. It works once, until %s:\n\n%s\n\n"+
				"When you save the new password, every session and app token of your login ends.\n"+
				"If you did not ask for this, ignore this e-mail: your password stays as it is.\n",
				l.Name, intro, mailTime(l.ExpiresAt), s.absURL(c, "/reset/"+l.Token))}
	}
}

// ownerMail composes the e-mail to the Owner of an account added to the
// subscription: a link to choose a password for a new login, else where
// to find the account (nothing when the actor made it for themselves).
func (s *Server) ownerMail(c echo.Context) func(db.OwnerAccount) (db.Mail, bool) {
	a := actor(c)
	return func(out db.OwnerAccount) (db.Mail, bool) {
		intro := "Hello,\n\n" + a.Name() + " created the Fleetgate account " + out.AccountName + " with you as its Owner.\n\n"
		m := db.Mail{Kind: "account.owner", Subject: "Your Fleetgate account " + out.AccountName}
		switch {
		case out.Token != "":
			m.Body = intro + "Open this link to choose your password. It works once, until " + mailTime(out.ExpiresAt) + ":\n\n" +
				s.absURL(c, "/reset/"+out.Token) + "\n"
		case !strings.EqualFold(out.OwnerEmail, a.Email):
			m.Body = intro + "Log in with your usual password and choose it in the account switcher at the top of the console:\n\n" +
				s.absURL(c, "/login") + "\n"
		default:
			return m, false
		}
		return m, true
	}
}
