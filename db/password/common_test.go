package password

import (
	"strings"
	"testing"
)

func TestProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pw   string
		want string // a part of the message; "" for acceptable
	}{
		{"", "Choose a password"},
		{"short1!", "at least 12"},
		{"ünïcödé-pw1", "at least 12"}, // 11 characters, more bytes
		{strings.Repeat("x", 201), "at most 200"},
		{"Password1234", "too common"},
		{"PASSWORD2024", "too common"},
		{"Password2024!", "too common"},
		{"!!password!!", "too common"},
		{"passwordpassword1", "too common"},
		{"qwertyuiopasdf", "too common"},
		{"1qaz2wsx3edc", "too common"},
		{"123456789012", "too common"},
		{"987654321098", "too common"},
		{"abcdefghijklm", "too common"},
		{"aaaaaaaaaaaa", "too common"},
		{"abcabcabcabc", "too common"},
		{"121212121212", "too common"},
		{"Fleetgate2025", "too common"},
		{"fleetgate-demo", "too common"},
		{"correct horse battery", ""},
		{"tram-orbit-velvet-42", ""},
		{"Sommelier in Oslo", ""},
	}
	for _, c := range cases {
		got := Problem(c.pw)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("Problem(%q) = %q, want %q", c.pw, got, c.want)
		}
	}
}

func TestCommonListIsLowerCaseAndSizeable(t *testing.T) {
	t.Parallel()
	if len(commonSet) < 300 {
		t.Fatalf("common list has %d entries", len(commonSet))
	}
	long := 0
	for p := range commonSet {
		if utf8Len(p) >= MinLength {
			long++
		}
	}
	if long < 300 {
		t.Fatalf("only %d entries of 12+ characters", long)
	}
}

func utf8Len(s string) int { return len([]rune(s)) }
