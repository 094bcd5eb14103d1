// Package handlers is Fleetgate's HTTP layer: the route table, the one
// middleware chain (headers, CSRF, session, policy) and a file of handlers
// per screen. Handlers read the actor the policy loaded; they never check
// permissions themselves.
package handlers

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	// TrustedProxies are the reverse proxies in front of the console: only
	// a request coming from one of them has its client address taken from
	// X-Forwarded-For (for login throttling and the logs). Empty: the
	// header is ignored.
	TrustedProxies []*net.IPNet
	// HSTS sends Strict-Transport-Security (one year) for deployments
	// served over TLS only; browsers then refuse plain HTTP to the host.
	HSTS   bool
	Logger *slog.Logger
	// AccessLog writes a line per request to Logger (method, path,
	// status, duration, member, request id).
	AccessLog bool

	// SMTP is the mail server of the outbox's sender (handlers/mail.go);
	// handlers read only whether one is set up, to say where a link went.
	SMTP SMTPConfig
	// BaseURL is the console's public address for links in e-mails, e.g.
	// https://fleet.example.com; empty takes it from each request.
	BaseURL string
	// InviteTTL is how long an invitation link is valid (0: 7 days).
	InviteTTL time.Duration
	// Metrics, when set, counts requests and refused logins (NewMetrics).
	Metrics *Metrics
	// APIRate is how many requests a second each API token may send on
	// average, APIBurst how many at once (0: no limit). More are answered
	// 429 with Retry-After.
	APIRate  float64
	APIBurst int
	// NoUseRecording turns off noting which permissions requests use (for
	// the access review); benchmarks compare the cost with and without.
	NoUseRecording bool
}

// Server holds what handlers share.
type Server struct {
	db      *db.DB
	cfg     Config
	cookies *sessions.CookieStore
	log     *slog.Logger
	table   []Route
	csrfKey []byte // derives each session's CSRF token

	// setupDone is set once an account exists: /setup is gone for good.
	setupDone atomic.Bool
	setupCode string
	// warnings caches the subscription banners per subscription id.
	warnings sync.Map
	// limiter is the request bucket of each API token (nil: no limit).
	limiter *apiLimiter
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
	store := sessions.NewCookieStore(key)
	store.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(db.MaxAge / time.Second)}
	s := &Server{db: d, cfg: cfg, cookies: store, log: cfg.Logger, csrfKey: csrfKey, limiter: newAPILimiter(cfg.APIRate, cfg.APIBurst)}
	d.SetLinkBase(cfg.BaseURL) // links in the e-mails the db writes to the outbox

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	// The middleware order, written once: headers first (so that every
	// answer carries them, a refused oversized body too), the request id,
	// metrics and the access log, recover, limits, then the session, CSRF
	// and the API token's request bucket.
	// Authorization is attached per route from the route table, after these.
	e.Use(s.securityHeaders)
	e.Use(requestID)
	if cfg.Metrics != nil {
		if err := cfg.Metrics.reg.Register(dbPools{d}); err != nil {
			return nil, nil, err
		}
		e.Use(cfg.Metrics.middleware) // sees the final status of every request
	}
	if cfg.AccessLog {
		e.Use(s.accessLog)
	}
	e.Use(compress())
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.loadSession)
	e.Use(s.csrf)
	e.Use(s.throttle)
	s.table = s.routes()
	for _, r := range s.table {
		r.register(e, s)
	}
	if err := s.prepareSetup(ctx); err != nil {
		return nil, nil, err
	}
	return e, s, nil
}

// gzipMinLength is the smallest answer worth compressing: below about a
// packet, gzip saves nothing.
const gzipMinLength = 1400

// compress gzips answers of at least gzipMinLength bytes for clients that
// accept it, at gzip's fastest level: the default level (6) spent a fifth
// of a list page's CPU in the compressor (README, Performance), for
// answers only a little smaller. Streamed exports stay streamed (a flush flushes the
// compressor too). Left alone: zip files (already compressed), the
// health and metrics addresses (probes and scrapers read them plainly),
// and range requests of static files.
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		MinLength: gzipMinLength,
		Level:     gzip.BestSpeed,
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			switch {
			case strings.HasSuffix(p, ".zip"), p == "/livez", p == "/readyz", p == "/healthz", p == "/metrics":
				return true
			}
			return c.Request().Header.Get("Range") != ""
		},
	})
}

// Table returns the route table (for tests that walk it).
func (s *Server) Table() []Route { return s.table }
