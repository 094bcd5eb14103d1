package db_test

import (
	"flag"
	"os"
	"testing"

	"fleetgate/db/password"
)

// TestMain lowers the argon2id work for the tests (benchmarks keep the
// production parameters, so that login costs stay measured as deployed).
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		password.UseTestParams()
	}
	os.Exit(m.Run())
}
