package db

import (
	"errors"
	"fmt"
	"strings"

	"fleetgate/db/field"
)

// Code classifies an error for the handlers: each maps to one HTTP status.
type Code string

const (
	ENotFound  Code = "not_found" // absent, or outside the actor's reach
	EConflict  Code = "conflict"  // a uniqueness or version clash
	EInvalid   Code = "invalid"   // bad input; Field names the form field
	EForbidden Code = "forbidden" // a rule of access refuses it
	EThrottled Code = "throttled" // too many attempts; RetryAfter seconds
)

// Error carries a message that is safe to show to the user.
type Error struct {
	Code       Code
	Field      string
	Message    string
	RetryAfter int
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds a safe error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an EInvalid error about one form field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or "" for an internal error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// SafeMessage is the message of err that may be shown to a user: that of
// a *Error anywhere in its chain, else a general sentence.
func SafeMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "The server could not answer. Try again in a moment."
}

// notFound is the one answer for "absent" and "not yours to see".
func notFound(what string) *Error { return Errorf(ENotFound, "%s not found.", what) }

// textProblem is the one text rule of every one-line field (see package
// field): "" when s is acceptable, else the message for the field.
func textProblem(s string) string { return field.Text(s, false) }

// squeeze trims s and collapses runs of spaces into one. Only spaces: a
// line break or tab stays, for the text rule to refuse.
func squeeze(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\u00a0' }), " ")
}
