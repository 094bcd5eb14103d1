package handlers

import (
	"errors"
	"strconv"

	"fleetgate/db"
	"fleetgate/views"
)

// Stale saves. Every edit form carries the version of the record it was
// opened on (a hidden "version" field); the db refuses a save from an
// older version. The handler then answers 409 with the same form: what
// was typed stays in the fields, the current values are shown beside
// them, and the form now carries the current version, so saving again
// applies what is typed over what is there now, knowingly.

// formVersion reads the version an edit form started from (0 when
// missing, which no record has: such a save is refused as stale).
func formVersion(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

// conflictOf is the form's view of a stale-save error, with no fields yet.
func conflictOf(err error) views.Conflict {
	var e *db.Error
	if !errors.As(err, &e) {
		return views.Conflict{}
	}
	return views.Conflict{Message: e.Message, Current: map[string]string{}}
}

// differs records, for field, the value saved now (as shown) when it is
// not the value typed.
func differs(c *views.Conflict, field, typed, current, shown string) {
	if typed != current {
		c.Current[field] = shown
	}
}
