// Command fleetgate runs the Fleetgate console.
//
//	fleetgate serve [--addr 127.0.0.1:8080] [--db fleetgate.db] [--demo]
//	fleetgate migrate [--db fleetgate.db]
//
// Every flag can also be set by an environment variable: FLEETGATE_ADDR,
// FLEETGATE_DB, FLEETGATE_DEMO, FLEETGATE_SECURE_COOKIES, FLEETGATE_TRUST_PROXY.
// Invitation e-mails: --smtp-host, --smtp-port, --smtp-user, --smtp-password,
// --smtp-from (FLEETGATE_SMTP_HOST, …_PORT, …_USER, …_PASSWORD, …_FROM),
// --base-url (FLEETGATE_BASE_URL) and --invite-ttl (FLEETGATE_INVITE_TTL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fleetgate/db"
	"fleetgate/handlers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleetgate:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, dbPath              string
	demo, secureCookies, hsts bool
	trustProxy                string
	smtp                      handlers.SMTPConfig
	baseURL                   string
	inviteTTL                 time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(out, "usage: fleetgate serve [--addr ADDR] [--db FILE] [--demo] | fleetgate migrate [--db FILE]")
		return nil
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.StringVar(&o.addr, "addr", env("FLEETGATE_ADDR", "127.0.0.1:8080"), "address to listen on")
	fs.StringVar(&o.dbPath, "db", env("FLEETGATE_DB", "fleetgate.db"), "SQLite database file")
	fs.BoolVar(&o.demo, "demo", envBool("FLEETGATE_DEMO"), "create the demo account (once) and print its logins")
	fs.BoolVar(&o.secureCookies, "secure-cookies", envBool("FLEETGATE_SECURE_COOKIES"), "mark cookies Secure (behind a TLS proxy)")
	fs.StringVar(&o.trustProxy, "trust-proxy", env("FLEETGATE_TRUST_PROXY", ""), "addresses of the reverse proxies (IPs or CIDR ranges, comma-separated) whose X-Forwarded-For gives the client address")
	fs.BoolVar(&o.hsts, "hsts", envBool("FLEETGATE_HSTS"), "send Strict-Transport-Security (only when the console is served over TLS)")
	fs.StringVar(&o.smtp.Host, "smtp-host", env("FLEETGATE_SMTP_HOST", ""), "SMTP server for invitation e-mails (none: links go to the log)")
	fs.IntVar(&o.smtp.Port, "smtp-port", envInt("FLEETGATE_SMTP_PORT", 587), "SMTP port (465: TLS from the start; else STARTTLS when offered)")
	fs.StringVar(&o.smtp.User, "smtp-user", env("FLEETGATE_SMTP_USER", ""), "SMTP user for PLAIN authentication (none: no authentication)")
	fs.StringVar(&o.smtp.Password, "smtp-password", env("FLEETGATE_SMTP_PASSWORD", ""), "SMTP password (prefer the environment variable)")
	fs.StringVar(&o.smtp.From, "smtp-from", env("FLEETGATE_SMTP_FROM", ""), "sender of invitation e-mails, e.g. \"Fleetgate <fleet@example.com>\"")
	fs.StringVar(&o.baseURL, "base-url", env("FLEETGATE_BASE_URL", ""), "public address of the console for links in e-mails (default: from each request)")
	fs.DurationVar(&o.inviteTTL, "invite-ttl", envDuration("FLEETGATE_INVITE_TTL", db.InviteTTL), "how long an invitation link is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.smtp.Check(); err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		d, err := db.Open(ctx, o.dbPath)
		if err != nil {
			return err
		}
		defer d.Close()
		v, _ := d.SchemaVersion(ctx)
		fmt.Fprintf(out, "%s is at schema version %d\n", o.dbPath, v)
		return nil
	case "serve":
		return serve(ctx, o, out)
	}
	return fmt.Errorf("unknown command %q (try serve or migrate)", cmd)
}

func serve(ctx context.Context, o options, out io.Writer) error {
	log := slog.New(slog.NewTextHandler(out, nil))
	d, err := db.Open(ctx, o.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if o.demo {
		created, err := d.EnsureDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo account: %w", err)
		}
		printDemo(out, created)
	}
	e, _, err := handlers.New(ctx, d, handlers.Config{SecureCookies: o.secureCookies, TrustedProxies: splitList(o.trustProxy), HSTS: o.hsts, Logger: log,
		SMTP: o.smtp, BaseURL: o.baseURL, InviteTTL: o.inviteTTL})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	fmt.Fprintf(out, "Fleetgate is listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down…")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
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

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// splitList reads a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
