// Command fleetgate runs the Fleetgate console.
//
//	fleetgate serve [flags]     run the console
//	fleetgate migrate [flags]   create or update the database (--dry-run: list what would run)
//	fleetgate backup FILE       a consistent copy of the database, also while the server runs
//	fleetgate restore FILE      replace the database with a checked backup (server stopped)
//	fleetgate copy --from FILE --to URL   copy a SQLite installation into an empty PostgreSQL database
//	fleetgate version           print the version (also --version)
//
// Each command lists its flags with "fleetgate COMMAND --help"; every flag
// can also be set by its environment variable (FLEETGATE_ADDR, FLEETGATE_DB,
// …). The commands are declared in commands.go, each in its own file.
//
// Exit status: 0 on success and after a clean shutdown on SIGINT/SIGTERM,
// 2 for a bad flag, argument or environment value, 1 for any other error.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	code := exitCode(ctx, err)
	switch code {
	case 2:
		fmt.Fprintln(os.Stderr, err)
	case 1:
		fmt.Fprintln(os.Stderr, "fleetgate:", err)
	}
	os.Exit(code)
}
