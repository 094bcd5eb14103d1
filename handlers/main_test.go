package handlers_test

import (
	"flag"
	"os"
	"testing"

	"fleetgate/db/password"
)

// TestMain lowers the argon2id work for the tests (benchmarks keep the
// production parameters, so that login costs stay measured as deployed),
// and removes the template database after the tests.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		password.UseTestParams()
	}
	code := m.Run()
	demoDB.Remove()
	emptyDB.Remove()
	os.Exit(code)
}
