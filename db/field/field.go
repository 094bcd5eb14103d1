// Package field holds the one set of rules every input field follows: on
// every screen, in the JSON API and in the db layer, a name, an e-mail, a
// phone or a password is acceptable by the same rule and refused with the
// same message, shown next to the field.
//
// Every text a person types first passes the text rule (Text): it must be
// valid UTF-8 and hold no control character (NUL, ESC, CR, LF, TAB, …; a
// multi-line field accepts line breaks and tabs) and no bidirectional
// override or isolate (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
// U+061C), which make a text display differently from what it holds.
// Passwords follow the text rule too.
package field

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"fleetgate/db/password"
)

// Limits of the fields (the forms' maxlength attributes say the same).
const (
	NameMax       = 100 // first name, last name
	EmailMax      = 254 // RFC 5321's limit of a forward path
	PhoneMax      = 40
	TokenNameMax  = 60 // the name of an API token
	SearchMax     = 100
	PhoneCharset  = "0123456789 +-()./"
	PasswordMin   = password.MinLength
	PasswordBytes = password.MaxLength
)

// Messages of the text rule.
const (
	MsgInvalidUTF8 = "This text holds bytes that are not valid text (invalid UTF-8). Type it again."
	MsgControl     = "Remove the control characters (line breaks, tabs, NUL, escape codes) from this field."
	MsgBidi        = "Remove the invisible text-direction characters (bidirectional overrides) from this field."
)

// Errors are the messages of a form, one per field name.
type Errors map[string]string

// Add keeps the first message given for a field; an empty one is ignored.
func (e Errors) Add(field, msg string) {
	if msg != "" && e[field] == "" {
		e[field] = msg
	}
}

// First returns the first field (in the order given) that has a message.
func (e Errors) First(order ...string) (field, msg string) {
	for _, f := range order {
		if m := e[f]; m != "" {
			return f, m
		}
	}
	for f, m := range e { // fields outside the order: any of them
		return f, m
	}
	return "", ""
}

// IsBidi reports whether r is a bidirectional control character.
func IsBidi(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// Text is the text rule: "" when v is acceptable, else the message.
// A multi-line field accepts line breaks (LF, CR) and tabs.
func Text(v string, multiline bool) string {
	if !utf8.ValidString(v) {
		return MsgInvalidUTF8
	}
	for _, r := range v {
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r):
			return MsgControl
		case IsBidi(r):
			return MsgBidi
		}
	}
	return ""
}

// Clean reports whether v passes the one-line text rule.
func Clean(v string) bool { return Text(v, false) == "" }

// Line checks a one-line text field: the text rule, then required (what
// names it in "Enter the <what>."), then at most max characters.
func Line(v, what string, max int, required bool) string {
	if m := Text(v, false); m != "" {
		return m
	}
	if required && strings.TrimSpace(v) == "" {
		return "Enter the " + what + "."
	}
	if utf8.RuneCountInString(v) > max {
		return fmt.Sprintf("Use at most %d characters.", max)
	}
	return ""
}

// Name checks a first or last name. Both are required on every screen:
// what is "first name" or "last name"; at most NameMax characters.
func Name(v, what string) string { return Line(v, what, NameMax, true) }

// Email checks an e-mail address: one address such as name@example.com,
// at most EmailMax characters.
func Email(e string) string {
	if m := Text(e, false); m != "" {
		return m
	}
	switch {
	case e == "":
		return "Enter an e-mail address."
	case len(e) > EmailMax:
		return fmt.Sprintf("Use at most %d characters.", EmailMax)
	}
	addr, err := mail.ParseAddress(e)
	at := strings.LastIndex(e, "@")
	if err != nil || addr.Address != e || at < 1 || !strings.Contains(e[at:], ".") || strings.ContainsAny(e, " ") {
		return "Enter an e-mail address such as name@example.com."
	}
	return ""
}

// Phone checks an optional phone number: digits, spaces and + - ( ) . /
// only, at most PhoneMax characters.
func Phone(v string) string {
	if m := Text(v, false); m != "" {
		return m
	}
	switch {
	case utf8.RuneCountInString(v) > PhoneMax:
		return fmt.Sprintf("Use at most %d characters.", PhoneMax)
	case strings.Trim(v, PhoneCharset) != "":
		return "Use digits, spaces and + - ( ) . / only."
	}
	return ""
}

// Password checks a new password for the login with e-mail email: the text
// rule, the length, the list of common passwords, and not the e-mail or
// its local part (the part before the @).
func Password(pw, email string) string {
	if m := Text(pw, false); m != "" {
		return m
	}
	if m := password.Problem(pw); m != "" {
		return m
	}
	lower := strings.ToLower(pw)
	email = strings.ToLower(strings.TrimSpace(email))
	local, _, _ := strings.Cut(email, "@")
	switch {
	case email != "" && strings.Contains(lower, email):
		return "Do not use your e-mail address in the password."
	// A local part of a few letters ("al@") is too short to mean anything.
	case utf8.RuneCountInString(local) >= 4 && strings.Contains(lower, local):
		return "Do not use the name part of your e-mail address (" + local + ") in the password."
	case local != "" && lower == local:
		return "Do not use the name part of your e-mail address (" + local + ") as the password."
	}
	return ""
}

// PasswordAgain checks the confirmation of a new password.
func PasswordAgain(pw, again string) string {
	if pw != again {
		return "The two passwords are not the same."
	}
	return ""
}

// ID reads an optional id chosen in a select: "" is 0 (none chosen); a
// positive decimal number is that id; anything else is refused with a
// message (a junk id is never taken as "none").
func ID(raw string) (int64, string) {
	if raw == "" {
		return 0, ""
	}
	if len(raw) > 18 || strings.Trim(raw, "0123456789") != "" {
		return 0, "Choose one of the offered values."
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, "Choose one of the offered values."
	}
	return n, ""
}

// OneOf checks a value chosen among fixed options.
func OneOf(v, msg string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return ""
		}
	}
	return msg
}

// SearchWords splits a search text into its words. Words that break the
// text rule cannot occur in stored text (every field refuses them), so
// ok is false when there is one: the search then finds nothing.
func SearchWords(q string) (words []string, ok bool) {
	words = strings.Fields(q)
	for _, w := range words {
		if !Clean(w) {
			return nil, false
		}
	}
	return words, true
}
