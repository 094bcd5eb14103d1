package db_test

import (
	"flag"
	"os"
	"testing"

	"fleetgate/db"
	"fleetgate/db/password"
)

// TestMain lowers the argon2id work for the tests (benchmarks keep the
// production parameters, so that login costs stay measured as deployed),
// and removes the template databases after the tests.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		password.UseTestParams()
	}
	code := m.Run()
	db.RemoveInternalTemplatesForTest()
	os.Exit(code)
}
