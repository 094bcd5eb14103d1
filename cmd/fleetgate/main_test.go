package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"fleetgate/db/dbtest"
	"fleetgate/db/password"
)

// The template databases, built once per test binary (migrating from
// empty once): every test that is not about migrating or first start
// serves or opens a copy of its own.
var (
	// migratedDB is an empty, migrated database.
	migratedDB = dbtest.Migrated()
	// demoDB is the migrated database with the demo account.
	demoDB = dbtest.DemoFrom(migratedDB)
)

// TestMain lowers the argon2id work for the tests (benchmarks keep the
// production parameters, so that login costs stay measured as deployed),
// says once when the browser tests cannot run, and closes the shared
// Chromium and removes the template databases after the tests.
func TestMain(m *testing.M) {
	if os.Getenv(asFleetgate) == "1" {
		// This binary started as the fleetgate command by a test (see
		// startChild): serve, and exit as fleetgate does.
		password.UseTestParams()
		main()
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		password.UseTestParams()
	}
	if chromePath() == "" {
		if os.Getenv("FLEETGATE_E2E") == "required" {
			fmt.Fprintln(os.Stderr, "browser tests fail: FLEETGATE_E2E=required but "+chromiumHint)
		} else {
			fmt.Fprintln(os.Stderr, noChromium)
		}
	}
	code := m.Run()
	stopChrome()
	demoDB.Remove()
	migratedDB.Remove()
	os.Exit(code)
}
