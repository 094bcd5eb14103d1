package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
)

// The request id: taken from X-Request-Id when a proxy sent a sensible
// one, else made here; echoed in the answer, written in every access-log
// line and shown on error pages, so a user's report finds its log line.
const (
	requestIDHeader = "X-Request-Id"
	ctxRequestID    = "request-id"
)

func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(requestIDHeader)
		if !goodRequestID(id) {
			id = db.NewToken()[:16]
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(requestIDHeader, id)
		return next(c)
	}
}

// goodRequestID accepts up to 64 letters, digits, '-', '_' and '.'.
func goodRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// accessLog writes one line per request once it is answered. It runs
// outside the rest of the chain and answers errors itself (through the
// error handler) so that the status it logs is the one sent.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req := c.Request()
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", c.Response().Size),
			slog.String("ip", c.RealIP()),
			slog.String("request_id", requestIDOf(c)),
		}
		if a := actor(c); a != nil {
			attrs = append(attrs, slog.Int64("member_id", a.MemberID))
			if a.PreviewBy != nil {
				attrs = append(attrs, slog.Int64("preview_by", a.PreviewBy.MemberID))
			}
		}
		s.log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// security logs an event of interest to whoever watches the server:
// failed and throttled logins, lockouts, password changes, new tokens.
// Each line names the client address and the request id.
func (s *Server) security(c echo.Context, level slog.Level, msg string, args ...any) {
	args = append(args, "ip", c.RealIP(), "request_id", requestIDOf(c))
	s.log.Log(context.WithoutCancel(c.Request().Context()), level, msg, args...)
}
