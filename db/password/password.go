// Package password hashes and checks login passwords with argon2id.
package password

import (
	"sync"

	"github.com/alexedwards/argon2id"
)

// Params are OWASP's minimum recommendation for argon2id (19 MiB of memory,
// 2 passes, 1 lane), with a 16-byte salt and a 32-byte key.
var Params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

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
