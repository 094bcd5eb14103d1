package password

import "testing"

func TestHashAndCheck(t *testing.T) {
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
