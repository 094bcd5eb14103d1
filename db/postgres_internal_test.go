package db

import "testing"

func TestRebindTurnsPlaceholdersAndLike(t *testing.T) {
	cases := []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`SELECT '?' || ?, "q?" FROM t`, `SELECT '?' || $1, "q?" FROM t`},
		{`SELECT 'it''s ?', ? -- why?` + "\n" + `/* ? */ , ?`, `SELECT 'it''s ?', $1 -- why?` + "\n" + `/* ? */ , $2`},
		{`WHERE name LIKE ? ESCAPE '\' AND kind not like 'x%'`, `WHERE name ILIKE $1 ESCAPE '\' AND kind not ILIKE 'x%'`},
		{`SELECT likes, unlike, like_count FROM t`, `SELECT likes, unlike, like_count FROM t`},
		{rawSQL + `SELECT ? LIKE ?`, rawSQL + `SELECT ? LIKE ?`},
	}
	for _, c := range cases {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestRebindNamedArguments(t *testing.T) {
	got := rewrite(`UPDATE o SET a = :lease, b = :lease::text WHERE n <= :now LIMIT :limit`, map[string]int{"lease": 1, "now": 2, "limit": 3})
	want := `UPDATE o SET a = $1, b = $1::text WHERE n <= $2 LIMIT $3`
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
