// Package handlers is Fleetgate's HTTP layer: the route table, the one
// middleware chain (headers, CSRF, session, policy) and a file of handlers
// per screen. Handlers read the actor the policy loaded; they never check
// permissions themselves.
package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"fleetgate/db"
)

// Config is what the server needs from the command line.
type Config struct {
	// SecureCookies marks cookies Secure even on plain HTTP (behind a
	// TLS-terminating proxy). Requests over TLS get Secure cookies anyway.
	SecureCookies bool
	// TrustedProxies are the addresses (IPs or CIDR ranges) of the reverse
	// proxies in front of the console: only a request coming from one of
	// them has its client address taken from X-Forwarded-For (for login
	// throttling and the logs). Empty: X-Forwarded-For is ignored.
	TrustedProxies []string
	// HSTS sends Strict-Transport-Security (one year) for deployments
	// served over TLS only; browsers then refuse plain HTTP to the host.
	HSTS   bool
	Logger *slog.Logger

	// Invitations (handlers/mail.go): SMTP sends invitation e-mails when
	// its Host is set, else links go to the log and the pending list.
	SMTP SMTPConfig
	// BaseURL is the console's public address for links in e-mails, e.g.
	// https://fleet.example.com; empty takes it from each request.
	BaseURL string
	// InviteTTL is how long an invitation link is valid (0: 7 days).
	InviteTTL time.Duration
}

// Server holds what handlers share.
type Server struct {
	db      *db.DB
	cfg     Config
	cookies *sessions.CookieStore
	log     *slog.Logger
	table   []Route
	csrfKey []byte // derives each session's CSRF token
}

// trustOptions turns the configured proxy addresses into Echo's trust
// options: those ranges only, not every private or loopback address.
func trustOptions(proxies []string) ([]echo.TrustOption, error) {
	if len(proxies) == 0 {
		return nil, nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR range", p)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return opts, nil
}

// New builds the Echo instance with every route of the route table.
func New(ctx context.Context, d *db.DB, cfg Config) (*echo.Echo, *Server, error) {
	key, err := d.Secret(ctx, "cookie-hash-key", 64)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	csrfKey, err := d.Secret(ctx, "csrf-key", 32)
	if err != nil {
		return nil, nil, err
	}
	trusted, err := trustOptions(cfg.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	store := sessions.NewCookieStore(key)
	store.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(db.MaxAge / time.Second)}
	s := &Server{db: d, cfg: cfg, cookies: store, log: cfg.Logger, csrfKey: csrfKey}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	if len(trusted) > 0 {
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trusted...)
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	// The middleware order, written once: headers first (so that every
	// answer carries them, a refused oversized body too), recover, limits,
	// then the session and CSRF. Authorization is attached per route from
	// the route table, after these.
	e.Use(s.securityHeaders)
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.loadSession)
	e.Use(s.csrf)
	s.table = s.routes()
	for _, r := range s.table {
		r.register(e, s)
	}
	return e, s, nil
}

// Table returns the route table (for tests that walk it).
func (s *Server) Table() []Route { return s.table }
