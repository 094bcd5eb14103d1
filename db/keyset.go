package db

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Keyset (cursor) pagination: a page is read as "the next n rows after
// this key" along an index, so its cost follows the page and not how
// deep it lies or how many rows match. A cursor is an opaque string (the
// sort key of one row); a list answers the cursors of its neighbouring
// pages and the number of all matches only when that number is known
// without counting (the first page holds them all) or was asked for.

// Keyset is where a page read through an index stands.
type Keyset struct {
	Next  string // cursor of the following page; "" on the last
	Prev  string // cursor of the preceding page; "" on the first
	Total int    // number of all matches; -1 when not counted
}

// nameCursor is the cursor of a row of a list ordered by name, then id.
func nameCursor(name string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + ":" + name))
}

// parseNameCursor reads a cursor of nameCursor; ok is false for anything else.
func parseNameCursor(s string) (name string, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, false
	}
	n, name, found := strings.Cut(string(b), ":")
	if !found {
		return "", 0, false
	}
	id, err = strconv.ParseInt(n, 10, 64)
	return name, id, err == nil
}

// ValidNameCursor tells whether s is a cursor a name-ordered list gave,
// so that the API can refuse one that is not (the lists read the first
// page instead).
func ValidNameCursor(s string) bool {
	_, _, ok := parseNameCursor(s)
	return ok
}

// keysetSpec is one keyset page of a list ordered by (name, id): the
// condition and direction that select it.
type keysetSpec struct {
	after, before string
	per           int
	offset        int // legacy page numbers (offset lists); 0 with cursors
}

// bounds is the keyset condition on the list's key columns (nameCol,
// idCol) and whether the page is read backwards (before a cursor). A bad
// cursor reads the first page.
func (k keysetSpec) bounds(nameCol, idCol string) (cond string, args []any, backwards bool) {
	if name, id, ok := parseNameCursor(k.before); ok && k.before != "" {
		return "(" + nameCol + ", " + idCol + ") < (?, ?)", []any{name, id}, true
	}
	if name, id, ok := parseNameCursor(k.after); ok && k.after != "" {
		return "(" + nameCol + ", " + idCol + ") > (?, ?)", []any{name, id}, false
	}
	return "1 = 1", nil, false
}

// finish trims a page read with one row more than asked (the extra row
// tells whether there is a further page), puts a backwards page in order
// and sets the cursors. key gives a row's cursor. known is whether the
// whole list is on this page (then the total needs no count).
func finish[T any](rows []T, k keysetSpec, backwards bool, key func(T) string) ([]T, Keyset) {
	ks := Keyset{Total: -1}
	more := len(rows) > k.per
	if more {
		rows = rows[:k.per]
	}
	if backwards {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		if more && len(rows) > 0 {
			ks.Prev = key(rows[0])
		}
		if len(rows) > 0 {
			ks.Next = key(rows[len(rows)-1])
		}
		return rows, ks
	}
	if more && len(rows) > 0 {
		ks.Next = key(rows[len(rows)-1])
	}
	if (k.after != "" || k.offset > 0) && len(rows) > 0 {
		ks.Prev = key(rows[0])
	}
	if k.after == "" && k.offset == 0 && !more {
		ks.Total = len(rows)
	}
	return rows, ks
}
