package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// command is one verb of the command line. Adding a command is one entry
// here and one file with its flags function. A name may have two words
// ("account create") for a command with sub-commands.
type command struct {
	name     string
	summary  string // one line for "fleetgate --help"
	synopsis string // after "fleetgate", for the command's help
	about    string // what it does, one paragraph
	// flags declares the command's flags and returns what runs the command
	// once they are parsed and checked.
	flags func(f *flags) runner
}

// runner runs a command with its options parsed.
type runner func(ctx context.Context, env *cli) error

// commands is the table of commands, in the order --help lists them.
var commands = []command{
	{name: "serve", summary: "run the console", synopsis: "serve [flags]", flags: serveFlags,
		about: "Runs the console: opens (and migrates) the database, then serves HTTP until SIGINT or SIGTERM,\nwhich shut it down gracefully."},
	{name: "migrate", summary: "create or update the database and print its schema version", synopsis: "migrate [flags]", flags: migrateFlags,
		about: "Creates the database when missing, brings its schema up to date and prints the schema version."},
	{name: "backup", summary: "write a consistent copy of the database, also while the server runs", synopsis: "backup FILE [flags]", flags: backupFlags,
		about: "Writes a consistent copy of the database to FILE, which must not exist, while the server may keep\nrunning; then checks the copy (PRAGMA integrity_check)."},
	{name: "restore", summary: "replace the database with a backup (the server must be stopped)", synopsis: "restore FILE [flags]", flags: restoreFlags,
		about: "Checks the backup FILE (integrity_check, a schema this binary knows) and replaces the database with\nit. Refused while a server holds the database. The replaced database is kept beside it."},
	{name: "copy", summary: "copy a SQLite installation into an empty PostgreSQL database", synopsis: "copy --from FILE --to URL", flags: copyFlags,
		about: "Copies every table of the SQLite file into the PostgreSQL database (migrated first, to the file's schema version),\nin one transaction, then compares the rows of every table on both sides and prints them. The target must hold no data."},
	{name: "account", summary: "create an account and its Owner, printing the link where the Owner sets a password",
		synopsis: "account create --name NAME --owner-email EMAIL [flags]", flags: accountFlags,
		about: "Creates an account with a new one-year subscription and its Owner. When the Owner's e-mail has no login yet,\nprints a single-use link (valid 7 days) where the Owner chooses a password."},
	{name: "version", summary: "print the version and commit", synopsis: "version", flags: func(*flags) runner { return runVersion },
		about: "Prints the version and the commit it was built from (also: fleetgate --version)."},
}

// cli is what a command sees of the world: where to write, the environment
// (injectable, so tests need not change the process's environment), and,
// for tests, a hook told the address the server listens on.
type cli struct {
	out    io.Writer
	lookup func(string) (string, bool)
	ready  func(addr net.Addr)
	// stopping, for tests, is told when the server has stopped accepting
	// connections and waits for requests in progress.
	stopping func()
}

// usageError is a mistake on the command line or in the environment: main
// prints it as it is and exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode is the process status for what run returned: 0 for success and
// for an interrupted run, 2 for a usage error, 1 for anything else.
func exitCode(ctx context.Context, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return 0
	}
	return 1
}

// run runs the command line args with the process's environment.
func run(ctx context.Context, args []string, out io.Writer) error {
	return (&cli{out: out, lookup: os.LookupEnv}).run(ctx, args)
}

func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{msg: "fleetgate: no command given (see fleetgate --help)"}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(rest) > 0 {
			cmd, left := findCommand(commands, rest)
			if cmd == nil || len(left) > 0 {
				return usageError{msg: fmt.Sprintf("fleetgate: no help on %q (commands: %s)", strings.Join(rest, " "), commandNames())}
			}
			return c.runCommand(ctx, cmd, []string{"--help"})
		}
		c.writeHelp()
		return nil
	case "-version", "--version":
		return runVersion(ctx, c)
	}
	cmd, rest := findCommand(commands, args)
	if cmd == nil {
		if strings.HasPrefix(name, "-") {
			return usageError{msg: fmt.Sprintf("fleetgate: %s must come after a command, e.g. fleetgate serve %s (see fleetgate --help)", name, name)}
		}
		if subs := subCommands(commands, name); subs != "" {
			return usageError{msg: fmt.Sprintf("fleetgate: %s needs one of: %s", name, subs)}
		}
		return usageError{msg: fmt.Sprintf("fleetgate: unknown command %q (commands: %s)", name, commandNames())}
	}
	if cmd.name == "account" {
		var err error
		if rest, err = accountSubcommand(rest); err != nil {
			return err
		}
	}
	return c.runCommand(ctx, cmd, rest)
}

func (c *cli) runCommand(ctx context.Context, cmd *command, args []string) error {
	f := newFlags(cmd.name, c.lookup)
	r := cmd.flags(f)
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.writeHelp(c.out, cmd.synopsis, cmd.about)
			return nil
		}
		return err
	}
	return r(ctx, c)
}

// findCommand finds the command args start with (two words before one)
// and returns the arguments after its name.
func findCommand(table []command, args []string) (*command, []string) {
	for _, n := range []int{2, 1} {
		if len(args) < n {
			continue
		}
		name := strings.Join(args[:n], " ")
		for i := range table {
			if table[i].name == name {
				return &table[i], args[n:]
			}
		}
	}
	return nil, nil
}

// subCommands lists the commands whose name starts with word ("account
// create, account list" for "account").
func subCommands(table []command, word string) string {
	var names []string
	for _, c := range table {
		if strings.HasPrefix(c.name, word+" ") {
			names = append(names, "fleetgate "+c.name)
		}
	}
	return strings.Join(names, ", ")
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func (c *cli) writeHelp() {
	fmt.Fprintf(c.out, "Fleetgate, the access console for fleet accounts.\n\nUsage: fleetgate COMMAND [flags]\n\nCommands:\n")
	width := 0
	for _, cmd := range commands {
		width = max(width, len(cmd.name))
	}
	for _, cmd := range commands {
		fmt.Fprintf(c.out, "  %-*s  %s\n", width, cmd.name, cmd.summary)
	}
	fmt.Fprintf(c.out, "\n\"fleetgate COMMAND --help\" lists the flags of a command, their environment variables and defaults.\n")
	fmt.Fprintf(c.out, "\"fleetgate --version\" prints the version.\n")
}
