package db

import (
	"strings"

	"fleetgate/db/field"
)

// The inputs of the forms that create or change people. Each has one
// Validate, built from the field rules (package field): the handlers run
// it to re-render the form with a message per field, the db runs it again
// before writing, so no screen and no caller can store what another refuses.

// Messages of the choices the person forms share.
const (
	msgRole    = "Choose a role."
	msgChannel = "Choose web, mobile or both."
	msgAccess  = "Choose all vehicles or selected vehicles."
)

// personErrors checks a login's names and phone, the same on every screen:
// first and last name both required, the phone optional.
func personErrors(first, last, phone string) field.Errors {
	errs := field.Errors{}
	errs.Add("first_name", field.Name(first, "first name"))
	errs.Add("last_name", field.Name(last, "last name"))
	errs.Add("phone", field.Phone(phone))
	return errs
}

// invalid turns a form's messages into the error of its first field
// (nil when there is none).
func invalid(errs field.Errors, order ...string) error {
	if len(errs) == 0 {
		return nil
	}
	f, m := errs.First(order...)
	return FieldError(f, "%s", m)
}

var personOrder = []string{"first_name", "last_name", "email", "phone", "password", "role_id", "channel", "vehicle_access"}

// Clean trims the typed values.
func (e *MemberEdit) Clean() {
	e.FirstName, e.LastName, e.Phone = strings.TrimSpace(e.FirstName), strings.TrimSpace(e.LastName), strings.TrimSpace(e.Phone)
}

// Validate returns a message per field of the member form that is not acceptable.
func (e MemberEdit) Validate() field.Errors {
	errs := personErrors(e.FirstName, e.LastName, e.Phone)
	if e.RoleID <= 0 {
		errs.Add("role_id", msgRole)
	}
	errs.Add("channel", field.OneOf(e.Channel, msgChannel, "web", "mobile", "both"))
	return errs
}

// Clean trims the typed values.
func (np *NewPerson) Clean() {
	np.FirstName, np.LastName = strings.TrimSpace(np.FirstName), strings.TrimSpace(np.LastName)
	np.Phone, np.Email = strings.TrimSpace(np.Phone), strings.TrimSpace(np.Email)
	if np.Channel == "" {
		np.Channel = "web"
	}
	if np.VehicleAccess == "" {
		np.VehicleAccess = "selected"
	}
}

// Validate returns a message per field of the add-person form that is not
// acceptable (the password is checked as typed, before it is hashed:
// field.Password).
func (np NewPerson) Validate() field.Errors {
	errs := personErrors(np.FirstName, np.LastName, np.Phone)
	errs.Add("email", field.Email(np.Email))
	if np.RoleID <= 0 {
		errs.Add("role_id", msgRole)
	}
	errs.Add("channel", field.OneOf(np.Channel, msgChannel, "web", "mobile", "both"))
	errs.Add("vehicle_access", field.OneOf(np.VehicleAccess, msgAccess, "all", "selected"))
	return errs
}

// Validate returns a message per field of the invitation form that is not acceptable.
func (ni NewInvitation) Validate() field.Errors {
	errs := field.Errors{}
	errs.Add("email", field.Email(strings.TrimSpace(ni.Email)))
	if ni.RoleID <= 0 {
		errs.Add("role_id", msgRole)
	}
	errs.Add("channel", field.OneOf(ni.Channel, msgChannel, "web", "mobile", "both"))
	errs.Add("vehicle_access", field.OneOf(ni.VehicleAccess, msgAccess, "all", "selected"))
	return errs
}

// Validate returns a message per field of the acceptance form: a new
// login needs both names (its password is checked as typed: field.Password).
func (acc Acceptance) Validate() field.Errors {
	if acc.Existing {
		return field.Errors{}
	}
	errs := field.Errors{}
	errs.Add("first_name", field.Name(strings.TrimSpace(acc.FirstName), "first name"))
	errs.Add("last_name", field.Name(strings.TrimSpace(acc.LastName), "last name"))
	return errs
}

// ProfileEdit is what "My profile" changes of one's own login.
type ProfileEdit struct {
	FirstName, LastName, Phone string
}

// Clean trims the typed values.
func (p *ProfileEdit) Clean() {
	p.FirstName, p.LastName, p.Phone = strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName), strings.TrimSpace(p.Phone)
}

// Validate returns a message per field of the profile form that is not acceptable.
func (p ProfileEdit) Validate() field.Errors { return personErrors(p.FirstName, p.LastName, p.Phone) }
