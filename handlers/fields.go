package handlers

import "fleetgate/db/field"

// The field rules (package field) under the names the setup, recovery and
// subscription forms call them by: the same rules as every other form.

func emailProblem(e string) string      { return field.Email(e) }
func nameProblem(v, what string) string { return field.Name(v, what) }

// newPasswordProblem checks a password someone chooses for their login
// and its confirmation; it names the field the message belongs to.
func newPasswordProblem(pw, again, email string) (fieldName, msg string) {
	if m := field.Password(pw, email); m != "" {
		return "password", m
	}
	if m := field.PasswordAgain(pw, again); m != "" {
		return "password_again", m
	}
	return "", ""
}
