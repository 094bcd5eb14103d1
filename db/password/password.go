// Package password hashes and checks login passwords with argon2id.
package password

import (
	"sync"

	"github.com/alexedwards/argon2id"
)

// Production are OWASP's minimum recommendation for argon2id (19 MiB of
// memory, 2 passes, 1 lane), with a 16-byte salt and a 32-byte key.
var Production = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Params are the parameters new hashes get: Production, unless a test
// binary lowered them with UseTestParams.
var Params = &Production

// UseTestParams makes hashing nearly free. Only test binaries call it (from
// TestMain, before any test runs): under the race detector one production
// hash takes a second, and the suite hashes hundreds of passwords. Checking
// a hash always uses the parameters stored in it.
func UseTestParams() {
	cheap := argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	Params = &cheap
}

// Hash returns the encoded argon2id hash of pw.
func Hash(pw string) (string, error) { return argon2id.CreateHash(pw, Params) }

// Check reports whether pw matches the encoded hash.
func Check(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

var (
	dummyOnce sync.Once
	dummy     string
)

// CheckNobody does the same work as Check for a login that does not exist,
// so that the time of a failed login does not tell whether the e-mail is known.
func CheckNobody(pw string) {
	dummyOnce.Do(func() { dummy, _ = Hash("no such user, no such password") })
	Check(pw, dummy)
}
