package main

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"fleetgate/db"
)

// fleetgate account create: an account with a new one-year subscription
// and its Owner, from the command line. When the Owner's e-mail has no
// login yet, it prints a single-use link where the Owner chooses a password.

type accountOptions struct {
	dbPath, name, ownerEmail, baseURL string
	paid                              int
}

func accountFlags(f *flags) runner {
	var o accountOptions
	dbFlag(f, &o.dbPath)
	f.String(&o.name, "name", "FLEETGATE_ACCOUNT_NAME", "", "NAME", "the new account's name (required)", checkAccountName)
	f.String(&o.ownerEmail, "owner-email", "FLEETGATE_OWNER_EMAIL", "", "EMAIL", "e-mail of the account's Owner (required)", checkOwnerEmail)
	f.String(&o.baseURL, "base-url", "FLEETGATE_BASE_URL", "http://127.0.0.1:8080", "URL", "public address of the console, for the printed link", checkBaseURL)
	f.bind("paid-vehicles", "FLEETGATE_PAID_VEHICLES", "10", "N", "vehicles the new subscription pays for", false, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return errors.New("not a number of vehicles (0-1000000)")
		}
		o.paid = n
		return nil
	})
	f.check(func() error {
		switch {
		case o.name == "":
			return fmt.Errorf("--name is required, e.g. --name %q", "Acme Fleet")
		case o.ownerEmail == "":
			return fmt.Errorf("--owner-email is required, e.g. --owner-email ana@acme.test")
		}
		return nil
	})
	return func(ctx context.Context, c *cli) error { return accountCreate(ctx, o, c) }
}

func checkAccountName(v string) error {
	v = strings.TrimSpace(v)
	if len([]rune(v)) > 100 || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("an account name has at most 100 characters and no control characters")
	}
	return nil
}

func checkOwnerEmail(v string) error {
	if v == "" {
		return nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
		return fmt.Errorf("not an e-mail address such as name@example.com")
	}
	return nil
}

// accountSubcommand reads the verb after "account": only "create" exists.
func accountSubcommand(args []string) ([]string, error) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return args, nil
	}
	if len(args) == 0 || args[0] != "create" {
		return nil, usageError{msg: "fleetgate account: say what to do: fleetgate account create --name NAME --owner-email EMAIL"}
	}
	return args[1:], nil
}

func accountCreate(ctx context.Context, o accountOptions, c *cli) error {
	d, err := db.Open(ctx, o.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	out, err := d.CreateAccountWithOwner(ctx, db.NewOwnerAccount{Name: o.name, OwnerEmail: o.ownerEmail, PaidVehicles: o.paid})
	if err != nil {
		if e := (*db.Error)(nil); errors.As(err, &e) {
			return fmt.Errorf("%s", e.Message)
		}
		return err
	}
	fmt.Fprintf(c.out, "Created the account %q (a one-year subscription for %d vehicles) with %s as its Owner.\n", out.AccountName, o.paid, out.OwnerEmail)
	if out.Token == "" {
		fmt.Fprintf(c.out, "%s already has a login: they log in with its password and find the account in the account switcher.\n", out.OwnerEmail)
		return nil
	}
	fmt.Fprintf(c.out, "Send %s this link to choose a password (it works once, until %s):\n\n  %s/reset/%s\n",
		out.OwnerEmail, out.ExpiresAt.UTC().Format("2 January 2006, 15:04 UTC"), strings.TrimRight(o.baseURL, "/"), out.Token)
	return nil
}
