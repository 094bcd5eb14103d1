// Package views renders Fleetgate's pages and htmx fragments with templ.
// Views take plain typed structs built by the handlers; they never reach
// the database or the request.
package views

import (
	"fmt"
	"net/url"
	"strconv"
)

// Shell is what every console page's frame needs.
type Shell struct {
	Title       string
	Section     string // href of the active sidebar entry
	CSRF        string
	UserName    string
	UserEmail   string
	AccountName string
	RoleName    string
	Accounts    []AccountChoice
	Nav         []NavItem
	Flash       []Flash
	PreviewOf   string   // set while previewing the console as another member
	ReadOnly    string   // why the account is read-only (its subscription ended), naming who can renew
	Warnings    []string // subscription warnings for those who may see it
}

// AccountChoice is one entry of the account switcher.
type AccountChoice struct {
	MemberID int64
	Name     string
	Role     string
	Current  bool
}

// NavItem is one sidebar entry.
type NavItem struct {
	Href  string
	Label string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string // "ok" or "error"
	Text string
}

// Pager describes a paginated list.
type Pager struct {
	Page, Pages, Total, PerPage int
	Base                        string     // path of the list
	Params                      url.Values // the current filter, without "page"
	// Keyset lists page with cursors instead of numbers: Next and Prev
	// are the neighbouring pages' cursors ("" at an end), Shown the rows
	// on this page, and Total is -1 when nobody asked for the count.
	Keyset     bool
	Next, Prev string
	Shown      int
}

// CursorURL is the list's address at the page after (key "after") or
// before (key "before") a cursor.
func (p Pager) CursorURL(key, cursor string) string {
	v := p.values()
	v.Set(key, cursor)
	return p.Base + "?" + v.Encode()
}

// CountURL is the list's first page with the count of all matches.
func (p Pager) CountURL() string {
	v := p.values()
	v.Set("count", "1")
	return p.Base + "?" + v.Encode()
}

func (p Pager) values() url.Values {
	v := url.Values{}
	for k, vs := range p.Params {
		for _, x := range vs {
			if x != "" {
				v.Add(k, x)
			}
		}
	}
	return v
}

// URL returns the list's address at page p.
func (p Pager) URL(page int) string {
	v := url.Values{}
	for k, vs := range p.Params {
		for _, x := range vs {
			if x != "" {
				v.Add(k, x)
			}
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return p.Base
	}
	return p.Base + "?" + v.Encode()
}

// Range tells which rows the page shows, e.g. "26–50 of 10,000", or for
// a keyset list "25 shown" ("1–25 of 10,000" on the first page when
// counted, "25 shown of 10,000" further on).
func (p Pager) Range() string {
	if p.Keyset {
		switch {
		case p.Shown == 0:
			return "No results"
		case p.Total >= 0 && p.Prev == "":
			return fmt.Sprintf("1–%s of %s", thousands(p.Shown), thousands(p.Total))
		case p.Total >= 0:
			return fmt.Sprintf("%s shown of %s", thousands(p.Shown), thousands(p.Total))
		}
		return thousands(p.Shown) + " shown"
	}
	if p.Total == 0 {
		return "No results"
	}
	from := (p.Page-1)*p.PerPage + 1
	to := min(p.Page*p.PerPage, p.Total)
	return fmt.Sprintf("%s–%s of %s", thousands(from), thousands(to), thousands(p.Total))
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
