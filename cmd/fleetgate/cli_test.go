package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs a command line in-process with the given environment (and
// nothing of the process's), returning the exit status main would use, what
// was written, and the error main would print.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, out string, err error) {
	t.Helper()
	var buf syncBuffer
	c := &cli{out: &buf, lookup: mapEnv(env)}
	ctx := context.Background()
	err = c.run(ctx, args)
	return exitCode(ctx, err), buf.String(), err
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// TestBadCommandLines: every bad flag, argument or environment value stops
// the start with one line naming it and exit status 2, before anything is
// opened or listened on.
func TestBadCommandLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "ok.db")
	const pgAddr = "postgres://fleet:s3cret-pw@db.example.com/fleet"
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // each in the one line
	}{
		{"value given to a switch with a space", nil, []string{"serve", "--demo", "true", "--addr", "127.0.0.1:9000", "--db", db},
			[]string{`unexpected argument "true"`, "4 more", "--demo=true"}},
		{"any proxy", map[string]string{"FLEETGATE_TRUST_PROXY": "true"}, []string{"serve", "--db", db}, []string{`FLEETGATE_TRUST_PROXY="true"`, "name the proxies' addresses"}},
		{"proxy not an address", map[string]string{"FLEETGATE_TRUST_PROXY": "10.0.0.1,proxy.local"}, []string{"serve", "--db", db}, []string{`FLEETGATE_TRUST_PROXY="10.0.0.1,proxy.local"`, "proxy addresses"}},
		{"extra argument", nil, []string{"serve", "--db", db, "extra"}, []string{`unexpected argument "extra"`, "takes only flags"}},
		{"argument to migrate", nil, []string{"migrate", db}, []string{"fleetgate migrate:", `unexpected argument "` + db + `"`}},
		{"argument to version", nil, []string{"version", "now"}, []string{`unexpected argument "now"`}},
		{"unknown flag", nil, []string{"serve", "--db", db, "--port", "80"}, []string{"unknown flag --port", "fleetgate serve --help"}},
		{"serve flag given to migrate", nil, []string{"migrate", "--addr", "127.0.0.1:1"}, []string{"fleetgate migrate:", "unknown flag --addr"}},
		{"flag without its value", nil, []string{"serve", "--db", db, "--addr"}, []string{"--addr needs a value"}},
		{"port not a number in the address", nil, []string{"serve", "--db", db, "--addr", "127.0.0.1:http"}, []string{`--addr "127.0.0.1:http"`, `port "http" is not a number`}},
		{"address without a port", nil, []string{"serve", "--db", db, "--addr", "localhost"}, []string{`--addr "localhost"`, "host:port"}},
		{"address from the environment", map[string]string{"FLEETGATE_ADDR": ":99999"}, []string{"serve", "--db", db}, []string{`FLEETGATE_ADDR=":99999"`, "not a number"}},
		{"empty database path", nil, []string{"serve", "--db", ""}, []string{`--db ""`, "is empty"}},
		{"blank database path", nil, []string{"serve", "--db", "  "}, []string{`--db "  "`, "is empty"}},
		{"database path with a question mark", nil, []string{"serve", "--db", "a?b.db"}, []string{`--db "a?b.db"`, "contains ?"}},
		{"database path with a hash", nil, []string{"migrate", "--db", "a#b.db"}, []string{`--db "a#b.db"`, "contains ? or #"}},
		{"in-memory database", nil, []string{"serve", "--db", ":memory:"}, []string{`--db ":memory:"`, "plain file path"}},
		{"database URI", nil, []string{"serve", "--db", "file:x.db"}, []string{`--db "file:x.db"`, "plain file path"}},
		{"database is a directory", nil, []string{"serve", "--db", dir}, []string{"is a directory"}},
		{"database in a missing directory", nil, []string{"migrate", "--db", filepath.Join(dir, "nope", "x.db")}, []string{"does not exist"}},
		{"database under a file", nil, []string{"serve", "--db", filepath.Join(notDir, "x.db")}, []string{"is not a directory"}},
		{"database from the environment", map[string]string{"FLEETGATE_DB": "a?b.db"}, []string{"serve"}, []string{`FLEETGATE_DB="a?b.db"`, "contains ?"}},
		{"smtp port not a number", map[string]string{"FLEETGATE_SMTP_PORT": "abc"}, []string{"serve", "--db", db}, []string{`FLEETGATE_SMTP_PORT="abc"`, "not a port number"}},
		{"smtp port out of range", nil, []string{"serve", "--db", db, "--smtp-port", "70000"}, []string{`--smtp-port "70000"`, "1-65535"}},
		{"smtp host with a port", nil, []string{"serve", "--db", db, "--smtp-host", "mail.example.com:25", "--smtp-from", "a@example.com"}, []string{`--smtp-host "mail.example.com:25"`, "own flag"}},
		{"smtp host without a sender", nil, []string{"serve", "--db", db, "--smtp-host", "mail.example.com"}, []string{"--smtp-from (FLEETGATE_SMTP_FROM)", "required with --smtp-host"}},
		{"smtp without a base URL", map[string]string{"FLEETGATE_SMTP_HOST": "mail.example.com", "FLEETGATE_SMTP_FROM": "fleet@example.com"}, []string{"serve", "--db", db}, []string{"--base-url (FLEETGATE_BASE_URL) is required with --smtp-host"}},
		{"smtp sender not an address", map[string]string{"FLEETGATE_SMTP_HOST": "mail.example.com", "FLEETGATE_SMTP_FROM": "Fleetgate"}, []string{"serve", "--db", db}, []string{`--smtp-from (FLEETGATE_SMTP_FROM) "Fleetgate"`}},
		{"duration in days", map[string]string{"FLEETGATE_INVITE_TTL": "7d"}, []string{"serve", "--db", db}, []string{`FLEETGATE_INVITE_TTL="7d"`, "unit"}},
		{"duration without a unit", nil, []string{"serve", "--db", db, "--invite-ttl", "10"}, []string{`--invite-ttl "10"`, "unit"}},
		{"zero duration", nil, []string{"serve", "--db", db, "--invite-ttl=0s"}, []string{`--invite-ttl "0s"`, "longer than zero"}},
		{"negative duration", map[string]string{"FLEETGATE_INVITE_TTL": "-1h"}, []string{"serve", "--db", db}, []string{`FLEETGATE_INVITE_TTL="-1h"`, "longer than zero"}},
		{"switch with a word", nil, []string{"serve", "--db", db, "--demo=maybe"}, []string{`--demo "maybe"`, "not true or false"}},
		{"switch from the environment", map[string]string{"FLEETGATE_DEMO": "maybe"}, []string{"serve", "--db", db}, []string{`FLEETGATE_DEMO="maybe"`, "not true or false"}},
		{"secure cookies from the environment", map[string]string{"FLEETGATE_SECURE_COOKIES": "enabled"}, []string{"serve", "--db", db}, []string{`FLEETGATE_SECURE_COOKIES="enabled"`}},
		{"trust proxy from the environment", map[string]string{"FLEETGATE_TRUST_PROXY": "2"}, []string{"serve", "--db", db}, []string{`FLEETGATE_TRUST_PROXY="2"`}},
		{"access log from the environment", map[string]string{"FLEETGATE_ACCESS_LOG": "nah"}, []string{"serve", "--db", db}, []string{`FLEETGATE_ACCESS_LOG="nah"`}},
		{"log level", nil, []string{"serve", "--db", db, "--log-level", "verbose"}, []string{`--log-level "verbose"`, "debug, info, warn, error"}},
		{"log format from the environment", map[string]string{"FLEETGATE_LOG_FORMAT": "xml"}, []string{"serve", "--db", db}, []string{`FLEETGATE_LOG_FORMAT="xml"`, "text, json"}},
		{"base url without a scheme", nil, []string{"serve", "--db", db, "--base-url", "fleet.example.com"}, []string{`--base-url "fleet.example.com"`, "https://"}},
		{"base url with a query", map[string]string{"FLEETGATE_BASE_URL": "https://fleet.example.com/?a=1"}, []string{"serve", "--db", db}, []string{"FLEETGATE_BASE_URL="}},
		{"a bad environment value is refused even when the flag is given", map[string]string{"FLEETGATE_SMTP_PORT": "abc"}, []string{"serve", "--db", db, "--smtp-port", "25"}, []string{`FLEETGATE_SMTP_PORT="abc"`}},
		{"no command", nil, nil, []string{"no command given", "fleetgate --help"}},
		{"help on an unknown command", nil, []string{"help", "start"}, []string{`no help on "start"`, "serve, migrate, backup, restore, copy, account, version"}},
		{"unknown command", nil, []string{"start"}, []string{`unknown command "start"`, "serve, migrate, backup, restore, copy, account, version"}},
		// PostgreSQL: what works on a SQLite file only is refused with
		// what to use instead; an address is never shown with its password.
		{"backup of PostgreSQL", nil, []string{"backup", filepath.Join(dir, "b.db"), "--db", pgAddr}, []string{"fleetgate backup:", "pg_dump"}},
		{"restore into PostgreSQL", map[string]string{"FLEETGATE_DB": pgAddr}, []string{"restore", notDir}, []string{"pg_restore"}},
		{"scheduled backups of PostgreSQL", map[string]string{"FLEETGATE_DB": pgAddr}, []string{"serve", "--backup-dir", dir, "--backup-every", "1h"}, []string{"--backup-every", "pg_dump"}},
		{"full durability on PostgreSQL", nil, []string{"serve", "--db", pgAddr, "--durability", "full"}, []string{"--durability is SQLite's", "synchronous_commit"}},
		{"PostgreSQL address without a server", nil, []string{"serve", "--db", "postgres://fleet:s3cret-pw@/fleet"}, []string{`--db "postgres://fleet:xxxxx@/fleet"`, "names no server"}},
		{"PostgreSQL address that does not parse", map[string]string{"FLEETGATE_DB": "postgres://fleet:s3cret-pw@db.example.com:port/fleet"}, []string{"migrate"}, []string{`FLEETGATE_DB="postgres://…"`, "not a PostgreSQL address"}},
		{"copy without --to", nil, []string{"copy", "--from", notDir}, []string{"--to is required"}},
		{"copy to a file", nil, []string{"copy", "--from", notDir, "--to", db}, []string{"--to", "must be a PostgreSQL database"}},
		{"copy from PostgreSQL", nil, []string{"copy", "--from", pgAddr, "--to", pgAddr}, []string{"--from", "must be a SQLite file"}},
		{"flag before the command", nil, []string{"--addr", "127.0.0.1:1", "serve"}, []string{"--addr must come after a command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, err := runCLI(t, tt.env, tt.args...)
			if code != 2 {
				t.Fatalf("exit status %d, want 2 (err %v)", code, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fleetgate") {
				t.Errorf("want one line starting with fleetgate, got %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if out != "" {
				t.Errorf("wrote %q before refusing", out)
			}
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("the message shows the database's password: %q", msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused start created the database: %v", err)
	}
}

// TestGoodValues: the spellings the help promises are accepted.
func TestGoodValues(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"FLEETGATE_DEMO": "yes", "FLEETGATE_SECURE_COOKIES": "0", "FLEETGATE_TRUST_PROXY": "false", "FLEETGATE_ACCESS_LOG": "FALSE"},
		{"FLEETGATE_INVITE_TTL": "36h30m", "FLEETGATE_SMTP_PORT": "465", "FLEETGATE_LOG_LEVEL": "WARN", "FLEETGATE_LOG_FORMAT": "json"},
		{"FLEETGATE_SMTP_HOST": "mail.example.com", "FLEETGATE_SMTP_FROM": "Fleetgate <fleet@example.com>", "FLEETGATE_BASE_URL": "https://fleet.example.com/console"},
		{"FLEETGATE_DB": "", "FLEETGATE_ADDR": ""}, // empty is unset
		{"FLEETGATE_TRUST_PROXY": "127.0.0.1, 10.0.0.0/8,::1"},
	} {
		f := newFlags("serve", mapEnv(env))
		serveFlags(f)
		if err := f.parse([]string{"--db", filepath.Join(t.TempDir(), "x.db"), "--addr=:0", "--demo=false"}); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

// TestHelp: fleetgate --help lists the commands; each command's --help and
// -h exit 0 and name every flag of that command with its variable.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, err := runCLI(t, nil, args...)
		if code != 0 || err != nil {
			t.Fatalf("%v: status %d, %v", args, code, err)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("%v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	for _, c := range commands {
		f := newFlags(c.name, mapEnv(nil))
		c.flags(f)
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}, {c.name, "--db", "x.db", "-help"}} {
			if c.name != "serve" && c.name != "migrate" && len(args) == 4 {
				continue
			}
			code, out, err := runCLI(t, nil, args...)
			if code != 0 || err != nil {
				t.Fatalf("%v: status %d, %v", args, code, err)
			}
			if !strings.HasPrefix(out, "Usage: fleetgate "+c.name) {
				t.Errorf("%v: help starts with %q", args, strings.SplitN(out, "\n", 2)[0])
			}
			for _, b := range f.list {
				if !strings.Contains(out, "--"+b.name) || !strings.Contains(out, "env "+b.env) {
					t.Errorf("%v: help does not name --%s and %s:\n%s", args, b.name, b.env, out)
				}
				if b.def != "" && !strings.Contains(out, b.env+", default "+b.def+"\n") {
					t.Errorf("%v: help does not give the default of --%s (%s)", args, b.name, b.def)
				}
			}
		}
	}
	// migrate's help lists only its own flags.
	_, out, _ := runCLI(t, nil, "migrate", "--help")
	if strings.Contains(out, "--addr") || strings.Contains(out, "--smtp") {
		t.Errorf("migrate --help lists serve's flags:\n%s", out)
	}
}

// TestVersion: --version and the version command print the version and
// the commit.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, out, err := runCLI(t, nil, args...)
		if code != 0 || err != nil {
			t.Fatalf("%v: status %d, %v", args, code, err)
		}
		if !strings.HasPrefix(out, "fleetgate ") || !strings.Contains(out, "(commit ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v printed %q", args, out)
		}
	}
}

// TestExitCodes: usage errors are 2, an interrupted run is 0, others 1.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{live, nil, 0},
		{live, usageError{msg: "x"}, 2},
		{live, fmt.Errorf("wrapped: %w", usageError{msg: "x"}), 2},
		{live, errors.New("disk full"), 1},
		{live, context.Canceled, 1}, // canceled by something else than a signal
		{stopped, fmt.Errorf("open: %w", context.Canceled), 0},
		{stopped, errors.New("disk full"), 1},
	}
	for i, tt := range tests {
		if got := exitCode(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%d: exitCode(%v) = %d, want %d", i, tt.err, got, tt.want)
		}
	}
}

// startServe runs "serve" in-process on a free loopback port and returns
// its address and output; stop ends it through its context and returns
// what run returned.
func startServe(t *testing.T, env map[string]string, args ...string) (addr string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	ready := make(chan net.Addr, 1)
	c := &cli{out: out, lookup: mapEnv(env), ready: func(a net.Addr) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped before listening: %v\n%s", err, out)
	}
	var result error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
			if code := exitCode(ctx, result); code != 0 {
				t.Errorf("serve ended with status %d: %v", code, result)
			}
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return addr, out, stop
}

// TestFindCommand: a command name of two words is found before one of one
// word, and a first word alone names its sub-commands.
func TestFindCommand(t *testing.T) {
	t.Parallel()
	table := []command{{name: "serve"}, {name: "account create"}, {name: "account list"}, {name: "account"}}
	tests := []struct {
		args     []string
		want     string
		wantRest []string
	}{
		{[]string{"serve", "--db", "x"}, "serve", []string{"--db", "x"}},
		{[]string{"account", "create", "--email", "a@b"}, "account create", []string{"--email", "a@b"}},
		{[]string{"account", "list"}, "account list", []string{}},
		{[]string{"account", "--help"}, "account", []string{"--help"}},
		{[]string{"accounts"}, "", nil},
	}
	for _, tt := range tests {
		cmd, rest := findCommand(table, tt.args)
		got := ""
		if cmd != nil {
			got = cmd.name
		}
		if got != tt.want || strings.Join(rest, " ") != strings.Join(tt.wantRest, " ") {
			t.Errorf("%v: %q %v, want %q %v", tt.args, got, rest, tt.want, tt.wantRest)
		}
	}
	if got := subCommands(table, "account"); got != "fleetgate account create, fleetgate account list" {
		t.Errorf("subCommands = %q", got)
	}
}
