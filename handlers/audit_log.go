package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

const auditPerPage = 50

// auditLog is the audit log page and, for htmx, its results fragment:
// who did what to whom and when, filterable by person and kind of change.
func (s *Server) auditLog(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	f, who, err := s.auditQuery(c)
	if err != nil {
		return err
	}
	p := views.AuditPage{Who: who, Kind: f.Kind, ActorID: max(f.ActorID, 0), From: f.From, To: f.To, CanExport: a.Can(perm.ReportsExport)}
	// One page read through the index from a cursor (an event id); the
	// count of all matches only when asked for.
	f.Page, f.PerPage = queryInt(c, "page"), auditPerPage
	f.After, f.Before = clip(c.QueryParam("after"), 30), clip(c.QueryParam("before"), 30)
	f.Count = c.QueryParam("count") == "1"
	entries, ks, err := s.db.AuditPage(ctx, a, f)
	if err != nil {
		return err
	}
	// The person field suggests the people of this page (never the whole
	// account's members: its cost follows the page).
	seen := map[int64]bool{}
	for _, e := range entries {
		p.Rows = append(p.Rows, views.AuditRow{Entry: e, Changes: auditChanges(e.Before, e.After)})
		if e.ActorID != 0 && !seen[e.ActorID] && len(seen) < auditSuggestions {
			seen[e.ActorID] = true
			p.Suggest = append(p.Suggest, db.Person{ID: e.ActorID, Name: e.ActorName})
		}
	}
	params := url.Values{"kind": {p.Kind}, "from": {p.From}, "to": {p.To}}
	if p.ActorID != 0 {
		params.Set("person", strconv.FormatInt(p.ActorID, 10))
	} else if who.Text != "" {
		params.Set("who", who.Text)
	}
	p.Pager = views.Pager{Keyset: true, Next: ks.Next, Prev: ks.Prev, Total: ks.Total, Shown: len(entries), PerPage: auditPerPage,
		Base: "/audit", Params: params}
	if hxTarget(c) == "audit-results" {
		return render(c, http.StatusOK, views.AuditResults(p))
	}
	p.Shell = s.shell(c, "Audit log", "/audit")
	return render(c, http.StatusOK, views.Audit(p))
}

// auditSuggestions is how many people the person field suggests, and
// how many matches of a text it offers to pick from.
const auditSuggestions = 20

// auditDay keeps a date filter only if it is a date.
func auditDay(s string) string {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return ""
	}
	return s
}

// auditQuery reads the log's filter from the query string: a person of
// the account, a kind, and a date range; what is not valid is no filter.
// The person is named by id (person=, as links give it) or by the text
// of the page's person field (who=: a name or e-mail), looked up alone,
// never by reading all the account's members. A text that names no one
// filters to nothing; one that names several filters nothing and the
// page offers them to pick from (who.Matches).
func (s *Server) auditQuery(c echo.Context) (db.AuditFilter, views.AuditWho, error) {
	ctx, a := c.Request().Context(), actor(c)
	f := db.AuditFilter{Kind: auditKind(c.QueryParam("kind")), From: auditDay(c.QueryParam("from")), To: auditDay(c.QueryParam("to"))}
	var who views.AuditWho
	if id, err := strconv.ParseInt(c.QueryParam("person"), 10, 64); err == nil && id > 0 {
		people, err := s.db.PeopleByID(ctx, a, id)
		if err != nil {
			return f, who, err
		}
		if len(people) == 1 {
			f.ActorID, who.Found, who.Text = id, true, people[0].Name
			return f, who, nil
		}
	}
	who.Text = clip(strings.TrimSpace(c.QueryParam("who")), 100)
	if who.Text == "" {
		return f, who, nil
	}
	people, err := s.db.FindPeople(ctx, a, who.Text, auditSuggestions+1)
	if err != nil {
		return f, who, err
	}
	// A name or e-mail given whole picks its person among several.
	var exact []db.Person
	for _, m := range people {
		if strings.EqualFold(m.Name, who.Text) {
			exact = append(exact, m)
		}
	}
	if len(exact) == 1 {
		people = exact
	}
	switch len(people) {
	case 0:
		f.ActorID = -1 // no one: no event
	case 1:
		f.ActorID, who.Found, who.Text = people[0].ID, true, people[0].Name
	default:
		who.Matches, who.More = people[:min(len(people), auditSuggestions)], len(people) > auditSuggestions
	}
	return f, who, nil
}

// auditKind keeps a kind filter only if it looks like a kind or a prefix
// of kinds ("role." or "member.add"); anything else means no filter.
func auditKind(k string) string {
	if k == "" || len(k) > 40 {
		return ""
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '.') {
			return ""
		}
	}
	return k
}

// auditChanges lays an event's before and after out field by field when
// both are JSON objects (or absent); otherwise it returns nil and the page
// shows the two texts side by side.
func auditChanges(before, after string) []views.AuditChange {
	if before == "" && after == "" {
		return nil
	}
	b, okB := jsonObject(before)
	a, okA := jsonObject(after)
	if !okB || !okA {
		return nil
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]views.AuditChange, 0, len(names))
	for _, k := range names {
		bv, av := auditValue(b, k), auditValue(a, k)
		out = append(out, views.AuditChange{Field: strings.ReplaceAll(k, "_", " "), Before: bv, After: av, Changed: bv != av})
	}
	return out
}

func jsonObject(s string) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	if s == "" {
		return m, true
	}
	return m, json.Unmarshal([]byte(s), &m) == nil
}

// auditValue shows a JSON value as a person reads it: strings without
// quotes, absent values as a dash.
func auditValue(m map[string]json.RawMessage, k string) string {
	raw, ok := m[k]
	if !ok {
		return "—"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
