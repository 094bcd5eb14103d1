package password

import "testing"

func TestHashAndCheck(t *testing.T) {
	t.Parallel()
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !Check("correct horse battery", h) || Check("correct horse batterz", h) || Check("x", "not a hash") {
		t.Fatal("check is wrong")
	}
	if h2, _ := Hash("correct horse battery"); h2 == h {
		t.Fatal("same salt twice")
	}
}

// BenchmarkLogin is the password work of one login (argon2id verify).
func BenchmarkLogin(b *testing.B) {
	h, _ := Hash("fleetgate-demo")
	for b.Loop() {
		Check("fleetgate-demo", h)
	}
}

// BenchmarkUnknownEmail is the same work done for an e-mail with no login.
func BenchmarkUnknownEmail(b *testing.B) {
	for b.Loop() {
		CheckNobody("fleetgate-demo")
	}
}

// The production parameters are OWASP's minimum for argon2id; tests may
// lower Params, never Production.
func TestProductionParams(t *testing.T) {
	t.Parallel()
	p := Production
	if p.Memory != 19*1024 || p.Iterations != 2 || p.Parallelism != 1 || p.SaltLength != 16 || p.KeyLength != 32 {
		t.Fatalf("production argon2id parameters changed: %+v", p)
	}
	if Params != &Production {
		t.Fatal("Params must default to Production")
	}
	h, _ := Hash("x")
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; len(h) < len(want) || h[:len(want)] != want {
		t.Fatalf("hash %q does not use the production parameters", h)
	}
}
