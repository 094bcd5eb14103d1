package handlers_test

import (
	"net/url"
	"strings"
	"testing"
)

// keysetWalk follows a keyset list's Next links from first (as htmx
// fragment requests to target) to the end, then its Previous links back
// to the start. It checks that every link keeps the filter params keep,
// and answers the rows (by rowSel's text) seen going forward and, in page
// order, going back.
func keysetWalk(t *testing.T, c *client, first, target, rowSel string, keep url.Values) (forward, backward []string, pages int) {
	t.Helper()
	checkKept := func(href string) {
		t.Helper()
		u, err := url.Parse(href)
		if err != nil {
			t.Fatalf("link %q: %v", href, err)
		}
		for k := range keep {
			if u.Query().Get(k) != keep.Get(k) {
				t.Fatalf("link %q lost %s=%q", href, k, keep.Get(k))
			}
		}
	}
	href := first
	var pagesBack [][]string
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("no end going forward")
		}
		res := c.htmx(href, target)
		if res.status != 200 || strings.Contains(res.body, "<html") {
			t.Fatalf("%s: %d", href, res.status)
		}
		forward = append(forward, res.find(rowSel)...)
		pages++
		next, ok := res.doc().Find("a[rel=next]").Attr("hx-get")
		if !ok {
			// The last page goes back from here.
			pagesBack = append(pagesBack, res.find(rowSel))
			prev, ok := res.doc().Find("a[rel=prev]").Attr("hx-get")
			for ok {
				checkKept(prev)
				if len(pagesBack) > 100 {
					t.Fatal("no end going back")
				}
				r := c.htmx(prev, target)
				if r.status != 200 {
					t.Fatalf("%s: %d", prev, r.status)
				}
				pagesBack = append(pagesBack, r.find(rowSel))
				prev, ok = r.doc().Find("a[rel=prev]").Attr("hx-get")
			}
			break
		}
		checkKept(next)
		href = next
	}
	for i := len(pagesBack) - 1; i >= 0; i-- {
		backward = append(backward, pagesBack[i]...)
	}
	return forward, backward, pages
}

// onceEach fails unless rows holds each of want exactly once, in order.
func onceEach(t *testing.T, what string, rows, want []string) {
	t.Helper()
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: %d rows %v, want %d %v", what, len(rows), rows, len(want), want)
	}
}
