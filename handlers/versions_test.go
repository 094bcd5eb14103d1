package handlers_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// formVersionOn reads, from the page at page, the version carried by the
// form that posts to action, as a browser would send it.
func (c *client) formVersionOn(t testing.TB, page, action string) string {
	t.Helper()
	res := c.get(page)
	i := strings.Index(res.body, `action="`+html.EscapeString(action)+`"`)
	if i < 0 {
		t.Fatalf("%s: no form posting to %s (status %d)", page, action, res.status)
	}
	m := versionField.FindStringSubmatch(res.body[i:])
	if m == nil {
		t.Fatalf("%s: the form posting to %s carries no version", page, action)
	}
	return m[1]
}

// postEdit posts an edit form to action as a browser that opened page
// just before would: with the version that page carries.
func (c *client) postEdit(t testing.TB, page, action string, v url.Values) response {
	t.Helper()
	v = clone(v)
	if v.Get("version") == "" {
		v.Set("version", c.formVersionOn(t, page, action))
	}
	return c.postForm(action, v)
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
