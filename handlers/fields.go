package handlers

import "fleetgate/db/field"

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
