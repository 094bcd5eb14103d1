package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
)

// health is the JSON body of /livez and /readyz: "ok" or "unavailable",
// and for readiness what each check found.
type health struct {
	Status string        `json:"status"`
	Checks *db.Readiness `json:"checks,omitempty"`
}

// livez answers while the process serves requests; it touches nothing else.
func (s *Server) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, health{Status: "ok"})
}

// readyz answers 200 only when the database can be read and written and
// its migrations are current; else 503, naming what failed. Details of
// the failure go to the log.
func (s *Server) readyz(c echo.Context) error {
	r, errs := s.db.Ready(c.Request().Context())
	for _, err := range errs {
		s.log.Warn("readiness check failed", "err", err)
	}
	if !r.OK() {
		return c.JSON(http.StatusServiceUnavailable, health{Status: "unavailable", Checks: &r})
	}
	return c.JSON(http.StatusOK, health{Status: "ok", Checks: &r})
}
