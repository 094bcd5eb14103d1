package field

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"Ann Lee", false, ""},
		{"Zoë Ångström-Łukasz 李", false, ""},
		{"a\x00b", false, MsgControl},
		{"a\x1bb", false, MsgControl},
		{"a\rb", false, MsgControl},
		{"a\nb", false, MsgControl},
		{"a\tb", false, MsgControl},
		{"a\u0085b", false, MsgControl},
		{"a\x7fb", false, MsgControl},
		{"a\nb\tc", true, ""},
		{"a\x00b", true, MsgControl},
		{"\xff\xfe", false, MsgInvalidUTF8},
		{"ab\xc3", true, MsgInvalidUTF8},
		{"evil\u202egnp.exe", false, MsgBidi},
		{"x\u202ay", false, MsgBidi},
		{"x\u2066y", false, MsgBidi},
		{"x\u2069y", false, MsgBidi},
		{"x\u200fy", false, MsgBidi},
		{"x\u061cy", true, MsgBidi},
	} {
		if got := Text(tc.in, tc.multiline); got != tc.want {
			t.Errorf("Text(%q, %v) = %q, want %q", tc.in, tc.multiline, got, tc.want)
		}
	}
}

func TestFieldRules(t *testing.T) {
	long := strings.Repeat("a", 101)
	for _, tc := range []struct {
		name, got, want string
	}{
		{"name ok", Name("Ann", "first name"), ""},
		{"name empty", Name("", "first name"), "Enter the first name."},
		{"name blank", Name("  ", "last name"), "Enter the last name."},
		{"name long", Name(long, "first name"), "Use at most 100 characters."},
		{"name 100 runes", Name(strings.Repeat("é", 100), "first name"), ""},
		{"name NUL", Name("A\x00", "first name"), MsgControl},
		{"name bidi", Name("A\u202eB", "first name"), MsgBidi},
		{"name bad utf8", Name("A\xff", "first name"), MsgInvalidUTF8},
		{"email ok", Email("ann@example.com"), ""},
		{"email empty", Email(""), "Enter an e-mail address."},
		{"email no dot", Email("ann@example"), "Enter an e-mail address such as name@example.com."},
		{"email display name", Email("Ann <ann@example.com>"), "Enter an e-mail address such as name@example.com."},
		{"email long", Email(strings.Repeat("a", 250) + "@x.io"), "Use at most 254 characters."},
		{"email LF", Email("ann@example.com\nBcc: x@y.z"), MsgControl},
		{"email bidi", Email("ann\u202e@example.com"), MsgBidi},
		{"phone ok", Phone("+1 (555) 123-4567"), ""},
		{"phone slash", Phone("030/1234.56"), ""},
		{"phone empty", Phone(""), ""},
		{"phone letters", Phone("call me"), "Use digits, spaces and + - ( ) . / only."},
		{"phone long", Phone(strings.Repeat("1", 41)), "Use at most 40 characters."},
		{"phone NUL", Phone("1\x002"), MsgControl},
		{"password ok", Password("correct horse battery", "ann@example.com"), ""},
		{"password empty", Password("", "ann@example.com"), "Choose a password."},
		{"password short", Password("short", "ann@example.com"), "Use at least 12 characters."},
		{"password long", Password(strings.Repeat("x", 201), "ann@example.com"), "Use at most 200 characters."},
		{"password common", Password("password1234", "ann@example.com"), "This password is too common: attackers try it first. Choose a less predictable one, for example a few unrelated words."},
		{"password email", Password("Ann@Example.com", "ann@example.com"), "Do not use your e-mail address in the password."},
		{"password local part", Password("xx-johnsmith-yy-42", "johnsmith@example.com"), "Do not use the name part of your e-mail address (johnsmith) in the password."},
		{"password short local part", Password("correct horse battery", "or@example.com"), ""},
		{"password NUL", Password("correct horse\x00battery", "ann@example.com"), MsgControl},
		{"password ESC", Password("correct horse\x1bbattery", "ann@example.com"), MsgControl},
		{"password CR", Password("correct horse\rbattery", "ann@example.com"), MsgControl},
		{"password LF", Password("correct horse\nbattery", "ann@example.com"), MsgControl},
		{"password bidi", Password("correct horse\u202ebattery", "ann@example.com"), MsgBidi},
		{"again", PasswordAgain("a", "b"), "The two passwords are not the same."},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestID(t *testing.T) {
	for _, tc := range []struct {
		in  string
		id  int64
		bad bool
	}{
		{"", 0, false}, {"0", 0, false}, {"12", 12, false},
		{"abc", 0, true}, {"-3", 0, true}, {"1.5", 0, true}, {" 1", 0, true},
		{"99999999999999999999", 0, true}, {"+1", 0, true}, {"1\x00", 0, true},
	} {
		id, msg := ID(tc.in)
		if id != tc.id || (msg != "") != tc.bad {
			t.Errorf("ID(%q) = %d, %q", tc.in, id, msg)
		}
	}
}

func TestSearchWords(t *testing.T) {
	if w, ok := SearchWords(" van  12 "); !ok || len(w) != 2 {
		t.Errorf("%v %v", w, ok)
	}
	if _, ok := SearchWords("a\x00b van"); ok {
		t.Error("NUL word accepted")
	}
}
