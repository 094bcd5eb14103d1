package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"path/filepath"
	"strconv"
	"time"

	"fleetgate/db"
	"fleetgate/db/mailer"
	"fleetgate/handlers"
)

type serveOptions struct {
	addr, dbPath        string
	demo, secureCookies bool
	hsts, accessLog     bool
	proxies             []*net.IPNet
	proxiesShown        string
	baseURL             string
	smtp                handlers.SMTPConfig
	inviteTTL           time.Duration
	apiRate, apiBurst   int
	log                 logOptions
	ops                 opsOptions
}

func serveFlags(f *flags) runner {
	o := serveOptions{proxiesShown: "none"}
	f.String(&o.addr, "addr", "FLEETGATE_ADDR", "127.0.0.1:8080", "HOST:PORT", "address to listen on", checkAddr)
	dbFlag(f, &o.dbPath)
	f.Bool(&o.demo, "demo", "FLEETGATE_DEMO", false, "create the demo account (once) and print its logins")
	f.Bool(&o.secureCookies, "secure-cookies", "FLEETGATE_SECURE_COOKIES", false, "mark cookies Secure (set it when a TLS proxy is in front)")
	f.Proxies(&o.proxies, &o.proxiesShown, "trust-proxy", "FLEETGATE_TRUST_PROXY",
		"take the client address from X-Forwarded-For sent by these proxies only (comma-separated addresses or networks)")
	f.Bool(&o.hsts, "hsts", "FLEETGATE_HSTS", false, "send Strict-Transport-Security (one year); only when the console is reached over TLS")
	f.String(&o.baseURL, "base-url", "FLEETGATE_BASE_URL", "", "URL", "public address of the console for links in e-mails (unset: taken from each request)", checkBaseURL)
	f.String(&o.smtp.Host, "smtp-host", "FLEETGATE_SMTP_HOST", "", "HOST", "mail server for the outbox's e-mails (unset: e-mails are written to the log)", checkHost)
	f.Port(&o.smtp.Port, "smtp-port", "FLEETGATE_SMTP_PORT", 587, "its port")
	f.Choice(&o.smtp.TLS, "smtp-tls", "FLEETGATE_SMTP_TLS", mailer.TLSAuto,
		"starttls: upgrade with STARTTLS (required); tls: TLS from the first byte; none: no TLS, only for a local relay; auto: tls on port 465, else starttls",
		mailer.TLSAuto, mailer.TLSStartTLS, mailer.TLSImplicit, mailer.TLSNone)
	f.String(&o.smtp.User, "smtp-user", "FLEETGATE_SMTP_USER", "", "USER", "user for PLAIN authentication (unset: none)", nil)
	f.String(&o.smtp.Password, "smtp-password", "FLEETGATE_SMTP_PASSWORD", "", "PASSWORD", "its password (prefer the environment variable)", nil)
	f.String(&o.smtp.From, "smtp-from", "FLEETGATE_SMTP_FROM", "", "ADDRESS", "sender of the e-mails, e.g. Fleetgate <fleet@example.com> (required with --smtp-host)", nil)
	f.Duration(&o.inviteTTL, "invite-ttl", "FLEETGATE_INVITE_TTL", db.InviteTTL, "how long an invitation link is valid")
	f.Count(&o.apiRate, "api-rate", "FLEETGATE_API_RATE", 20, "requests a second each API token may send on average (0: no limit); more are answered 429")
	f.Count(&o.apiBurst, "api-burst", "FLEETGATE_API_BURST", 40, "requests an API token may send at once before --api-rate applies")
	f.Bool(&o.accessLog, "access-log", "FLEETGATE_ACCESS_LOG", true, "log every request: method, path, status, duration, member, request id")
	logFlags(f, &o.log)
	opsFlags(f, &o.ops)
	f.check(func() error {
		if !db.IsPostgres(o.dbPath) {
			return nil
		}
		// What the server does to its SQLite file has no meaning on
		// PostgreSQL, whose server keeps and backs up its data.
		switch {
		case o.ops.backupEvery > 0:
			return errors.New("--backup-every and --backup-dir back up a SQLite file: back up a PostgreSQL database with pg_dump (README: Running on PostgreSQL)")
		case o.ops.durability == "full":
			return errors.New("--durability is SQLite's: on PostgreSQL every commit is durable unless its server's synchronous_commit says otherwise")
		}
		return nil
	})
	f.check(func() error {
		if o.smtp.Host == "" {
			return nil
		}
		if _, err := mail.ParseAddress(o.smtp.From); err != nil {
			return fmt.Errorf("--smtp-from (FLEETGATE_SMTP_FROM) %q is not an e-mail address; it is required with --smtp-host", o.smtp.From)
		}
		// Links that leave by e-mail must not be built from the Host header
		// of whoever asked for them (a forged Host would send a victim a
		// reset link to another site).
		if o.baseURL == "" {
			return errors.New("--base-url (FLEETGATE_BASE_URL) is required with --smtp-host: e-mailed links must not be built from a request's Host header")
		}
		return nil
	})
	return o.run
}

func (o *serveOptions) run(ctx context.Context, c *cli) error {
	log := o.log.logger(c.out)
	v, commit := versionInfo()
	log.Info("starting Fleetgate", "version", v, "commit", commit)
	pg := db.IsPostgres(o.dbPath)
	path := db.Redact(o.dbPath) // a PostgreSQL address without its password
	if !pg {
		if abs, err := filepath.Abs(o.dbPath); err == nil {
			path = abs
		}
		// While the server runs it holds the database's lock: restore and
		// migrate refuse to touch the file, and a second server refuses
		// to start. Several servers share one PostgreSQL database.
		lock, err := db.TryLock(o.dbPath, "fleetgate serve")
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	d, err := db.OpenWith(ctx, o.dbPath, db.Options{Durability: o.ops.durability, BackedUp: func(file string) {
		log.Info("backed up the database before migrating", "file", file)
	}})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	schema, err := d.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	if pg {
		log.Info("database opened", "database", path, "store", "postgres", "schema_version", schema)
	} else {
		log.Info("database opened", "database", path, "schema_version", schema, "durability", o.ops.durability)
	}
	if o.demo {
		// Instances started together on one PostgreSQL database: one
		// makes the demo account, the others leave it to that one.
		var created bool
		_, err := d.Exclusive(ctx, "demo", func(ctx context.Context) (err error) {
			created, err = d.EnsureDemo(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("demo account: %w", err)
		}
		printDemo(c.out, created)
	}
	var metrics *handlers.Metrics
	if o.ops.metricsAddr != "" {
		metrics = handlers.NewMetrics()
	}
	e, hs, err := handlers.New(ctx, d, handlers.Config{SecureCookies: o.secureCookies, TrustedProxies: o.proxies, HSTS: o.hsts, Logger: log,
		AccessLog: o.accessLog, SMTP: o.smtp, BaseURL: o.baseURL, InviteTTL: o.inviteTTL, Metrics: metrics,
		APIRate: float64(o.apiRate), APIBurst: o.apiBurst})
	if err != nil {
		return err
	}
	if o.smtp.Enabled() {
		log.Info("e-mail is set up", "smtp", net.JoinHostPort(o.smtp.Host, strconv.Itoa(o.smtp.Port)), "tls", o.smtp.Mode(),
			"from", o.smtp.From, "auth", o.smtp.User != "")
	} else {
		log.Info("e-mail is not set up: e-mails are written to this log, invitation links also shown once in the console (see --smtp-host)")
		if o.baseURL == "" {
			log.Warn("no --base-url: links shown in the console are built from each request's Host header; set --base-url to the console's public address")
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 2)
	var msrv *http.Server
	if metrics != nil {
		mln, err := net.Listen("tcp", o.ops.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s for metrics: %w", o.ops.metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics are served", "url", "http://"+mln.Addr().String()+"/metrics")
		go func() { errc <- msrv.Serve(mln) }()
	}
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	w := o.ops.startWorkers(jobs, d, log, o.smtp)
	log.Info("Fleetgate is listening", "url", "http://"+ln.Addr().String(), "secure_cookies", o.secureCookies,
		"trust_proxy", o.proxiesShown, "access_log", o.accessLog)
	// The setup code is in the log line above; a text console also gets it
	// on its own line (a JSON log stays one object per line).
	if code := hs.SetupCode(); code != "" && o.log.format != "json" {
		fmt.Fprintf(c.out, "\nNo account yet. To set up Fleetgate, open http://%s/setup and enter the setup code\n\n    %s\n\n"+
			"It works once and changes at every start. (Or: fleetgate account create --name NAME --owner-email EMAIL)\n\n", ln.Addr(), code)
	}
	if c.ready != nil {
		c.ready(ln.Addr())
	}
	if c.stopping != nil {
		srv.RegisterOnShutdown(c.stopping)
	}
	go func() { errc <- srv.Serve(ln) }()
	var served error
	select {
	case served = <-errc:
	case <-ctx.Done():
	}

	// Graceful shutdown: stop accepting, let requests in progress finish
	// within the grace, stop the background jobs, checkpoint the database.
	log.Info("shutting down", "grace", o.ops.shutdownGrace)
	shut, cancel := context.WithTimeout(context.Background(), o.ops.shutdownGrace)
	defer cancel()
	if msrv != nil {
		_ = msrv.Shutdown(shut)
	}
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("requests still in progress after the grace were cut", "grace", o.ops.shutdownGrace)
		srv.Close()
	}
	stopJobs()
	w.wait()
	closed = true
	if err := d.Close(); err != nil {
		log.Error("closing the database", "err", err)
	} else if pg {
		log.Info("database closed", "database", path)
	} else {
		log.Info("database checkpointed and closed", "database", path)
	}
	log.Info("stopped")
	if served != nil && !errors.Is(served, http.ErrServerClosed) {
		return served
	}
	return nil
}

func printDemo(out io.Writer, created bool) {
	if created {
		fmt.Fprintf(out, "Created the demo account %q.\n", db.DemoAccountName)
	}
	fmt.Fprintf(out, "Demo logins (password %q):\n", db.DemoPassword)
	for _, l := range db.DemoLogins {
		fmt.Fprintf(out, "  %-26s %s\n", l.Email, l.Role)
	}
}
