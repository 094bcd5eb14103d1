package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/field"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// The subscription: plan dates, paid vehicles, vehicles in use and the
// accounts it covers (billing.view). With billing.manage: change the paid
// vehicles and the end date, and add another account under it.

func (s *Server) subscriptionView(c echo.Context) (views.SubscriptionPage, error) {
	a := actor(c)
	sub, err := s.db.Subscription(c.Request().Context(), a)
	if err != nil {
		return views.SubscriptionPage{}, err
	}
	return views.SubscriptionPage{Shell: s.shell(c, "Subscription", "/subscription"), S: sub, Expired: sub.Expired(s.db.Now()),
		CanManage: a.Can(perm.BillingManage) && a.PreviewBy == nil,
		Form:      views.SubscriptionForm{PaidVehicles: strconv.Itoa(sub.PaidVehicles), EndsOn: sub.EndsOn.Format(time.DateOnly), Version: sub.Version},
		Errors:    views.FieldMsgs{}, AddErrors: views.FieldMsgs{}}, nil
}

func (s *Server) subscriptionPage(c echo.Context) error {
	p, err := s.subscriptionView(c)
	if err != nil {
		return err
	}
	if c.QueryParam("saved") == "1" {
		p.Saved = "Subscription saved."
	}
	return render(c, http.StatusOK, views.Subscription(p))
}

// subscriptionSave changes the paid vehicles and the end date. It works in
// a read-only account too: it is how the account is renewed.
func (s *Server) subscriptionSave(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.SubscriptionForm{PaidVehicles: strings.TrimSpace(clip(c.FormValue("paid_vehicles"), 20)), EndsOn: strings.TrimSpace(clip(c.FormValue("ends_on"), 20))}
	f.Version, _ = strconv.Atoi(c.FormValue("version"))
	errs := views.FieldMsgs{}
	paid, ok := number(f.PaidVehicles)
	if !ok {
		errs["paid_vehicles"] = "Enter a whole number of vehicles."
	}
	ends, err := time.Parse(time.DateOnly, f.EndsOn)
	if err != nil {
		errs["ends_on"] = "Enter the last day as a date, e.g. 2027-12-31."
	}
	reject := func(status int, whole string) error {
		p, err := s.subscriptionView(c)
		if err != nil {
			return err
		}
		p.Errors, p.Error = errs, whole
		if status == http.StatusConflict {
			p.Form.PaidVehicles, p.Form.EndsOn = f.PaidVehicles, f.EndsOn // typed values stay; the version is the current one
		} else {
			p.Form = f
		}
		return render(c, status, views.Subscription(p))
	}
	if len(errs) > 0 {
		return reject(http.StatusUnprocessableEntity, "")
	}
	err = s.db.UpdateSubscription(ctx, actor(c), db.SubscriptionChange{PaidVehicles: paid, EndsOn: ends, Version: f.Version})
	var fe *db.Error
	if errors.As(err, &fe) {
		switch {
		case fe.Code == db.EConflict:
			return reject(http.StatusConflict, fe.Message)
		case fe.Field != "":
			errs[fe.Field] = fe.Message
			return reject(http.StatusUnprocessableEntity, "")
		}
	}
	if err != nil {
		return err
	}
	s.warnings.Delete(actor(c).SubscriptionID)
	return c.Redirect(http.StatusSeeOther, "/subscription?saved=1")
}

// subscriptionAddAccount creates another account under the subscription
// with the given e-mail as its Owner, who is sent a link to choose a
// password when the e-mail has no login yet.
func (s *Server) subscriptionAddAccount(c echo.Context) error {
	ctx := c.Request().Context()
	add := views.AddAccountForm{Name: strings.TrimSpace(clip(c.FormValue("name"), 200)), OwnerEmail: strings.TrimSpace(clip(c.FormValue("owner_email"), 300))}
	errs := views.FieldMsgs{}
	switch {
	case add.Name == "":
		errs["name"] = "Enter the new account's name."
	case len([]rune(add.Name)) > 100:
		errs["name"] = "Use at most 100 characters."
	case !field.Clean(add.Name):
		errs["name"] = "Use letters, digits, spaces and punctuation only."
	}
	if m := field.Email(add.OwnerEmail); m != "" {
		errs["owner_email"] = m
	}
	reject := func(status int) error {
		p, err := s.subscriptionView(c)
		if err != nil {
			return err
		}
		p.Add, p.AddErrors = add, errs
		return render(c, status, views.Subscription(p))
	}
	if len(errs) > 0 {
		return reject(http.StatusUnprocessableEntity)
	}
	a := actor(c)
	out, err := s.db.AddSubscriptionAccount(ctx, a, add.Name, add.OwnerEmail, s.ownerMail(c))
	if status, ok := formFieldFailure(err, errs); ok {
		return reject(status)
	}
	if err != nil {
		return err
	}
	nl := &views.NewAccountLink{AccountName: out.AccountName, OwnerEmail: out.OwnerEmail, Existing: out.Token == ""}
	if out.Token != "" {
		// The link is in the e-mail queued with the account (or, without
		// a mail server, in the server log).
		nl.Sent, nl.Logged = s.cfg.SMTP.Enabled(), !s.cfg.SMTP.Enabled()
	}
	p, err := s.subscriptionView(c)
	if err != nil {
		return err
	}
	p.NewLink = nl
	return render(c, http.StatusOK, views.Subscription(p))
}

// warningsTTL is how long the subscription warnings of the page frame are
// reused: counting the vehicles in use of a large fleet on every page
// would cost more than the page. A change of the subscription drops them.
const warningsTTL = time.Minute

type cachedWarnings struct {
	list []string
	at   time.Time
}

// subscriptionWarnings are the banners for members with billing.view.
func (s *Server) subscriptionWarnings(c echo.Context, a *db.Actor) []string {
	now := time.Now()
	if v, ok := s.warnings.Load(a.SubscriptionID); ok {
		if w := v.(cachedWarnings); now.Sub(w.at) < warningsTTL {
			return w.list
		}
	}
	list, err := s.db.SubscriptionWarnings(c.Request().Context(), a)
	if err != nil {
		s.log.Error("subscription warnings", "err", err)
		return nil
	}
	s.warnings.Store(a.SubscriptionID, cachedWarnings{list: list, at: now})
	return list
}
