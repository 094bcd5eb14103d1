package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/views"
)

// subscriptionPage shows the plan dates, the paid vehicles, the vehicles
// in use and the accounts the subscription covers.
func (s *Server) subscriptionPage(c echo.Context) error {
	sub, err := s.db.Subscription(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	p := views.SubscriptionPage{Shell: s.shell(c, "Subscription", "/subscription"), S: sub, Expired: sub.Expired(s.db.Now())}
	return render(c, http.StatusOK, views.Subscription(p))
}
