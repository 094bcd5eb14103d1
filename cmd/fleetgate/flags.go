package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fleetgate/db"
)

// flags is the flag set of one command. Every flag is bound to an
// environment variable and a default (binding order: default, then the
// variable, then the command line), and every value, from either source,
// is parsed and checked before the command starts: a bad one is a usage
// error naming the flag or variable.
type flags struct {
	cmd    string
	fs     *flag.FlagSet
	lookup func(string) (string, bool)
	list   []*binding
	envErr error // the first bad environment value
	argErr error // the first bad command-line value (flag reports it too)
	checks []func() error
	args   []positional
}

// positional is a required argument of a command (backup FILE).
type positional struct {
	meta  string
	parse func(string) error
}

func newFlags(cmd string, lookup func(string) (string, bool)) *flags {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are written by run, one line each
	fs.Usage = func() {}
	return &flags{cmd: cmd, fs: fs, lookup: lookup}
}

// binding is one flag: its name, variable, default and help, and how a
// value is parsed into the command's options.
type binding struct {
	f           *flags
	name, env   string
	def, meta   string
	usage       string
	isBool      bool
	parse       func(string) error
	fromCommand bool
	fromEnv     bool
	defErr      error // the default does not work here (e.g. ./fleetgate.db is a directory)
	// shown is how a value is written in messages (nil: as it is); a
	// database address is shown without its password.
	shown func(string) string
}

// show is v as messages write it.
func (b *binding) show(v string) string {
	if b.shown != nil {
		return b.shown(v)
	}
	return v
}

func (b *binding) String() string { return b.def }

// Set parses a value from the command line.
func (b *binding) Set(v string) error {
	if err := b.parse(v); err != nil {
		if b.f.argErr == nil {
			b.f.argErr = fmt.Errorf("--%s %q: %w", b.name, b.show(v), err)
		}
		return err
	}
	b.fromCommand = true
	return nil
}

// IsBoolFlag lets a bool flag stand alone (--demo means --demo=true).
func (b *binding) IsBoolFlag() bool { return b.isBool }

// shownDefault is the default as help and README show it.
func (b *binding) shownDefault() string { return b.def }

// bind declares a flag. parse turns a text into the option (and refuses a
// bad one with a short reason); the default must parse.
func (f *flags) bind(name, env, def, meta, usage string, isBool bool, parse func(string) error) {
	f.bindShown(name, env, def, meta, usage, isBool, parse, nil)
}

// bindShown is bind with how values are shown in messages.
func (f *flags) bindShown(name, env, def, meta, usage string, isBool bool, parse func(string) error, shown func(string) string) {
	b := &binding{f: f, name: name, env: env, def: def, meta: meta, usage: usage, isBool: isBool, parse: parse, shown: shown}
	if err := parse(def); err != nil {
		b.defErr = fmt.Errorf("--%s (default %q): %w", name, def, err)
	}
	if v, ok := f.lookup(env); ok && v != "" {
		b.fromEnv = true
		if err := parse(v); err != nil && f.envErr == nil {
			f.envErr = fmt.Errorf("%s=%q: %w", env, b.show(v), err)
		}
	}
	f.fs.Var(b, name, usage)
	f.list = append(f.list, b)
}

// check adds a check of several options together, run after parsing.
func (f *flags) check(fn func() error) { f.checks = append(f.checks, fn) }

// String binds a text option; check (optional) refuses bad values.
func (f *flags) String(p *string, name, env, def, meta, usage string, check func(string) error) {
	f.bind(name, env, def, meta, usage, false, func(v string) error {
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		*p = v
		return nil
	})
}

// Bool binds a switch. The accepted words are those of strconv.ParseBool
// and yes/no, on/off.
func (f *flags) Bool(p *bool, name, env string, def bool, usage string) {
	f.bind(name, env, strconv.FormatBool(def), "", usage, true, func(v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		*p = b
		return nil
	})
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "on":
		return true, nil
	case "0", "f", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not true or false (use true, false, 1, 0, yes, no, on or off)")
}

// Proxies binds the reverse proxies whose X-Forwarded-For is believed: a
// comma-separated list of addresses and networks, only those (empty or
// false: none). "true" is refused: believing any private address would let
// every machine of the network choose its own address, and with it escape
// the login throttle.
func (f *flags) Proxies(nets *[]*net.IPNet, shown *string, name, env, usage string) {
	f.bind(name, env, "", "ADDRESSES", usage, false, func(v string) error {
		if b, err := parseBool(v); err == nil || v == "" {
			if b {
				return errors.New("name the proxies' addresses or networks instead of true, e.g. 127.0.0.1 or 10.0.0.0/8")
			}
			*nets, *shown = nil, "none"
			return nil
		}
		var list []*net.IPNet
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if ip := net.ParseIP(part); ip != nil {
				bits := 128
				if ip.To4() != nil {
					bits = 32
				}
				part = fmt.Sprintf("%s/%d", part, bits)
			}
			_, n, err := net.ParseCIDR(part)
			if err != nil {
				return errors.New("not a comma-separated list of proxy addresses or networks, e.g. 127.0.0.1 or 10.0.0.0/8")
			}
			list = append(list, n)
		}
		*nets, *shown = list, v
		return nil
	})
}

// Port binds a TCP port number (1-65535).
func (f *flags) Port(p *int, name, env string, def int, usage string) {
	f.bind(name, env, strconv.Itoa(def), "PORT", usage, false, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("not a port number (1-65535)")
		}
		*p = n
		return nil
	})
}

// Duration binds a positive duration written with its unit (30m, 168h).
func (f *flags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	f.bind(name, env, formatDuration(def), "DURATION", usage, false, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("not a duration: write a number with its unit, e.g. 90s, 30m or 168h (days are not a unit)")
		}
		if d <= 0 {
			return errors.New("must be longer than zero")
		}
		*p = d
		return nil
	})
}

// formatDuration writes 168h0m0s as 168h.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Choice binds one of a few words.
func (f *flags) Choice(p *string, name, env, def, usage string, choices ...string) {
	f.bind(name, env, def, strings.Join(choices, "|"), usage, false, func(v string) error {
		for _, c := range choices {
			if strings.EqualFold(v, c) {
				*p = c
				return nil
			}
		}
		return fmt.Errorf("not one of %s", strings.Join(choices, ", "))
	})
}

// Arg declares a required argument after the command (flags may come
// before or after it).
func (f *flags) Arg(p *string, meta string, check func(string) error) {
	f.args = append(f.args, positional{meta: meta, parse: func(v string) error {
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		*p = v
		return nil
	}})
}

// ZeroDuration binds a duration where 0 means "off" (or "keep").
func (f *flags) ZeroDuration(p *time.Duration, name, env string, def time.Duration, usage string) {
	shown := formatDuration(def)
	if def == 0 {
		shown = "0"
	}
	f.bind(name, env, shown, "DURATION", usage, false, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("not a duration: write a number with its unit, e.g. 90s, 30m or 168h (days are not a unit), or 0")
		}
		if d < 0 {
			return errors.New("must not be negative")
		}
		*p = d
		return nil
	})
}

// Count binds a whole number, zero or more.
func (f *flags) Count(p *int, name, env string, def int, usage string) {
	f.bind(name, env, strconv.Itoa(def), "N", usage, false, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("not a whole number (0 or more)")
		}
		*p = n
		return nil
	})
}

// parse reads args into the bound options. It answers flag.ErrHelp for
// -h/--help, and a usageError naming the flag, variable or argument for
// anything else that is wrong.
func (f *flags) parse(args []string) error {
	var got []string
	err := f.fs.Parse(args)
	// The flag package stops at the first argument: take it as the
	// command's next positional one and read the flags after it.
	for err == nil && len(got) < len(f.args) && len(f.fs.Args()) > 0 && f.fs.Args()[0] != "--" {
		rest := f.fs.Args()
		got = append(got, rest[0])
		err = f.fs.Parse(rest[1:])
	}
	if err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return err
		case f.argErr != nil:
			return f.usage(f.argErr.Error())
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			return f.usage(fmt.Sprintf("unknown flag %s (see fleetgate %s --help)", dashes(name), f.cmd))
		}
		if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
			return f.usage(fmt.Sprintf("%s needs a value", dashes(name)))
		}
		return f.usage(msg)
	}
	if rest := f.fs.Args(); len(rest) > 0 {
		return f.usage(f.unexpected(args, rest))
	}
	if len(got) < len(f.args) {
		return f.usage(fmt.Sprintf("missing %s (see fleetgate %s --help)", f.args[len(got)].meta, f.cmd))
	}
	for i, a := range f.args {
		if err := a.parse(got[i]); err != nil {
			return f.usage(fmt.Sprintf("%s %q: %v", a.meta, got[i], err))
		}
	}
	if f.envErr != nil {
		return f.usage(f.envErr.Error())
	}
	for _, b := range f.list {
		if b.defErr != nil && !b.fromCommand && !b.fromEnv {
			return f.usage(b.defErr.Error())
		}
	}
	for _, c := range f.checks {
		if err := c(); err != nil {
			return f.usage(err.Error())
		}
	}
	return nil
}

// unexpected explains a positional argument. The flag package stops at the
// first one, so whatever follows it was not read either; the usual cause
// is a value given to a switch with a space (--demo true).
func (f *flags) unexpected(args, rest []string) string {
	msg := fmt.Sprintf("unexpected argument %q", rest[0])
	if len(rest) > 1 {
		msg += fmt.Sprintf(" (and %d more after it, not read)", len(rest)-1)
	}
	if i := len(args) - len(rest); i > 0 {
		prev := strings.TrimLeft(args[i-1], "-")
		if b := f.lookupBinding(prev); b != nil && b.isBool && !strings.Contains(prev, "=") {
			msg += fmt.Sprintf(": --%s takes a value only after \"=\": write --%s=%s", b.name, b.name, rest[0])
			return msg
		}
	}
	return msg + fmt.Sprintf(": fleetgate %s takes only flags", f.cmd)
}

func (f *flags) lookupBinding(name string) *binding {
	for _, b := range f.list {
		if b.name == name {
			return b
		}
	}
	return nil
}

func (f *flags) usage(msg string) error {
	return usageError{msg: "fleetgate " + f.cmd + ": " + msg}
}

func dashes(name string) string { return "--" + strings.TrimLeft(name, "-") }

// writeHelp lists the command's flags with their variables and defaults.
func (f *flags) writeHelp(w io.Writer, synopsis, about string) {
	fmt.Fprintf(w, "Usage: fleetgate %s\n\n%s\n", synopsis, about)
	if len(f.list) == 0 {
		return
	}
	fmt.Fprintf(w, "\nFlags (each can be set by its environment variable instead; the flag wins):\n")
	for _, b := range f.list {
		head := "  --" + b.name
		switch {
		case strings.HasPrefix(b.meta, "["):
			head += b.meta
		case b.meta != "":
			head += " " + b.meta
		}
		fmt.Fprintf(w, "%s\n      %s\n      env %s", head, b.usage, b.env)
		if d := b.shownDefault(); d != "" {
			fmt.Fprintf(w, ", default %s", d)
		}
		fmt.Fprintln(w)
	}
}

// Checks of single values, shared by the commands.

// checkAddr accepts host:port with a numeric port (an empty host listens
// on every interface; port 0 picks a free one).
func checkAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("not an address: write host:port, e.g. 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number (0-65535)", port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("host %q is not a host name or address", host)
	}
	return nil
}

// checkDBAddr accepts a PostgreSQL address (postgres://… or
// postgresql://…) that parses, or else the path of an SQLite file
// (checkDBPath).
func checkDBAddr(v string) error {
	if !db.IsPostgres(v) {
		return checkDBPath(v)
	}
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" {
		return errors.New("not a PostgreSQL address, e.g. postgres://fleetgate@db.example.com/fleetgate (special characters of the password %-encoded)")
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("names no server: write postgres://USER@HOST/DATABASE, or ?host=/run/postgresql for a unix socket")
	}
	return nil
}

// checkDBPath accepts the path of an SQLite file that can be created or
// opened: not empty, not a directory, in a directory that exists, and
// without the characters that would end the file name inside the driver's
// URI ("?" and "#").
func checkDBPath(v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return errors.New("is empty: give the database file, e.g. fleetgate.db")
	case strings.ContainsAny(v, "?#"):
		return errors.New("contains ? or #, which SQLite would read as the end of the file name: rename the file")
	case v == ":memory:" || strings.HasPrefix(v, "file:"):
		return errors.New("must be a plain file path (an in-memory database would be empty for every connection)")
	}
	if st, err := os.Stat(v); err == nil && st.IsDir() {
		return errors.New("is a directory: give a file inside it, e.g. " + filepath.Join(v, "fleetgate.db"))
	}
	dir := filepath.Dir(v)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("its directory %s does not exist: create it first", dir)
	case err != nil:
		return fmt.Errorf("its directory %s cannot be read: %v", dir, errors.Unwrap(err))
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// checkBaseURL accepts an absolute http(s) address without query or fragment.
func checkBaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("not an http(s) address, e.g. https://fleet.example.com")
	}
	return nil
}

// checkHost accepts a host name or address without a port.
func checkHost(v string) error {
	if strings.ContainsAny(v, " /:") && net.ParseIP(v) == nil {
		return errors.New("not a host name (give the port with its own flag)")
	}
	return nil
}
